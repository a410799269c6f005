import { contracts } from '@market/common';
import { FINAL_VERSION } from '../http/read-cache';
import { cached, cacheHeader, forgetListing, jsonBody, type RouteDeps } from './deps';
import { type AnyRoute, defineRoute } from './route';

export function listingRoutes({ rpc, cache }: RouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/listings', operationId: 'createListing', tag: 'listings', access: 'signed-in', summary: 'List something for sale',
      body: contracts.createListingBody,
      success: { status: 201, description: 'The new listing', schema: contracts.listingReply },
      problems: [],
      handle: async ({ token, body }) => {
        const reply = await rpc.call('listings.create', body, { token });
        await forgetListing(cache, reply.listing.id, reply.listing.version);
        return { status: 201, json: reply };
      },
    }),
    defineRoute({
      method: 'get', path: '/listings', operationId: 'listListings', tag: 'listings', access: 'anyone', summary: 'Browse and search listings',
      query: contracts.listingsQuery,
      // The search text last and encoded: no value of it can pass for another query's variant.
      cacheKey: ({ query }) => ({ resource: cached.listings, variant: `l${query.limit}o${query.offset}s${query.status ?? ''}u${query.sellerId ?? ''}q${encodeURIComponent(query.q ?? '')}` }),
      success: { status: 200, description: 'A page of listings, newest first', schema: contracts.listingPage },
      problems: [],
      handle: async ({ query, cached: entry }) => {
        const { body, hit } = await cache.read(entry!.key, () => rpc.call('listings.list', query, {}), entry!.found);
        return { status: 200, raw: jsonBody(body), headers: cacheHeader(hit) };
      },
    }),
    defineRoute({
      method: 'get', path: '/listings/:id', operationId: 'getListing', tag: 'listings', access: 'anyone', summary: 'A listing',
      params: contracts.idParams,
      cacheKey: ({ params }) => ({ resource: cached.listing(params.id), variant: 'v' }),
      success: { status: 200, description: 'The listing', schema: contracts.listingReply },
      problems: [404],
      handle: async ({ params, cached: entry }) => {
        const { body, hit } = await cache.read(entry!.key, () => rpc.call('listings.get', { id: params.id }, {}), entry!.found);
        return { status: 200, raw: jsonBody(body), headers: cacheHeader(hit) };
      },
    }),
    defineRoute({
      method: 'patch', path: '/listings/:id', operationId: 'updateListing', tag: 'listings', access: 'signed-in', summary: 'Edit a listing (seller only, not while reserved or sold)',
      params: contracts.idParams,
      body: contracts.updateListingBody,
      success: { status: 200, description: 'The edited listing', schema: contracts.listingReply },
      problems: [403, 404, 409],
      handle: async ({ token, params, body }) => {
        const reply = await rpc.call('listings.update', { id: params.id, changes: body }, { token });
        await forgetListing(cache, params.id, reply.listing.version);
        return { status: 200, json: reply };
      },
    }),
    defineRoute({
      method: 'delete', path: '/listings/:id', operationId: 'deleteListing', tag: 'listings', access: 'signed-in', summary: 'Delete a listing (seller or admin, not while reserved or sold)',
      params: contracts.idParams,
      success: { status: 204, description: 'Deleted' },
      problems: [403, 404, 409],
      handle: async ({ token, params }) => {
        await rpc.call('listings.delete', { id: params.id }, { token });
        await forgetListing(cache, params.id, FINAL_VERSION);
        return { status: 204 };
      },
    }),
  ];
}
