import { contracts, requireActor, type RpcServer, validate } from '@market/common';
import type { ListingsDeps } from '../domain/deps';
import * as manage from '../domain/manage-listings';
import * as reservations from '../domain/reservations';

export function serveListings(rpc: RpcServer, deps: ListingsDeps): void {
  const { listingsRpc: schemas } = contracts;
  rpc
    .serve('listings.create', async (payload, { actor }) => ({ listing: await manage.createListing(deps, requireActor(actor), validate(schemas.create, payload, 'message')) }))
    .serve('listings.get', async (payload) => ({ listing: await manage.getListing(deps, validate(schemas.get, payload, 'message').id) }))
    .serve('listings.list', async (payload) => manage.listListings(deps, validate(schemas.list, payload, 'message')))
    .serve('listings.update', async (payload, { actor }) => {
      const { id, changes } = validate(schemas.update, payload, 'message');
      return { listing: await manage.updateListing(deps, requireActor(actor), id, changes) };
    })
    .serve('listings.delete', async (payload, { actor }) => {
      await manage.deleteListing(deps, requireActor(actor), validate(schemas.delete, payload, 'message').id);
      return {};
    })
    .serve('listings.reserve', async (payload, { actor }) => {
      const { id, orderId } = validate(schemas.reserve, payload, 'message');
      return { listing: await reservations.reserveListing(deps, requireActor(actor), id, orderId) };
    })
    .serve('listings.release', async (payload) => {
      const { id, orderId } = validate(schemas.release, payload, 'message');
      return { listing: await reservations.releaseListing(deps, id, orderId) };
    })
    .serve('listings.markSold', async (payload) => {
      const { id, orderId } = validate(schemas.markSold, payload, 'message');
      return { listing: await reservations.markListingSold(deps, id, orderId) };
    })
    .serve('listings.transfer', async (payload) => {
      const { id, fromOrderId, toOrderId } = validate(schemas.transfer, payload, 'message');
      return { listing: await reservations.transferReservation(deps, id, fromOrderId, toOrderId) };
    });
}
