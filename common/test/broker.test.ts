import { randomBytes } from 'node:crypto';
import { Broker, createLogger, connectRaw, type RawConnection as ChannelModel } from '../src';
import { eventually } from '../../test/support/wait';

const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672';
const logger = createLogger('broker-test', 'error');

let prefix: string;
let admin: ChannelModel;
const brokers: Broker[] = [];

beforeEach(async () => {
  prefix = `broker${randomBytes(4).toString('hex')}`;
  admin = await connectRaw(URL);
});

afterEach(async () => {
  for (const broker of brokers.splice(0)) await broker.close();
  const channel = await admin.createChannel();
  for (const queue of [`${prefix}.later`, `${prefix}.now`]) await channel.deleteQueue(queue);
  await admin.close();
});

test('a setup that fails is retried on its own: the connection and the other setups keep working, and it recovers by itself', async () => {
  const broker = new Broker({ url: URL, logger, name: 'broker-test' });
  brokers.push(broker);
  const received: string[] = [];
  // Consumes a queue nobody has declared yet (as when a quorum queue's leader is unavailable, the broker refuses).
  await broker.onConnect(async (scope) => {
    const channel = await scope.channel();
    await channel.consume(`${prefix}.later`, (msg) => msg && received.push(`later:${msg.content.toString()}`), { noAck: true });
  }, 'later');
  await broker.onConnect(async (scope) => {
    const channel = await scope.channel();
    await channel.assertQueue(`${prefix}.now`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.consume(`${prefix}.now`, (msg) => msg && received.push(`now:${msg.content.toString()}`), { noAck: true });
  }, 'now');
  await broker.start();

  expect(broker.connected).toBe(true);
  expect(broker.degraded).toEqual(['later']);
  const channel = await admin.createConfirmChannel();
  channel.sendToQueue(`${prefix}.now`, Buffer.from('1'));
  await channel.waitForConfirms();
  expect(await eventually(async () => received.includes('now:1'))).toBe(true);

  await channel.assertQueue(`${prefix}.later`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  expect(await eventually(async () => broker.degraded.length === 0, 8000)).toBe(true);
  channel.sendToQueue(`${prefix}.later`, Buffer.from('2'));
  await channel.waitForConfirms();
  expect(await eventually(async () => received.includes('later:2'))).toBe(true);
  expect(received).toEqual(['now:1', 'later:2']);
});

test('a channel the broker closes runs its setup again, on the same connection', async () => {
  const broker = new Broker({ url: URL, logger, name: 'broker-test' });
  brokers.push(broker);
  let runs = 0;
  let lost = 0;
  await broker.onConnect(async (scope) => {
    runs++;
    const channel = await scope.channel();
    await channel.assertQueue(`${prefix}.now`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    // The first run breaks its channel on purpose afterwards: a redeclaration with other arguments is a channel error.
    if (runs === 1) setImmediate(() => void channel.assertQueue(`${prefix}.now`, { durable: true }).catch(() => undefined));
    return () => void lost++;
  }, 'flaky');
  await broker.start();
  expect(await eventually(async () => runs === 2 && broker.degraded.length === 0, 8000)).toBe(true);
  expect(lost).toBe(1);
  expect(broker.connected).toBe(true);
});

test('with several node URLs, a node that does not answer is skipped', async () => {
  const broker = new Broker({ url: `amqp://guest:guest@127.0.0.1:1,${URL}`, logger, name: 'broker-test' });
  brokers.push(broker);
  await broker.start();
  expect(broker.connected).toBe(true);
});
