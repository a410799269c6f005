import { Writable } from 'node:stream';
import winston from 'winston';
import { client } from '../support/http';
import { eventually } from '../support/wait';
import { ensureAllRunning, redisRunning, startRedis, stopRedis, waitFor } from '../support/servers';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
const warnings: string[] = [];

beforeAll(async () => {
  stack = await startStack({ services: ['listings'], env: { RATE_LIMIT_MAX: '5', LOG_LEVEL: 'warn' } });
  stack.logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk: Buffer, _enc, done) {
          warnings.push(chunk.toString());
          done();
        },
      }),
    }),
  );
});
afterAll(async () => {
  await ensureAllRunning();
  await stack.stop();
});

test('with Redis stopped, reads fall through to the services, the limiter fails open with a warning, nothing hangs', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  const listing = await api.createListing(seller.accessToken);
  const reader = await api.signUp();
  await api.get(`/listings/${listing.id}`, reader.accessToken);

  await stopRedis();
  try {
    await waitFor(() => !redisRunning(), 5000);
    const results = [];
    for (let i = 0; i < 8; i++) {
      const started = Date.now();
      const res = await api.get(`/listings/${listing.id}`, reader.accessToken);
      results.push({ status: res.status, cache: res.headers.get('x-cache'), ms: Date.now() - started, title: res.body?.listing?.title });
    }
    // Eight requests with a limit of five: the limiter lets them through rather than failing them.
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(results.every((r) => r.cache === 'MISS' && r.title === listing.title)).toBe(true);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(1000);
    expect(warnings.some((w) => /rate limiter store unavailable/.test(w))).toBe(true);
    // Degraded, not unready: it serves every read without its cache, so it stays in the load balancer,
    // and its dependency report (ops port) says what is missing.
    expect((await api.get('/readyz')).status).toBe(200);
    const report = await fetch(`http://127.0.0.1:${stack.gateway.opsPort}/health/dependencies`);
    expect(report.status).toBe(503);
    expect(((await report.json()) as { dependencies: { redis: { status: string } } }).dependencies.redis.status).toBe('down');
  } finally {
    await startRedis();
  }

  await waitFor(redisRunning);
  // Back to normal: the limiter counts again and the cache serves hits.
  expect(await eventually(async () => (await fetch(`http://127.0.0.1:${stack.gateway.opsPort}/health/dependencies`)).status === 200, 10_000, 200)).toBe(true);
  const fresh = await api.signUp();
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await api.get(`/listings/${listing.id}`, fresh.accessToken)).status);
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
});
