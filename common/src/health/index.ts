import { performance } from 'node:perf_hooks';

/**
 * Three questions, three endpoints, the same on every process (README, "Health and readiness"):
 *
 * - `/healthz`, liveness: does this process's event loop answer? It asks nothing outside the
 *   process, so a dependency's outage never gets a healthy process restarted.
 * - `/readyz`, readiness: has the process finished starting, is it not shutting down, and can it
 *   serve at least some requests? What that last part needs differs per process (`canServe`), and is
 *   never a dependency of another process: one outage must not take every replica out of rotation.
 * - `/health/dependencies`: each dependency up (with the round trip's latency) or down (with a short
 *   reason), for monitoring and `npm start`. No probe points at it: a 503 there removes nothing.
 */
export const HEALTH_PATHS = {
  liveness: '/healthz',
  readiness: '/readyz',
  dependencies: '/health/dependencies',
} as const;

/** What a health endpoint answers: a status code and a JSON body. */
export interface HealthResponse {
  status: number;
  body: Record<string, unknown>;
}

export const livenessResponse = (): HealthResponse => ({ status: 200, body: { status: 'ok' } });

// ---- readiness ----

export interface ReadinessState {
  ready: boolean;
  /** Why not, in a word safe on a public port: `starting`, `shutting_down`, or one `canServe` gave. */
  reason?: string;
}

/**
 * The process's own readiness. It starts `starting`; `markStarted` once migrations ran and the
 * listeners and consumers are set up; `markStopping` first thing at shutdown, so load balancers stop
 * sending work while what is in flight drains (liveness stays 200 meanwhile).
 */
export class Readiness {
  private phase: 'starting' | 'serving' | 'stopping' = 'starting';

  /**
   * @param canServe beyond having started: what this process needs to serve anything at all;
   *   resolves to the reason it cannot (a short word, no address), or undefined when it can.
   *   Answer quickly (a readiness probe times out in 2 s): prefer local state to round trips.
   */
  constructor(private readonly canServe?: () => Promise<string | undefined> | string | undefined) {}

  markStarted(): void {
    if (this.phase === 'starting') this.phase = 'serving';
  }

  markStopping(): void {
    this.phase = 'stopping';
  }

  get stopping(): boolean {
    return this.phase === 'stopping';
  }

  async check(): Promise<ReadinessState> {
    if (this.phase === 'starting') return { ready: false, reason: 'starting' };
    if (this.phase === 'stopping') return { ready: false, reason: 'shutting_down' };
    const reason = await this.canServe?.();
    return reason ? { ready: false, reason } : { ready: true };
  }
}

export async function readinessResponse(readiness: Readiness): Promise<HealthResponse> {
  const state = await readiness.check();
  return state.ready ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { status: 'not_ready', reason: state.reason } };
}

// ---- dependencies ----

/**
 * How a dependency is checked: a round trip (timed; PING, SELECT 1, an HTTP request), or the state
 * of a connection the process keeps open (nothing is sent, so no latency: the broker's connection,
 * whose AMQP heartbeats notice a dead peer within seconds).
 */
export type DependencyCheck = { roundTrip: () => Promise<unknown> } | { connected: () => boolean | string };

export interface DependencyState {
  status: 'up' | 'down';
  /** The round trip's duration (also when it failed, to tell a refusal from a timeout). */
  latencyMs?: number;
  /** Why it is down: an error code (ECONNREFUSED, ER_ACCESS_DENIED_ERROR), `timeout`, or a short phrase; never an address. */
  error?: string;
}

export interface DependencyReport {
  /** `ok` when every dependency is up, `degraded` when at least one is down. */
  status: 'ok' | 'degraded';
  service: string;
  checkedAt: string;
  dependencies: Record<string, DependencyState>;
}

/** A dependency is down for a reason that is safe to show as is (it names no address or secret). */
export class DependencyDown extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'DependencyDown';
  }
}

const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/**
 * The reason an error gives, without what could leak: driver messages name hosts, ports and users
 * ("connect ECONNREFUSED 10.0.3.7:3306", "Access denied for user 'market_users'@…"), codes do not.
 */
export function dependencyFailure(err: unknown): string {
  if (err instanceof DependencyDown) return err.message;
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown; name?: unknown } } | undefined;
  for (const code of [e?.code, e?.cause?.code]) if (typeof code === 'string' && ERROR_CODE.test(code)) return code;
  if ([e?.name, e?.cause?.name].some((n) => n === 'TimeoutError' || n === 'KnexTimeoutError' || n === 'AbortError')) return 'timeout';
  return 'unavailable';
}

/** Runs one check, bounded by `timeoutMs`: a dependency that hangs is reported down, never waited for. */
export async function checkDependency(check: DependencyCheck, timeoutMs = 1000): Promise<DependencyState> {
  if ('connected' in check) {
    // true: up; false: not connected; a string: connected, but down for that reason.
    const state = check.connected();
    return state === true ? { status: 'up' } : { status: 'down', error: state === false ? 'not connected' : state };
  }
  const started = performance.now();
  const latencyMs = (): number => Math.round((performance.now() - started) * 10) / 10;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.roundTrip(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new DependencyDown(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'up', latencyMs: latencyMs() };
  } catch (err) {
    return { status: 'down', latencyMs: latencyMs(), error: dependencyFailure(err) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The broker: its connection, and every component set up on it. A component still waiting (its queue
 * has no leader, say) is named, so the report says which part of the process is degraded.
 */
export function brokerCheck(broker: { connected: boolean; degraded: string[] }): DependencyCheck {
  return { connected: () => (!broker.connected ? false : broker.degraded.length ? `waiting for ${broker.degraded.join(', ')}` : true) };
}

/** Checks every dependency at once; the report takes as long as the slowest (at most `timeoutMs`). */
export function dependencyReporter(service: string, checks: Record<string, DependencyCheck>, timeoutMs = 1000): () => Promise<DependencyReport> {
  return async () => {
    const names = Object.keys(checks);
    const states = await Promise.all(names.map((name) => checkDependency(checks[name] as DependencyCheck, timeoutMs)));
    const dependencies = Object.fromEntries(names.map((name, i) => [name, states[i] as DependencyState]));
    return {
      status: states.every((s) => s.status === 'up') ? 'ok' : 'degraded',
      service,
      checkedAt: new Date().toISOString(),
      dependencies,
    };
  };
}

/**
 * 200 when every dependency is up, 503 otherwise, with the whole report either way: HTTP checkers
 * (Prometheus' blackbox exporter, uptime monitors, Consul, `npm start`) judge by the status code
 * without parsing anything, and whoever looks gets the details.
 */
export async function dependenciesResponse(report: () => Promise<DependencyReport>): Promise<HealthResponse> {
  const body = await report();
  return { status: body.status === 'ok' ? 200 : 503, body: body as unknown as Record<string, unknown> };
}

/** Health answers are about this moment: nothing on the way may keep one. */
export const HEALTH_HEADERS = { 'cache-control': 'no-store' } as const;
