import type { Channel, ConsumeMessage } from 'amqplib';
import type { Broker, SetupScope } from './connection';

/**
 * Every durable queue is a quorum queue: replicated over a cluster's nodes, and able to dead-letter
 * at-least-once. A queue cannot change its type, so the quorum queues carry a suffix the classic queues
 * of earlier releases did not; `consumeWithLegacy` empties those.
 */
export const QUORUM_SUFFIX = '.quorum';

export function quorumQueue(base: string): string {
  return base.endsWith(QUORUM_SUFFIX) ? base : `${base}${QUORUM_SUFFIX}`;
}

/** The classic queue an earlier release declared in place of a quorum queue. */
export function legacyQueue(name: string): string {
  return name.endsWith(QUORUM_SUFFIX) ? name.slice(0, -QUORUM_SUFFIX.length) : name;
}

export async function declareQuorumQueue(channel: Channel, name: string, args: Record<string, unknown> = {}): Promise<string> {
  await channel.assertQueue(quorumQueue(name), { durable: true, arguments: { ...args, 'x-queue-type': 'quorum' } });
  return quorumQueue(name);
}

/**
 * Consumes a quorum queue and, for as long as it exists, the classic queue an earlier release used in
 * its place, so nothing waiting there is lost in an upgrade (README, "Upgrading from a release with
 * classic queues"). An event queue's classic twin is first unbound, so that new events go only to the
 * quorum queue. Returns the consumer tags, to cancel them at shutdown.
 */
export async function consumeWithLegacy(
  scope: Pick<SetupScope, 'exists'>,
  channel: Channel,
  queue: string,
  onMessage: (msg: ConsumeMessage) => void,
  unbind?: { exchange: string; patterns: readonly string[] },
): Promise<string[]> {
  const tags = [(await channel.consume(queue, (msg) => msg && onMessage(msg))).consumerTag];
  const legacy = legacyQueue(queue);
  if (legacy === queue || !(await scope.exists(legacy))) return tags;
  for (const pattern of unbind?.patterns ?? []) await channel.unbindQueue(legacy, unbind?.exchange ?? '', pattern);
  tags.push((await channel.consume(legacy, (msg) => msg && onMessage(msg))).consumerTag);
  return tags;
}

export function deadLetterExchange(prefix: string): string {
  return `${prefix}.dead-letter`;
}

const deadLetterDeclared = new WeakMap<Broker, Set<string>>();

/**
 * Every queue dead-letters to `<prefix>.dead-letter`: rejected (invalid) messages are kept there for
 * inspection, bounded. The exchange and its queue are declared by a setup of their own (once per
 * connection), so a dead-letter queue whose leader is away holds up no component. Returns the
 * exchange's name for `x-dead-letter-exchange`, which may name an exchange that does not exist yet.
 */
export async function ensureDeadLetter(broker: Broker, prefix: string): Promise<string> {
  const exchange = deadLetterExchange(prefix);
  const declared = deadLetterDeclared.get(broker) ?? new Set<string>();
  deadLetterDeclared.set(broker, declared);
  if (declared.has(prefix)) return exchange;
  declared.add(prefix);
  await broker.onConnect(async (scope) => {
    const channel = await scope.channel();
    await channel.assertExchange(exchange, 'fanout', { durable: true });
    const queue = await declareQuorumQueue(channel, exchange, { 'x-max-length': 10_000 });
    await channel.bindQueue(queue, exchange, '');
    await channel.close();
  }, 'dead-letter queue');
  return exchange;
}

/**
 * Acknowledges, dead-letters or requeues a delivery. If its channel has closed meanwhile (a broker
 * restart, a shutdown), the broker has already put the message back, so there is nothing left to do —
 * and amqplib's throw must not escape into a timer or a promise nobody awaits.
 */
export function settleDelivery(channel: Channel, msg: ConsumeMessage, outcome: 'ack' | 'dead-letter' | 'requeue'): void {
  try {
    if (outcome === 'ack') channel.ack(msg);
    else channel.nack(msg, false, outcome === 'requeue');
  } catch {
    // channel closed: the delivery is already back in its queue
  }
}
