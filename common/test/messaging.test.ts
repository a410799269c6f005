import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  Broker,
  BrokerUnavailableError,
  connectRaw,
  createLogger,
  declareQuorumQueue,
  DelayedMessages,
  ManagedChannel,
  PublishBufferFullError,
  PublishTimeoutError,
  type RawConnection,
} from '../src';
import { TcpProxy } from '../../test/support/tcp-proxy';
import { eventually, until } from '../../test/support/wait';

const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672';
const logger = createLogger('messaging-test', 'error');

let prefix: string;
let admin: RawConnection;
let proxy: TcpProxy;
let viaProxy: string;
const brokers: Broker[] = [];

beforeEach(async () => {
  prefix = `msg${randomBytes(4).toString('hex')}`;
  admin = await connectRaw(URL);
  ({ proxy, url: viaProxy } = await TcpProxy.forAmqp(URL));
});

afterEach(async () => {
  for (const broker of brokers.splice(0)) await broker.close();
  await proxy.cut();
  const channel = await admin.createChannel();
  for (const queue of ['queue', 'wait-500', 'wait-3000', 'due', 'dead-letter']) await channel.deleteQueue(`${prefix}.${queue}.quorum`);
  await channel.deleteExchange(`${prefix}.dead-letter`);
  await admin.close();
});

/** A broker connection through the test's proxy: cut the proxy, and the broker is gone for it alone. */
function brokerViaProxy(): Broker {
  const broker = new Broker({ url: viaProxy, logger, name: 'messaging-test' });
  brokers.push(broker);
  return broker;
}

const queue = (): string => `${prefix}.queue.quorum`;

/** The messages waiting in a queue, read as an outsider (0 when it does not exist). */
async function contentsOf(name: string): Promise<string[]> {
  const channel = await admin.createChannel();
  channel.on('error', () => undefined);
  const contents: string[] = [];
  try {
    for (let msg = await channel.get(name, { noAck: true }); msg; msg = await channel.get(name, { noAck: true })) contents.push(msg.content.toString());
    await channel.close();
  } catch {
    // the queue does not exist (yet): nothing reached the broker
  }
  return contents;
}

test('a publish made while the broker is unreachable waits in the channel, and is sent and confirmed once the broker is back', async () => {
  const broker = brokerViaProxy();
  const channel = await ManagedChannel.open(broker, { name: 'test publisher', setup: async (ctx) => void (await declareQuorumQueue(ctx.channel, `${prefix}.queue`)) });
  void broker.start();
  let confirmed = false;
  const published = channel.sendToQueue(queue(), Buffer.from('sent while away'), { persistent: true }).then(() => (confirmed = true));

  // Long enough for several connection attempts to fail: it is still waiting, neither dropped nor refused.
  await until(Date.now(), 1000);
  expect({ confirmed, ready: channel.ready, pending: channel.pending, delivered: await contentsOf(queue()) }).toEqual({ confirmed: false, ready: false, pending: 1, delivered: [] });

  await proxy.start();
  await published;
  expect({ confirmed, pending: channel.pending }).toEqual({ confirmed: true, pending: 0 });
  expect(await contentsOf(queue())).toEqual(['sent while away']);
});

test('after the connection is lost, the setup runs again, the consumers come back, and what was published meanwhile is confirmed', async () => {
  await proxy.start();
  const broker = brokerViaProxy();
  let setups = 0;
  const received: string[] = [];
  const channel = await ManagedChannel.open(broker, {
    name: 'test channel',
    prefetch: 4,
    setup: async (ctx) => {
      setups++;
      await declareQuorumQueue(ctx.channel, `${prefix}.queue`);
    },
  });
  await channel.consume(queue(), (delivery) => {
    received.push(delivery.content.toString());
    delivery.settle('ack');
  });
  await broker.start();
  await channel.sendToQueue(queue(), Buffer.from('before'));
  expect(await eventually(() => received.includes('before'))).toBe(true);

  await proxy.cut();
  expect(await eventually(() => !broker.connected && !channel.ready)).toBe(true);
  const during = channel.sendToQueue(queue(), Buffer.from('during'));
  await proxy.start();
  await during;
  expect(await eventually(() => received.includes('during'))).toBe(true);
  // At least once: 'before' comes again if the cut beat its acknowledgement to the broker.
  expect({ setups, received: [...new Set(received)] }).toEqual({ setups: 2, received: ['before', 'during'] });
});

