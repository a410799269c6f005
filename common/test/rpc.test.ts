import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError, Broker, connectRaw, createLogger, type RawChannel, type RawGetMessage, RpcClient, RpcServer } from '../src';
import type { RpcContractMap } from '../src/contracts/rpc';
import { firstMessage } from '../../test/support/queues';
import { busyFor, until } from '../../test/support/wait';
import { testIdentities } from './identities';

const ids = testIdentities();
/** The test's own methods: any payload, any answer, unless a test is about the contract. */
const anything = { request: z.unknown(), reply: z.unknown() };
const TEST_METHODS = {
  'listings.crash': { ...anything, callers: ['api-gateway'] },
  'listings.echo': { ...anything, callers: ['api-gateway'] },
  'listings.fail': { ...anything, callers: ['api-gateway'] },
  'listings.ping': { ...anything, callers: ['api-gateway'] },
  'listings.record': { ...anything, callers: ['api-gateway'] },
  'listings.slow': { ...anything, callers: ['api-gateway'] },
  'listings.whoami': { ...anything, callers: ['orders'] },
  'listings.add': { request: z.object({ a: z.number().int(), b: z.number().int() }).strict(), reply: z.object({ sum: z.number().int() }), callers: ['api-gateway'] },
  // Served by no one: the client still only calls what a contract names.
  'nosuch.method': { ...anything, callers: ['api-gateway'] },
} satisfies RpcContractMap;
/** The methods a test serves with a handler of its own (`listings.add` is served as its contract says). */
type AnyMethod = Exclude<keyof typeof TEST_METHODS, 'listings.add'>;
const isAnyMethod = (method: string): method is AnyMethod => method !== 'listings.add' && Object.hasOwn(TEST_METHODS, method);

const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672';
const logger = createLogger('rpc-test', 'error');

let prefix: string;
let broker: Broker;
let client: RpcClient<typeof TEST_METHODS>;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  prefix = `rpc${randomBytes(4).toString('hex')}`;
  broker = new Broker({ url: URL, logger, name: 'rpc-test' });
  client = new RpcClient(broker, { prefix, timeoutMs: 1000, logger, identity: ids.identity('api-gateway'), contracts: TEST_METHODS });
  await client.start();
  await broker.start();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await client.close();
  await broker.close();
  const connection = await connectRaw(URL);
  const channel = await connection.createChannel();
  for (const q of [`${prefix}.rpc.listings.quorum`, `${prefix}.dead-letter.quorum`]) await channel.deleteQueue(q);
  await channel.deleteExchange(`${prefix}.dead-letter`);
  await connection.close();
});

/** The first message to reach the dead-letter queue within 2 s, or false. */
const deadLettered = (channel: RawChannel): Promise<RawGetMessage | false> => firstMessage(channel, `${prefix}.dead-letter.quorum`);

async function serve(handlers: Partial<Record<AnyMethod, (payload: unknown) => Promise<unknown>>>): Promise<RpcServer<typeof TEST_METHODS>> {
  const serverBroker = new Broker({ url: URL, logger, name: 'rpc-test-server' });
  const server = new RpcServer(serverBroker, { prefix, logger , identity: ids.identity('listings'), tokens: ids.tokens, contracts: TEST_METHODS });
  for (const method of Object.keys(handlers).filter(isAnyMethod)) {
    const handler = handlers[method];
    if (handler) server.serve(method, handler);
  }
  await server.start();
  await serverBroker.start();
  cleanups.push(async () => {
    await server.stop();
    await serverBroker.close();
  });
  return server;
}

test('a call gets the reply to its own correlation id', async () => {
  await serve({ 'listings.echo': async (payload) => ({ echoed: payload }) });
  const replies = await Promise.all([1, 2, 3, 4, 5].map((n) => client.call('listings.echo', { n }, {})));
  expect(replies).toEqual([1, 2, 3, 4, 5].map((n) => ({ echoed: { n } })));
  expect(client.inFlight).toBe(0);
});

