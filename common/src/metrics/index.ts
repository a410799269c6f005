import http from 'node:http';
import { listen } from '../http/listen';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per process. Services running in one process (the test stack) share it, so every
 * metric is created here once and labelled instead of being registered per service.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpDuration = new Histogram({
  name: 'market_http_request_duration_seconds',
  help: 'HTTP request latency by route template',
  labelNames: ['service', 'method', 'route', 'status'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const rpcDuration = new Histogram({
  name: 'market_rpc_client_duration_seconds',
  help: 'RPC call latency as the caller sees it, by method and outcome',
  labelNames: ['method', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const rpcHandled = new Counter({
  name: 'market_rpc_handled_total',
  help: 'RPC requests handled by method and outcome',
  labelNames: ['method', 'outcome'] as const,
  registers: [registry],
});

export const cacheLookups = new Counter({
  name: 'market_cache_lookups_total',
  help: 'Gateway read-cache lookups',
  labelNames: ['resource', 'result'] as const,
  registers: [registry],
});

export const rateLimitRejections = new Counter({
  name: 'market_rate_limit_rejections_total',
  help: 'Requests refused by the rate limiter',
  registers: [registry],
});

export const domainEvents = new Counter({
  name: 'market_domain_events_total',
  help: 'Business outcomes: orders expired, payments succeeded or declined, ...',
  labelNames: ['event'] as const,
  registers: [registry],
});

export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export interface OpsServerOptions {
  port: number;
  host?: string;
  /** Resolves when the process can do its work; its failures are listed in the 503 body. */
  readiness: () => Promise<Record<string, boolean>>;
}

/** The internal port of an RPC-only service: /healthz, /readyz and /metrics. */
export async function startOpsServer(opts: OpsServerOptions): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url === '/healthz') return send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
      if (req.url === '/readyz') {
        const checks = await opts.readiness();
        const ok = Object.values(checks).every(Boolean);
        return send(res, ok ? 200 : 503, 'application/json', JSON.stringify({ status: ok ? 'ready' : 'not_ready', checks }));
      }
      if (req.url === '/metrics') {
        const { contentType, body } = await metricsText();
        return send(res, 200, contentType, body);
      }
      return send(res, 404, 'application/json', JSON.stringify({ status: 404 }));
    })().catch(() => send(res, 500, 'application/json', '{"status":500}'));
  });
  return listen(server, opts.port, opts.host ?? '0.0.0.0', 'the ops server (METRICS_PORT)');
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}
