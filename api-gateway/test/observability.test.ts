import { Writable } from 'node:stream';
import winston from 'winston';
import { client } from '../../test/support/http';
import { startStack, type Stack } from '../../test/support/stack';

let stack: Stack;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  stack = await startStack({ services: ['listings'], env: { LOG_LEVEL: 'http' } });
  stack.logger.add(new winston.transports.Stream({ stream: new Writable({ write: (chunk: Buffer, _e, done) => { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } }) }));
});
afterAll(() => stack.stop());

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

test('the W3C trace id and the request id follow a request through HTTP and AMQP into every log line', async () => {
  const api = client(stack);
  const headers = { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`, 'x-request-id': 'trace-me-1' };
  const signUp = await api.request('POST', '/users', { body: { email: `trace-${Date.now()}@example.com`, password: 'long enough pw', name: 'T' }, headers });
  expect(signUp.status).toBe(201);
  // Continued, not restarted: same trace id, a new span id for this hop.
  expect(signUp.headers.get('traceparent')).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
  const listing = await api.createListing(signUp.body.accessToken);
  const read = await api.request('GET', `/listings/${listing.id}`, { headers: { ...headers, 'x-request-id': 'trace-me-2' } });
  expect(read.status).toBe(200);

  const tagged = (requestId: string) => lines.filter((l) => l.requestId === requestId);
  // Gateway access line and users-service access line for the sign-up.
  expect(tagged('trace-me-1').filter((l) => l.message === 'request' && l.route === '/users')).toHaveLength(2);
  // Gateway access line and listings-service RPC line for the read.
  expect(tagged('trace-me-2').map((l) => l.message).sort()).toEqual(['request', 'rpc handled']);
  for (const line of [...tagged('trace-me-1'), ...tagged('trace-me-2')]) expect(line.traceId).toBe(TRACE_ID);
});

test('each RPC service exposes its own metrics on its internal port', async () => {
  await client(stack).get('/listings');
  const res = await fetch(`http://127.0.0.1:${stack.services.listings!.opsPort}/metrics`);
  expect(await res.text()).toMatch(/market_rpc_handled_total\{method="listings.list",outcome="ok"\} \d+/);
  expect((await fetch(`http://127.0.0.1:${stack.services.listings!.opsPort}/readyz`)).status).toBe(200);
});
