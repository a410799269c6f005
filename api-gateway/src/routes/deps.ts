import type { PublicJwk, RpcClient } from '@market/common';
import type { ReadCache } from '../http/read-cache';
import type { UsersClient } from '../http/users-client';

export interface RouteDeps {
  rpc: RpcClient;
  cache: ReadCache;
  users: UsersClient;
  /** The public keys that verify access tokens, as a JSON Web Key Set. */
  jwks: { keys: PublicJwk[] };
  /** Paying spans a provider round trip and an orders call of its own, so it may take longer than one hop. */
  paymentTimeoutMs: number;
  /** STRIPE_PUBLISHABLE_KEY, for browsers (GET /config); null with the sandbox. */
  stripePublishableKey: string | null;
}

export const cacheHeader = (hit: boolean): Record<string, string> => ({ 'X-Cache': hit ? 'HIT' : 'MISS' });
export const jsonBody = (body: string): { body: string; contentType: string } => ({ body, contentType: 'application/json; charset=utf-8' });

/** What cached entries depend on: one name per resource, shared by the reads and their invalidations. */
export const cached = {
  listing: (id: string): string => `listing:${id}`,
  listings: 'listings',
  user: (id: string): string => `user:${id}`,
};

/**
 * A listing changed: its own entry and every page of listings that may show it, once per `version` of
 * it (see ReadCache.forget); FINAL_VERSION when it was deleted, undefined when the change's version is
 * not known here.
 */
export async function forgetListing(cache: ReadCache, listingId: string, version?: number): Promise<void> {
  if (await cache.forget(cached.listing(listingId), version)) await cache.invalidate(cached.listings);
}
