import { randomBytes, randomUUID } from 'node:crypto';
import { Broker, createLogger, currentContext, runWithContext, dropDatabase, EventSubscriber, eventTablesMigrations, type Knex, openDatabase, Outbox, connectRaw, type RawChannel, type RawGetMessage } from '../src';
import { type EventEnvelope, eventFacts } from '../src/events/outbox';
import { firstMessage } from '../../test/support/queues';
import { eventually } from '../../test/support/wait';
import { testIdentities } from './identities';

const ids = testIdentities();

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672';
const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@localhost:3306';
const logger = createLogger('events-test', 'error');

let prefix: string;
let db: Knex;
let broker: Broker;
let outbox: Outbox;
let subscriber: EventSubscriber;
const received: EventEnvelope[] = [];
const contexts = new Map<string, ReturnType<typeof currentContext>>();
let handled = 0;
/** Events sent only to show that everything sent before them has been handled: `handled` leaves them out. */
const markers = new Set<string>();

beforeAll(async () => {
  prefix = `ev${randomBytes(4).toString('hex')}`;
  db = await openDatabase({ mysqlUrl: MYSQL_URL, database: `${prefix}_events`, migrations: eventTablesMigrations, logger });
  await db.schema.createTable('things', (t) => t.string('id', 36).primary());
  broker = new Broker({ url: RABBITMQ_URL, logger, name: 'events-test' });
  outbox = new Outbox(db, broker, { prefix, logger, pollMs: 60_000, identity: ids.identity('users') });
  subscriber = new EventSubscriber(broker, { prefix, logger, identity: ids.identity('listings') }).subscribe({
    queue: 'test.user-events',
    patterns: ['user.*'],
    dedupe: db,
    handler: async (event, trx) => {
      if (!markers.has(event.id)) handled++;
      received.push(event);
      contexts.set(event.id, currentContext());
      await trx!('things').insert({ id: event.id });
    },
  });
  await outbox.start();
  await subscriber.start();
  await broker.start();
});

afterAll(async () => {
  subscriber.stop();
  await outbox.stop();
  await broker.close();
  await db.destroy();
  await dropDatabase(MYSQL_URL, `${prefix}_events`);
  const connection = await connectRaw(RABBITMQ_URL);
  const channel = await connection.createChannel();
  await channel.deleteQueue(`${prefix}.test.user-events.quorum`);
  await channel.deleteQueue(`${prefix}.dead-letter.quorum`);
  await channel.deleteExchange(`${prefix}.events`);
  await channel.deleteExchange(`${prefix}.dead-letter`);
  await connection.close();
});

/** The first message to reach the dead-letter queue within 2 s, or false. */
const deadLettered = (channel: RawChannel): Promise<RawGetMessage | false> => firstMessage(channel, `${prefix}.dead-letter.quorum`);

const receivedFor = (userId: string): boolean => received.some((e) => (e.payload as { userId: string }).userId === userId);

test('an event written in a committed transaction is relayed and delivered, and the outbox row is gone', async () => {
  const userId = randomUUID();
  await db.transaction((trx) => outbox.publish(trx, 'user.deleted', { userId }));
  expect(await eventually(() => received.some((e) => (e.payload as { userId: string }).userId === userId))).toBe(true);
  const event = received.find((e) => (e.payload as { userId: string }).userId === userId)!;
  expect(event).toMatchObject({ type: 'user.deleted', id: expect.any(String), occurredAt: expect.any(String) });
  expect(Number((await db('outbox').count({ n: '*' }).first())?.n)).toBe(0);
});

test('an event written in a rolled-back transaction never leaves', async () => {
  const userId = randomUUID();
  await db
    .transaction(async (trx) => {
      await outbox.publish(trx, 'user.deleted', { userId });
      throw new Error('the change failed');
    })
    .catch(() => undefined);
  await outbox.flush();
  // The relay keeps the outbox's order: once an event committed afterwards has arrived, this one would have too.
  const later = randomUUID();
  await db.transaction((trx) => outbox.publish(trx, 'user.deleted', { userId: later }));
  expect(await eventually(() => receivedFor(later))).toBe(true);
  expect(received.some((e) => (e.payload as { userId: string }).userId === userId)).toBe(false);
});

test('a duplicate delivery of the same event is handled once', async () => {
  const before = handled;
  const envelope = { id: randomUUID(), type: 'user.deleted', occurredAt: new Date().toISOString(), payload: { userId: randomUUID() } };
  const connection = await connectRaw(RABBITMQ_URL);
  const channel = await connection.createConfirmChannel();
  const body = Buffer.from(JSON.stringify(envelope));
  const headers = ids.identity('users').headers(eventFacts(envelope.id, envelope.type), body);
  for (let i = 0; i < 3; i++) channel.publish(`${prefix}.events`, 'user.deleted', body, { headers });
  await channel.waitForConfirms();
  // A different event queued behind the three copies: once it is handled, so were they.
  const marker = { id: randomUUID(), type: 'user.deleted', occurredAt: new Date().toISOString(), payload: { userId: randomUUID() } };
  markers.add(marker.id);
  const markerBody = Buffer.from(JSON.stringify(marker));
  channel.publish(`${prefix}.events`, 'user.deleted', markerBody, { headers: ids.identity('users').headers(eventFacts(marker.id, marker.type), markerBody) });
  await channel.waitForConfirms();
  expect(await eventually(() => receivedFor(marker.payload.userId))).toBe(true);
  await connection.close();
  expect(handled - before).toBe(1);
  expect(await db('things').where({ id: envelope.id })).toHaveLength(1);
});

