// Load generation with autocannon, in this process: a timed run (after a discarded warm-up) that
// reports req/s, p50/p99 and errors the way autocannon counts them, and a burst of N parallel
// requests (one per connection) that keeps every response's status and latency.
import autocannon from 'autocannon';
import { trackPeakRss } from './processes.mjs';

/** One autocannon run; `onResponse(status, latencyMs)` sees every response. */
function fire(opts, onResponse) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    if (onResponse) instance.on('response', (_client, status, _bytes, latencyMs) => onResponse(status, latencyMs));
  });
}

const statusCounts = (result) => Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count]));

function summarize(result) {
  return {
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    // Socket errors, timeouts and every answer outside 2xx: the "zero errors" target counts all three.
    errors: result.errors + result.timeouts + result.non2xx,
    statusCodes: statusCounts(result),
  };
}

/**
 * When a run's time is up autocannon drops its connections, but the server still works off the
 * requests that were in flight (a sign-in's bcrypt, an order's transactions). Waiting about one p99
 * for that keeps the next run from starting behind someone else's backlog.
 */
const drain = (run) => new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 250 + 1.5 * run.p99)));

/** A request autocannon sends, `setupRequest` (optional) changing it before each send. */
const autocannonOptions = ({ url, connections, request }, duration) => ({
  url,
  connections,
  duration,
  requests: [{ method: 'GET', ...request, headers: { ...request.headers } }],
});

/**
 * A warm-up of `warmupSeconds` (discarded, except its rate goes to `afterWarmup`, e.g. to size a pool)
 * then a measured run of `seconds`, with the peak RSS of the process `pid` during both.
 */
export async function measure({ url, connections, seconds, warmupSeconds, request, pid, afterWarmup }) {
  const rss = trackPeakRss(pid);
  try {
    if (warmupSeconds > 0) {
      const warm = summarize(await fire(autocannonOptions({ url, connections, request }, warmupSeconds)));
      await drain(warm);
      await afterWarmup?.(warm);
    }
    const measured = summarize(await fire(autocannonOptions({ url, connections, request }, seconds)));
    await drain(measured);
    return { ...measured, peakRssMb: rss.stop() };
  } finally {
    rss.stop(); // also when a run failed: no sampler may outlive its run
  }
}

/**
 * `headersPerRequest.length` requests at once, each on its own connection with its own headers (one
 * buyer token each): resolves with every status and latency, and the time from firing to the last answer.
 */
export async function burst({ url, request, headersPerRequest }) {
  const n = headersPerRequest.length;
  let next = 0;
  const setupRequest = (req) => ({ ...req, headers: { ...req.headers, ...headersPerRequest[next++ % n] } });
  const statuses = [];
  const latencies = [];
  const started = performance.now();
  // Not autocannon's end: it only notices that it is done on its next one-second tick.
  let lastAnswerAt = started;
  const result = await fire({ url, connections: n, amount: n, requests: [{ ...request, setupRequest }] }, (status, latencyMs) => {
    statuses.push(status);
    latencies.push(latencyMs);
    lastAnswerAt = performance.now();
  });
  return { statuses, latencies, wallMs: lastAnswerAt - started, socketErrors: result.errors + result.timeouts };
}

/** A `setupRequest` that walks through `paths` in turn (shared by all connections). */
export function rotatePaths(paths) {
  let i = 0;
  return (req) => ({ ...req, path: paths[i++ % paths.length] });
}

export function percentile(values, p) {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
