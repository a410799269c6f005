import http from 'node:http';
import { listen } from '../http/listen';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { dependenciesResponse, type DependencyReport, HEALTH_HEADERS, HEALTH_PATHS, type HealthResponse, livenessResponse, type Readiness, readinessResponse } from '../health';

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
  /** The process's own readiness (`/readyz`), shared with its public port when it has one. */
  readiness: Readiness;
  /** The report of `/health/dependencies`. */
  dependencies: () => Promise<DependencyReport>;
}

/**
 * The internal port (METRICS_PORT): /healthz, /readyz, /health/dependencies and /metrics. Never
 * published: the metrics and the dependency report say more about the system than the public should
 * know. The RPC-only services have no other HTTP port; the gateway serves the two probes on both.
 */
export async function startOpsServer(opts: OpsServerOptions): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0];
      const health = async (answer: Promise<HealthResponse> | HealthResponse): Promise<void> => {
        const { status, body } = await answer;
        send(res, status, 'application/json', JSON.stringify(body), HEALTH_HEADERS);
      };
      if (path === HEALTH_PATHS.liveness) return health(livenessResponse());
      if (path === HEALTH_PATHS.readiness) return health(readinessResponse(opts.readiness));
      if (path === HEALTH_PATHS.dependencies) return health(dependenciesResponse(opts.dependencies));
      if (path === '/metrics') {
        const { contentType, body } = await metricsText();
        return send(res, 200, contentType, body);
      }
      return send(res, 404, 'application/json', JSON.stringify({ status: 404 }));
    })().catch(() => send(res, 500, 'application/json', '{"status":500}'));
  });
  return listen(server, opts.port, opts.host ?? '0.0.0.0', 'the ops server (METRICS_PORT)');
}

function send(res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': type });
  res.end(body);
}