test('an AppError thrown by a handler reaches the caller with its status, code and detail', async () => {
  await serve({ 'listings.fail': async () => { throw new AppError(409, 'demo_conflict', 'It conflicts.'); } });
  await expect(client.call('listings.fail', {}, {})).rejects.toMatchObject({ status: 409, code: 'demo_conflict', detail: 'It conflicts.' });
});

test('an unexpected error becomes an opaque 500 without internals', async () => {
  await serve({ 'listings.crash': async () => { throw new Error('SELECT * FROM secret_table failed'); } });
  const err = await client.call('listings.crash', {}, {}).catch((e: AppError) => e);
  expect(err).toMatchObject({ status: 500, code: 'internal_error' });
  expect((err as AppError).detail).not.toMatch(/secret_table/);
});

test('a call nobody answers times out as a 504 and leaves nothing pending', async () => {
  await serve({ 'listings.slow': async () => busyFor(3000) });
  const started = Date.now();
  await expect(client.call('listings.slow', {}, { timeoutMs: 300 })).rejects.toMatchObject({ status: 504, code: 'upstream_timeout' });
  expect(Date.now() - started).toBeLessThan(1000);
  expect(client.inFlight).toBe(0);
});

test('a request the caller gave up on is never executed later', async () => {
  // Declare the queue (by serving once) and stop consuming, as a service that is down would.
  const executed: unknown[] = [];
  const first = await serve({ 'listings.record': async (p) => executed.push(p) });
  await first.stop();
  const sentAt = Date.now();
  await expect(client.call('listings.record', { late: true }, { timeoutMs: 200 })).rejects.toMatchObject({ status: 504 });
  // The service comes back only once the request's deadline (its 200 ms) has surely passed.
  await until(sentAt, 300);
  await serve({ 'listings.record': async (p) => executed.push(p) });
  await client.call('listings.record', { fresh: true }, {});
  expect(executed).toEqual([{ fresh: true }]);
});

test('a call to a service whose queue does not exist fails at once with 503', async () => {
  const started = Date.now();
  await expect(client.call('nosuch.method', {}, {})).rejects.toMatchObject({ status: 503, code: 'service_unavailable' });
  expect(Date.now() - started).toBeLessThan(500);
});

test('an unreachable broker is a 503 within a second, never a hang', async () => {
  const deadBroker = new Broker({ url: 'amqp://guest:guest@127.0.0.1:1', logger, name: 'dead' });
  const deadClient = new RpcClient(deadBroker, { prefix, timeoutMs: 5000, logger, identity: ids.identity('api-gateway'), contracts: TEST_METHODS });
  await deadClient.start();
  void deadBroker.start();
  const started = Date.now();
  await expect(deadClient.call('listings.echo', {}, {})).rejects.toMatchObject({ status: 503, code: 'broker_unavailable' });
  expect(Date.now() - started).toBeLessThan(1000);
  await deadBroker.close();
});

test('a backend service may vouch for the person it acts for, and the handler sees whom and which service', async () => {
  const seen: unknown[] = [];
  const serverBroker = new Broker({ url: URL, logger, name: 'rpc-test-server' });
  const server = new RpcServer(serverBroker, { prefix, logger , identity: ids.identity('listings'), tokens: ids.tokens, contracts: TEST_METHODS }).serve('listings.whoami', async (_p, ctx) => {
    seen.push(ctx.actor, ctx.caller);
    return {};
  });
  await server.start();
  await serverBroker.start();
  cleanups.push(async () => { await server.stop(); await serverBroker.close(); });
  const actor = { id: '00000000-0000-4000-8000-000000000001', role: 'admin' as const };
  const ordersBroker = new Broker({ url: URL, logger, name: 'rpc-test-orders' });
  const asOrders = new RpcClient(ordersBroker, { prefix, timeoutMs: 1000, logger, identity: ids.identity('orders'), contracts: TEST_METHODS });
  await asOrders.start();
  await ordersBroker.start();
  cleanups.push(async () => { await asOrders.close(); await ordersBroker.close(); });
  await asOrders.call('listings.whoami', {}, { onBehalfOf: actor });
  expect(seen).toEqual([actor, 'orders']);
  // The gateway forwards tokens; it cannot vouch for anyone, and a method it may not call refuses it.
  await expect(client.call('listings.whoami', {}, { onBehalfOf: actor })).rejects.toMatchObject({ status: 403, code: 'caller_not_allowed' });
  expect(seen).toHaveLength(2);
});

