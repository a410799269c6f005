import { connectRaw, type RawChannel, type RawGetMessage } from '@market/common';
import type { Stack } from './stack';
import { eventually } from './wait';

/** How many messages are ready in one of the stack's queues (named without the stack's prefix), as the management UI shows. */
export async function messagesReady(stack: Stack, queue: string): Promise<number> {
  const connection = await connectRaw((stack.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672').split(',')[0] as string);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(`${stack.env.BUS_PREFIX}.${queue}`)).messageCount;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** The first message to reach `queue` within `timeoutMs`, taken off it; or false when none came. */
export async function firstMessage(channel: RawChannel, queue: string, timeoutMs = 2000): Promise<RawGetMessage | false> {
  let found: RawGetMessage | false = false;
  await eventually(async () => (found = await channel.get(queue, { noAck: true })) !== false, timeoutMs);
  return found;
}
