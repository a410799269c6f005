import { randomBytes } from 'node:crypto';
import { connectRaw, type RawConnection as ChannelModel, type RawMessage as ConsumeMessage } from '@market/common';
import fs from 'node:fs';
import { epmdNames, harnessProcesses, startRabbitCluster, type RabbitCluster } from '../support/rabbit-cluster';
import { eventually } from '../support/wait';

/**
 * The cluster harness itself, for real: a 3-node cluster beside the shared broker, a quorum queue
 * that survives its leader going down, and the node coming back into the cluster.
 */

const timings: Record<string, number> = {};
let cluster: RabbitCluster | undefined;
let clusterDir = '';
const connections: ChannelModel[] = [];

/** A connection whose broker may go away under it: its errors are expected, not fatal. */
async function connect(url: string): Promise<ChannelModel> {
  const connection = await connectRaw(url, { timeout: 10_000 });
  connection.on('error', () => undefined);
  connections.push(connection);
  return connection;
}

beforeAll(async () => {
  const started = Date.now();
  cluster = await startRabbitCluster({ nodes: 3, log: (line) => console.log(line) });
  timings.clusterStartMs = Date.now() - started;
  clusterDir = cluster.dir;
}, 240_000);

afterAll(async () => {
  for (const connection of connections) await connection.close().catch(() => undefined); // some are closed already
  await cluster?.teardown();
  console.log(`timings: ${JSON.stringify(timings)}`);
  // Nothing left behind: no node registered, no process of the harness, no directory.
  const names = await epmdNames();
  expect(names.filter((n) => /^m\d+$/.test(n))).toEqual([]);
  expect(harnessProcesses()).toEqual([]);
  expect(fs.existsSync(clusterDir)).toBe(false);
}, 120_000);

test('three nodes, each reachable as guest on its own port, one cluster', async () => {
  const c = cluster as RabbitCluster;
  expect(c.nodes.map((n) => n.name)).toEqual(['m1@localhost', 'm2@localhost', 'm3@localhost']);
  expect(c.urls).toBe('amqp://guest:guest@127.0.0.1:5701,amqp://guest:guest@127.0.0.1:5702,amqp://guest:guest@127.0.0.1:5703');
  for (const node of c.nodes) {
    const connection = await connect(node.url);
    const channel = await connection.createChannel();
    await channel.checkQueue('amq.rabbitmq.reply-to').catch(() => undefined); // a round trip, whatever the answer
    await connection.close();
  }
  for (const node of c.nodes) expect((await c.runningNodes(node.name)).sort()).toEqual(c.nodes.map((n) => n.name));
});

test('a quorum queue keeps a confirmed message through its leader going down, and the node comes back', async () => {
  const c = cluster as RabbitCluster;
  const [n1, n2] = c.nodes;
  if (!n1 || !n2) throw new Error('expected 3 nodes');
  const queue = `harness-qq-${randomBytes(4).toString('hex')}`;

  // Declared through m1.
  const declarer = await connect(n1.url);
  const declareChannel = await declarer.createChannel();
  await declareChannel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await declarer.close();

  // Published through m2, confirmed by the cluster.
  const publisher = await connect(n2.url);
  const confirms = await publisher.createConfirmChannel();
  const body = `hello ${queue}`;
  confirms.sendToQueue(queue, Buffer.from(body), { persistent: true });
  await confirms.waitForConfirms();
  await publisher.close();

  const leader = await c.queueLeader(queue);
  expect(c.nodes.map((n) => n.name)).toContain(leader);

  // The leader goes down: a new one is elected among the two left.
  const stopAt = Date.now();
  await c.stopNode(leader);
  timings.stopNodeMs = Date.now() - stopAt;
  const newLeader = await c.queueLeader(queue, '/', { not: leader, timeoutMs: 30_000 });
  timings.failoverMs = Date.now() - stopAt; // stop issued -> new leader seen (includes the stop itself)
  expect(newLeader).not.toBe(leader);
  expect(timings.failoverMs).toBeLessThan(30_000);

  // The confirmed message is still there, through a node that stayed up.
  const survivor = c.nodes.find((n) => n.name !== leader);
  if (!survivor) throw new Error('no surviving node');
  const consumer = await connect(survivor.url);
  const channel = await consumer.createChannel();
  const received = await new Promise<ConsumeMessage>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message within 15 s')), 15_000);
    void channel.consume(queue, (msg) => {
      if (!msg) return;
      clearTimeout(timer);
      channel.ack(msg);
      resolve(msg);
    });
  });
  expect(received.content.toString()).toBe(body);
  await consumer.close();

  // The stopped node comes back into the cluster, and into the queue's membership.
  const startAt = Date.now();
  await c.startNode(leader);
  timings.restartNodeMs = Date.now() - startAt;
  for (const node of c.nodes) expect((await c.runningNodes(node.name)).sort()).toEqual(c.nodes.map((n) => n.name));
  const online = async () => {
    const [row] = JSON.parse(await c.ctl(survivor.name, ['-q', 'list_queues', 'name', 'online', '--formatter', 'json'])) as { online: string[] }[];
    return row?.online.sort() ?? [];
  };
  await eventually(async () => (await online()).length === 3, 30_000, 500);
  expect(await online()).toEqual(c.nodes.map((n) => n.name));
  // And the queue has a leader (perhaps the same as during the outage) with the full cluster.
  await expect(c.queueLeader(queue)).resolves.toMatch(/^m[123]@localhost$/);
});
