import { requireActor, type RpcServer } from '@market/common';
import { createListing } from '../domain/create-listing';
import { deleteListing } from '../domain/delete-listing';
import type { ListingsDeps } from '../domain/deps';
import { getGoods } from '../domain/get-goods';
import { getListing } from '../domain/get-listing';
import { goodsFileOfOrder } from '../domain/goods-file-of-order';
import { goodsOfOrder } from '../domain/goods-of-order';
import { listListings } from '../domain/list-listings';
import { markListingSold } from '../domain/mark-listing-sold';
import { putGoodsFile } from '../domain/put-goods-file';
import { putGoodsText } from '../domain/put-goods-text';
import { releaseListing } from '../domain/release-listing';
import { reserveListing } from '../domain/reserve-listing';
import { transferReservation } from '../domain/transfer-reservation';
import { updateListing } from '../domain/update-listing';

export function serveListings(rpc: RpcServer, deps: ListingsDeps): void {
  rpc
    .serve('listings.create', async (input, { actor }) => ({ listing: await createListing(deps, requireActor(actor), input) }))
    .serve('listings.get', async ({ id }) => ({ listing: await getListing(deps, id) }))
    .serve('listings.list', async (query) => listListings(deps, query))
    .serve('listings.update', async ({ id, changes }, { actor }) => ({ listing: await updateListing(deps, requireActor(actor), id, changes) }))
    .serve('listings.delete', async ({ id }, { actor }) => {
      await deleteListing(deps, requireActor(actor), id);
      return {};
    })
    .serve('listings.reserve', async ({ id, orderId }, { actor }) => ({ listing: await reserveListing(deps, requireActor(actor), id, orderId) }))
    .serve('listings.release', async ({ id, orderId }) => ({ listing: await releaseListing(deps, id, orderId) }))
    .serve('listings.markSold', async ({ id, orderId }) => ({ listing: await markListingSold(deps, id, orderId) }))
    .serve('listings.transfer', async ({ id, fromOrderId, toOrderId }) => ({ listing: await transferReservation(deps, id, fromOrderId, toOrderId) }))
    .serve('listings.putGoodsText', async ({ id, text }, { actor }) => ({ goods: await putGoodsText(deps, requireActor(actor), id, text) }))
    .serve('listings.putGoodsFile', async ({ id, name, contentType, contentBase64 }, { actor }) => ({
      goods: await putGoodsFile(deps, requireActor(actor), id, { name, contentType, bytes: Buffer.from(contentBase64, 'base64') }),
    }))
    .serve('listings.getGoods', async ({ id }, { actor }) => ({ goods: await getGoods(deps, requireActor(actor), id) }))
    .serve('listings.orderGoods', async ({ id, orderId }) => ({ goods: await goodsOfOrder(deps, id, orderId) }))
    .serve('listings.goodsFile', async ({ id, orderId }) => goodsFileOfOrder(deps, id, orderId));
}