test('an unreadable event is dead-lettered, not redelivered forever', async () => {
  const before = handled;
  const connection = await connectRaw(RABBITMQ_URL);
  const channel = await connection.createChannel();
  channel.publish(`${prefix}.events`, 'user.deleted', Buffer.from('{"not":"an event"}'));
  const dead = await deadLettered(channel);
  expect(dead && dead.content.toString()).toBe('{"not":"an event"}');
  expect(handled).toBe(before);
  await connection.close();
});

test('the consumer runs under the request id and trace of the request that caused the event', async () => {
  const userId = randomUUID();
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  await runWithContext({ requestId: 'req-that-deleted', traceparent }, () => db.transaction((trx) => outbox.publish(trx, 'user.deleted', { userId })));
  expect(await eventually(() => received.some((e) => (e.payload as { userId: string }).userId === userId))).toBe(true);
  const event = received.find((e) => (e.payload as { userId: string }).userId === userId)!;
  expect(contexts.get(event.id)).toEqual({ requestId: 'req-that-deleted', traceparent });
});

test('events waiting in the classic queue of an earlier release are handled after the upgrade, and new ones go only to the quorum queue', async () => {
  const legacy = `${prefix}.test.legacy-events`;
  const connection = await connectRaw(RABBITMQ_URL);
  const channel = await connection.createConfirmChannel();
  const signed = (userId: string) => {
    const envelope = { id: randomUUID(), type: 'user.deleted', occurredAt: new Date().toISOString(), payload: { userId } };
    const body = Buffer.from(JSON.stringify(envelope));
    return { body, headers: ids.identity('users').headers(eventFacts(envelope.id, envelope.type), body) };
  };
  const seen: string[] = [];
  const upgraded = new Broker({ url: RABBITMQ_URL, logger, name: 'events-test-upgraded' });
  const subscriber2 = new EventSubscriber(upgraded, { prefix, logger, identity: ids.identity('listings') }).subscribe({
    queue: 'test.legacy-events',
    patterns: ['user.*'],
    handler: async (event) => void seen.push((event.payload as { userId: string }).userId),
  });
  try {
    // The previous release's queue, bound and holding an event nobody has handled yet.
    await channel.assertQueue(legacy, { durable: true, arguments: { 'x-dead-letter-exchange': `${prefix}.dead-letter` } });
    await channel.bindQueue(legacy, `${prefix}.events`, 'user.*');
    const waiting = signed(randomUUID());
    channel.publish(`${prefix}.events`, 'user.deleted', waiting.body, { headers: waiting.headers, persistent: true });
    await channel.waitForConfirms();
    expect((await channel.checkQueue(legacy)).messageCount).toBe(1);

    await subscriber2.start();
    await upgraded.start();
    const waitingId = (JSON.parse(waiting.body.toString()) as { payload: { userId: string } }).payload.userId;
    expect(await eventually(() => seen.includes(waitingId))).toBe(true);

    const fresh = signed(randomUUID());
    channel.publish(`${prefix}.events`, 'user.deleted', fresh.body, { headers: fresh.headers, persistent: true });
    await channel.waitForConfirms();
    const freshId = (JSON.parse(fresh.body.toString()) as { payload: { userId: string } }).payload.userId;
    expect(await eventually(() => seen.includes(freshId))).toBe(true);
    // A third event behind it, through whatever queues are bound: once it is in, a second copy of the
    // fresh one (through a classic queue still bound) would be in as well.
    const marker = signed(randomUUID());
    channel.publish(`${prefix}.events`, 'user.deleted', marker.body, { headers: marker.headers, persistent: true });
    await channel.waitForConfirms();
    const markerId = (JSON.parse(marker.body.toString()) as { payload: { userId: string } }).payload.userId;
    expect(await eventually(async () => seen.includes(markerId) && (await channel.checkQueue(legacy)).messageCount === 0)).toBe(true);
    // Handled once each: the classic queue was unbound before the quorum queue took over.
    expect(seen.filter((id) => id === freshId || id === waitingId)).toHaveLength(2);
    expect((await channel.checkQueue(legacy)).messageCount).toBe(0);
  } finally {
    subscriber2.stop();
    await upgraded.close();
    await channel.deleteQueue(legacy);
    await channel.deleteQueue(`${legacy}.quorum`);
    await connection.close();
  }
});