test('a message that is not a valid request is rejected to the dead-letter queue, not retried', async () => {
  let calls = 0;
  await serve({ 'listings.echo': async () => { calls++; return {}; }, 'listings.ping': async () => ({}) });
  const connection = await connectRaw(URL);
  const channel = await connection.createChannel();
  channel.sendToQueue(`${prefix}.rpc.listings.quorum`, Buffer.from('this is not json'), { type: 'listings.echo' });
  const dead = await deadLettered(channel);
  expect(dead && dead.content.toString()).toBe('this is not json');
  // A valid request queued behind it: once it is answered, a retried copy of the bad one would have been taken.
  await client.call('listings.ping', {}, {});
  expect((await channel.checkQueue(`${prefix}.rpc.listings.quorum`)).messageCount).toBe(0);
  expect(calls).toBe(0);
  await connection.close();
});

test('a request the queue refuses (a quorum queue without a leader, or full) fails at once with a 503, not a timeout', async () => {
  // Full and refusing: RabbitMQ nacks the publish, as it does while a quorum queue has no leader.
  const connection = await connectRaw(URL);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(`${prefix}.rpc.listings.quorum`, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
    // A quorum queue notices that it is over its limit one message late: fill it first.
    channel.sendToQueue(`${prefix}.rpc.listings.quorum`, Buffer.from('filler'));
    await channel.waitForConfirms();
    const started = Date.now();
    await expect(client.call('listings.echo', {}, { timeoutMs: 5000 })).rejects.toMatchObject({ status: 503, code: 'service_unavailable' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(client.inFlight).toBe(0);
  } finally {
    await connection.close();
  }
});

test('a request its contract refuses is answered 400 with every bad field, dead-lettered, and never reaches the handler', async () => {
  let calls = 0;
  const server = await serve({});
  server.serve('listings.add', async ({ a, b }) => {
    calls++;
    return { sum: a + b };
  });
  await server.start();
  expect(await client.call('listings.add', { a: 1, b: 2 }, {})).toEqual({ sum: 3 });
  const connection = await connectRaw(URL);
  try {
    const channel = await connection.createChannel();
    // Sent around the client's types, as a caller of another release might.
    await expect(client.call('listings.add', JSON.parse('{"a":"one","c":2}'), {})).rejects.toMatchObject({
      status: 400,
      code: 'validation_failed',
      errors: expect.arrayContaining([expect.objectContaining({ field: 'a' }), expect.objectContaining({ field: 'b' })]),
    });
    expect(await deadLettered(channel)).not.toBe(false);
    expect(calls).toBe(1);
  } finally {
    await connection.close();
  }
});

test('an answer its contract does not allow is a 500 from the server, never passed on', async () => {
  const server = await serve({});
  server.serve('listings.add', async () => JSON.parse('{"sum":"three"}'));
  await server.start();
  await expect(client.call('listings.add', { a: 1, b: 2 }, {})).rejects.toMatchObject({ status: 500, code: 'internal_error' });
});

test('a reply the caller\'s contract does not allow is a 502, not a value of the wrong shape', async () => {
  // The server answers by its own (older) contract; the client expects another shape.
  await serve({ 'listings.echo': async () => ({ echoed: 'text' }) });
  const strictBroker = new Broker({ url: URL, logger, name: 'rpc-test-strict' });
  const strict = new RpcClient(strictBroker, {
    prefix,
    timeoutMs: 1000,
    logger,
    identity: ids.identity('api-gateway'),
    contracts: { 'listings.echo': { request: z.unknown(), reply: z.object({ echoed: z.number() }), callers: ['api-gateway'] } },
  });
  await strict.start();
  await strictBroker.start();
  cleanups.push(async () => { await strict.close(); await strictBroker.close(); });
  await expect(strict.call('listings.echo', {}, {})).rejects.toMatchObject({ status: 502, code: 'upstream_invalid_reply' });
});
