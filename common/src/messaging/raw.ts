import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type GetMessage } from 'amqplib';

export type RawConnection = ChannelModel;
export type RawChannel = Channel;
export type RawConfirmChannel = ConfirmChannel;
export type RawMessage = ConsumeMessage;
export type RawGetMessage = GetMessage;

/**
 * A plain AMQP connection with none of this layer's guarantees or signatures: for tests and tools that
 * inspect the broker, clean up after themselves, or play an outsider with broker credentials (a forged
 * request, a message the previous release left behind). Services never use it.
 */
export function connectRaw(url: string, options: { timeout?: number } = {}): Promise<RawConnection> {
  return amqp.connect(url, options);
}
