import { Broker, type EventEnvelope, type EventPattern, type EventsMatching, EventSubscriber } from '@market/common';
import type { Stack } from './stack';

export interface EventRecorder<P extends EventPattern = EventPattern> {
  /** Every event received so far, in the order it arrived. */
  seen: EventEnvelope<EventsMatching<P>>[];
  /** The events of one type received so far, typed by that type's payload. */
  ofType<T extends EventsMatching<P>>(type: T): EventEnvelope<T>[];
  stop(): Promise<void>;
}

/**
 * Listens to the stack's events that match `patterns`, as another service would: through a private
 * queue of its own, verifying each event came from the service that owns it. Resolves once the queue
 * is bound, so every event published afterwards is recorded.
 */
export async function recordEvents<P extends EventPattern>(stack: Stack, patterns: readonly P[]): Promise<EventRecorder<P>> {
  const broker = new Broker({ url: stack.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672', logger: stack.logger, name: 'test-event-recorder' });
  const seen: EventEnvelope<EventsMatching<P>>[] = [];
  const events = new EventSubscriber(broker, { prefix: stack.env.BUS_PREFIX ?? '', logger: stack.logger, identity: stack.identityOf('api-gateway') });
  events.subscribe({ patterns, handler: async (event) => void seen.push(event) });
  await events.start();
  await broker.start();
  const isOfType = <T extends EventsMatching<P>>(type: T) => (event: EventEnvelope<EventsMatching<P>>): event is EventEnvelope<T> => event.type === type;
  return {
    seen,
    ofType: (type) => seen.filter(isOfType(type)),
    stop: async () => {
      events.stop();
      await broker.close();
    },
  };
}