test('what waits for the broker is bounded: beyond the buffer, without waiting, or past its timeout, a publish is refused at once', async () => {
  const broker = brokerViaProxy();
  const channel = await ManagedChannel.open(broker, { name: 'test bounded', maxBuffered: 2 });
  void broker.start();
  const waiting = [channel.sendToQueue(queue(), Buffer.from('1')), channel.sendToQueue(queue(), Buffer.from('2'))];
  const outcomes = Promise.allSettled(waiting);

  await expect(channel.sendToQueue(queue(), Buffer.from('3'))).rejects.toBeInstanceOf(PublishBufferFullError);
  await expect(channel.sendToQueue(queue(), Buffer.from('4'), {}, { waitForBroker: false })).rejects.toBeInstanceOf(BrokerUnavailableError);
  expect(channel.pending).toBe(2);

  const other = await ManagedChannel.open(broker, { name: 'test timeout' });
  const started = Date.now();
  await expect(other.sendToQueue(queue(), Buffer.from('5'), {}, { timeoutMs: 300 })).rejects.toBeInstanceOf(PublishTimeoutError);
  expect(Date.now() - started).toBeLessThan(1000);
  expect(other.pending).toBe(0);

  // Closing for good refuses what still waits rather than leaving its sender hanging.
  await channel.close();
  expect((await outcomes).map((o) => o.status)).toEqual(['rejected', 'rejected']);
});

describe('delayed messages', () => {
  const schema = z.object({ n: z.number().int() });
  const open = (broker: Broker, delayMs: number) =>
    DelayedMessages.open(broker, {
      name: 'test delay',
      prefix,
      waitQueues: new Map([[delayMs, `${prefix}.wait-${delayMs}.quorum`]]),
      dueQueue: `${prefix}.due.quorum`,
      schema,
      logger,
    });

  test('are handled when due and not before; a failure is retried, and one a little early is waited for', async () => {
    const broker = new Broker({ url: URL, logger, name: 'messaging-test' });
    brokers.push(broker);
    const delayed = await open(broker, 500);
    const handled = new Map<number, number>();
    const calls = new Map<number, number>();
    await delayed.consume(
      async ({ n }) => {
        calls.set(n, (calls.get(n) ?? 0) + 1);
        if (n === 2 && calls.get(n) === 1) return 'retry';
        if (n === 3 && calls.get(n) === 1) return { notDueForMs: 200 };
        handled.set(n, Date.now());
        return 'done';
      },
      { retryDelayMs: 100 },
    );
    await broker.start();
    await expect(delayed.schedule({ n: 0 }, 999)).rejects.toThrow(/no wait queue/);

    const sentAt = Date.now();
    await Promise.all([1, 2, 3].map((n) => delayed.schedule({ n }, 500)));
    expect(await eventually(() => handled.size === 3)).toBe(true);
    for (const n of [1, 2, 3]) expect((handled.get(n) ?? 0) - sentAt).toBeGreaterThanOrEqual(450);
    expect(Object.fromEntries(calls)).toEqual({ 1: 1, 2: 2, 3: 2 });
    // Retried after its pause, and the early one after the rest of its wait.
    expect((handled.get(2) ?? 0) - (handled.get(1) ?? 0)).toBeGreaterThanOrEqual(90);
    expect((handled.get(3) ?? 0) - (handled.get(1) ?? 0)).toBeGreaterThanOrEqual(190);
    await delayed.stop();
  });

  test('one scheduled while the broker is away is sent when it is back, and is still due at its first time', async () => {
    const broker = brokerViaProxy();
    const delayed = await open(broker, 3000);
    let handledAt = 0;
    await delayed.consume(async () => {
      handledAt = Date.now();
      return 'done';
    });
    void broker.start();
    const scheduledAt = Date.now();
    const scheduled = delayed.schedule({ n: 1 }, 3000);
    expect(delayed.ready).toBe(false);

    await until(scheduledAt, 1500);
    await proxy.start();
    await scheduled;
    const sentAt = Date.now();
    expect(sentAt - scheduledAt).toBeGreaterThanOrEqual(1500);
    expect(await eventually(() => handledAt > 0, 6000)).toBe(true);
    // Due 3 s after it was scheduled, not 3 s after the broker came back.
    expect(handledAt - scheduledAt).toBeGreaterThanOrEqual(2950);
    expect(handledAt - sentAt).toBeLessThan(2500);
    await delayed.stop();
  });
});
