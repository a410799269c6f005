import { contracts, requireActor, type RpcServer, validate } from '@market/common';
import * as deliver from '../domain/deliver-goods';
import type { ListingsDeps } from '../domain/deps';
import * as goods from '../domain/manage-goods';
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
    })
    .serve('listings.putGoodsText', async (payload, { actor }) => {
      const { id, text } = validate(schemas.putGoodsText, payload, 'message');
      return { goods: await goods.putGoodsText(deps, requireActor(actor), id, text) };
    })
    .serve('listings.putGoodsFile', async (payload, { actor }) => {
      const { id, name, contentType, contentBase64 } = validate(schemas.putGoodsFile, payload, 'message');
      return { goods: await goods.putGoodsFile(deps, requireActor(actor), id, { name, contentType, bytes: Buffer.from(contentBase64, 'base64') }) };
    })
    .serve('listings.getGoods', async (payload, { actor }) => ({ goods: await goods.getGoods(deps, requireActor(actor), validate(schemas.getGoods, payload, 'message').id) }))
    .serve('listings.orderGoods', async (payload) => {
      const { id, orderId } = validate(schemas.orderGoods, payload, 'message');
      return { goods: await deliver.goodsOfOrder(deps, id, orderId) };
    })
    .serve('listings.goodsFile', async (payload) => {
      const { id, orderId } = validate(schemas.goodsFile, payload, 'message');
      return deliver.goodsFileOfOrder(deps, id, orderId);
    });
}
