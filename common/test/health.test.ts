import { randomBytes } from 'node:crypto';
import knex from 'knex';
import { eventually } from '../../test/support/wait';
import { Broker, createLogger, connectRaw } from '../src';
import { brokerCheck, checkDependency, dependenciesResponse, dependencyFailure, DependencyDown, dependencyReporter, Readiness } from '../src/health';

test('readiness: starting until started, then what canServe says, and shutting_down from the first moment of a stop', async () => {
  let broker = true;
  const readiness = new Readiness(() => (broker ? undefined : 'broker_disconnected'));
  expect(await readiness.check()).toEqual({ ready: false, reason: 'starting' });
  readiness.markStarted();
  expect(await readiness.check()).toEqual({ ready: true });
  broker = false;
  expect(await readiness.check()).toEqual({ ready: false, reason: 'broker_disconnected' });
  broker = true;
  readiness.markStopping();
  expect(await readiness.check()).toEqual({ ready: false, reason: 'shutting_down' });
  // Stopping is final: a late markStarted does not bring it back.
  readiness.markStarted();
  expect(await readiness.check()).toEqual({ ready: false, reason: 'shutting_down' });
});

test('a dependency that hangs is reported down within the bound, not waited for', async () => {
  const started = Date.now();
  const state = await checkDependency({ roundTrip: () => new Promise(() => undefined) }, 100);
  expect(Date.now() - started).toBeLessThan(1000);
  expect(state).toEqual({ status: 'down', latencyMs: expect.any(Number), error: 'no answer within 100 ms' });
});

test('a failure is told by its code, never by a message that could name a host, a port or a user', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.3.7:3306'), { code: 'ECONNREFUSED' });
  expect(dependencyFailure(refused)).toBe('ECONNREFUSED');
  expect(dependencyFailure(new TypeError('fetch failed', { cause: refused }))).toBe('ECONNREFUSED');
  expect(dependencyFailure(Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }))).toBe('timeout');
  expect(dependencyFailure(new Error('Stream to redis://:secret@10.0.3.8:6379 isn\'t writeable'))).toBe('unavailable');
  expect(dependencyFailure(new DependencyDown('answered 503'))).toBe('answered 503');
});

test('against the real MySQL: a refused login is reported by its code, without the user it tried', async () => {
  const url = new URL(process.env.MYSQL_URL ?? 'mysql://root@localhost:3306');
  const db = knex({ client: 'mysql2', connection: { host: url.hostname, port: Number(url.port || 3306), user: 'market_health_nobody', password: 'wrong-password', connectTimeout: 2000 }, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 2000, log: { error: () => undefined, warn: () => undefined } });
  try {
    const report = await dependencyReporter('test', { database: { roundTrip: () => db.raw('SELECT 1') }, broker: { connected: () => true } })();
    expect(report).toMatchObject({ status: 'degraded', service: 'test', dependencies: { database: { status: 'down', error: expect.stringMatching(/^ER_[A-Z_]+$/) }, broker: { status: 'up' } } });
    expect(JSON.stringify(report)).not.toMatch(/market_health_nobody|wrong-password|localhost|127\.0\.0\.1|3306/);
    expect((await dependenciesResponse(async () => report)).status).toBe(503);
  } finally {
    await db.destroy();
  }
});

test('the report is 200 only when every dependency is up', async () => {
  const report = dependencyReporter('test', { one: { connected: () => true }, two: { roundTrip: async () => undefined } });
  const answer = await dependenciesResponse(report);
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ status: 'ok', dependencies: { one: { status: 'up' }, two: { status: 'up', latencyMs: expect.any(Number) } } });
});

test('against the real RabbitMQ: the broker is reported down while one of its setups waits, naming it, and up once it recovers', async () => {
  const queue = `health${randomBytes(4).toString('hex')}`;
  const broker = new Broker({ url: process.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672', logger: createLogger('health-test', 'error'), name: 'health-test' });
  const admin = await connectRaw(process.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672');
  try {
    await broker.onConnect(async (scope) => void (await (await scope.channel()).consume(queue, () => undefined)), `consumer of ${queue}`);
    await broker.start();
    const report = dependencyReporter('health-test', { broker: brokerCheck(broker) });
    expect((await report()).dependencies.broker).toEqual({ status: 'down', error: `waiting for consumer of ${queue}` });
    const channel = await admin.createChannel();
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    expect(await eventually(async () => (await report()).dependencies.broker?.status === 'up', 8000)).toBe(true);
    await channel.deleteQueue(queue);
  } finally {
    await broker.close();
    await admin.close();
  }
});
