import type { ServiceName } from '../auth/service-identity';

const EVENT_OWNERS: Record<string, ServiceName> = { user: 'users', listing: 'listings', order: 'orders', payment: 'payments' };

/** Events are accepted only from the service that owns their subject: `user.*` from users, and so on. */
export function eventOwner(type: string): ServiceName | undefined {
  return EVENT_OWNERS[type.split('.')[0] ?? ''];
}

/** The service that serves `listings.get` is `listings`. */
export function methodOwner(method: string): string {
  return method.split('.')[0] ?? '';
}
