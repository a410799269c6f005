import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { AppError, Broker, createLogger, RpcClient, RpcServer } from '../src';
import type { ServiceName } from '../src';
import { testIdentities } from './identities';

const ids = testIdentities();
const CALLERS: Record<string, ServiceName[]> = { 'listings.crash': ['api-gateway'], 'listings.echo': ['api-gateway'], 'listings.fail': ['api-gateway'], 'listings.record': ['api-gateway'], 'listings.slow': ['api-gateway'], 'listings.whoami': ['orders'] };

const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672';
const logger = createLogger('rpc-test', 'error');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let prefix: string;
let broker: Broker;
let client: RpcClient;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  prefix = `rpc${randomBytes(4).toString('hex')}`;
  broker = new Broker({ url: URL, logger, name: 'rpc-test' });
  client = new RpcClient(broker, { prefix, timeoutMs: 1000, logger, identity: ids.identity('api-gateway') });
  await client.start();
  await broker.start();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await client.close();
  await broker.close();
  const connection = await amqp.connect(URL);
  const channel = await connection.createChannel();
  for (const q of [`${prefix}.rpc.listings.quorum`, `${prefix}.dead-letter.quorum`]) await channel.deleteQueue(q);
  await channel.deleteExchange(`${prefix}.dead-letter`);
  await connection.close();
});

async function serve(handlers: Record<string, (payload: unknown) => Promise<unknown>>): Promise<RpcServer> {
  const serverBroker = new Broker({ url: URL, logger, name: 'rpc-test-server' });
  const server = new RpcServer(serverBroker, { prefix, logger , identity: ids.identity('listings'), tokens: ids.tokens, callers: CALLERS });
  for (const [method, handler] of Object.entries(handlers)) server.serve(method, handler);
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
  await serve({ 'listings.slow': async () => sleep(3000) });
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
  await expect(client.call('listings.record', { late: true }, { timeoutMs: 200 })).rejects.toMatchObject({ status: 504 });
  await sleep(300);
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
  const deadClient = new RpcClient(deadBroker, { prefix, timeoutMs: 5000, logger, identity: ids.identity('api-gateway') });
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
  const server = new RpcServer(serverBroker, { prefix, logger , identity: ids.identity('listings'), tokens: ids.tokens, callers: CALLERS }).serve('listings.whoami', async (_p, ctx) => {
    seen.push(ctx.actor, ctx.caller);
    return {};
  });
  await server.start();
  await serverBroker.start();
  cleanups.push(async () => { await server.stop(); await serverBroker.close(); });
  const actor = { id: '00000000-0000-4000-8000-000000000001', role: 'admin' as const };
  const ordersBroker = new Broker({ url: URL, logger, name: 'rpc-test-orders' });
  const asOrders = new RpcClient(ordersBroker, { prefix, timeoutMs: 1000, logger, identity: ids.identity('orders') });
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
  await serve({ 'listings.echo': async () => { calls++; return {}; } });
  const connection = await amqp.connect(URL);
  const channel = await connection.createChannel();
  channel.sendToQueue(`${prefix}.rpc.listings.quorum`, Buffer.from('this is not json'), { type: 'listings.echo' });
  let dead: amqp.GetMessage | false = false;
  for (let i = 0; i < 40 && !dead; i++) {
    await sleep(50);
    dead = await channel.get(`${prefix}.dead-letter.quorum`, { noAck: true });
  }
  expect(dead && dead.content.toString()).toBe('this is not json');
  await sleep(200);
  expect((await channel.checkQueue(`${prefix}.rpc.listings.quorum`)).messageCount).toBe(0);
  expect(calls).toBe(0);
  await connection.close();
});

test('a request the queue refuses (a quorum queue without a leader, or full) fails at once with a 503, not a timeout', async () => {
  // Full and refusing: RabbitMQ nacks the publish, as it does while a quorum queue has no leader.
  const connection = await amqp.connect(URL);
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
