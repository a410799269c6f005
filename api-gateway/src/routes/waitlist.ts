import { contracts } from '@market/common';
import type { RouteDeps } from './deps';
import { type AnyRoute, defineRoute } from './route';

/** A listing's waiting list: orders-service keeps the line and hands the listing over when a hold ends unpaid. */
export function waitlistRoutes({ rpc }: RouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/listings/:id/waitlist', operationId: 'joinWaitlist', tag: 'orders', access: 'signed-in',
      summary: 'Join the waiting list of a held listing (when the hold ends unpaid, the first in line gets a pending order for WAITLIST_HOLD_SECONDS)',
      params: contracts.idParams,
      success: { status: 201, description: 'Your place in line (1: next)', schema: contracts.waitlistEntryReply },
      problems: [403, 404, 409],
      handle: async ({ token, params }) => ({ status: 201, json: await rpc.call('orders.joinWaitlist', { listingId: params.id }, { token }) }),
    }),
    defineRoute({
      method: 'delete', path: '/listings/:id/waitlist', operationId: 'leaveWaitlist', tag: 'orders', access: 'signed-in', summary: 'Leave the waiting list of a listing (also when not in it)',
      params: contracts.idParams,
      success: { status: 204, description: 'Not in the line (any more)' },
      problems: [],
      handle: async ({ token, params }) => {
        await rpc.call('orders.leaveWaitlist', { listingId: params.id }, { token });
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get', path: '/waitlist', operationId: 'listWaitlistPlaces', tag: 'orders', access: 'signed-in', summary: "The caller's places in waiting lists",
      success: { status: 200, description: 'Each place with its current position, oldest first', schema: contracts.waitlistReply },
      problems: [],
      handle: async ({ token }) => ({ status: 200, json: await rpc.call('orders.listWaitlist', {}, { token }) }),
    }),
  ];
}
