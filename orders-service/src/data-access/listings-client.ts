import type { Actor, contracts, RpcClient } from '@market/common';

type Listing = contracts.Listing;

/**
 * listings-service owns a listing's status; an order only asks it to change, one conditional change
 * per call, each keyed by the order id so that a repeated call for the same order is harmless.
 */
export class ListingsClient {
  constructor(private readonly rpc: RpcClient) {}

  /** available → reserved for `orderId`; its AppErrors (404, 403 own_listing, 409 sold/reserved) are the answer to the buyer. */
  async reserve(buyer: Actor, listingId: string, orderId: string): Promise<Listing> {
    const { listing } = await this.rpc.call('listings.reserve', { id: listingId, orderId }, { onBehalfOf: buyer });
    return listing;
  }

  // Release and sale are the service's own follow-ups (a cancel, an expiry, a payment, the sweep), not a
  // person's request, hence no actor: listings-service keys them on the order holding the reservation.

  async release(listingId: string, orderId: string, timeoutMs?: number): Promise<void> {
    await this.rpc.call('listings.release', { id: listingId, orderId }, { ...(timeoutMs ? { timeoutMs } : {}) });
  }

  /** Who sells it and whether it exists or sold: what a join to its waiting list must know. */
  async get(listingId: string): Promise<Listing> {
    const { listing } = await this.rpc.call('listings.get', { id: listingId }, {});
    return listing;
  }

  /** A hand-over: the reservation of `fromOrderId` becomes `toOrderId`'s; repeating it is harmless. */
  async transfer(listingId: string, fromOrderId: string, toOrderId: string, timeoutMs?: number): Promise<void> {
    await this.rpc.call('listings.transfer', { id: listingId, fromOrderId, toOrderId }, { ...(timeoutMs ? { timeoutMs } : {}) });
  }

  async markSold(listingId: string, orderId: string, timeoutMs?: number): Promise<void> {
    await this.rpc.call('listings.markSold', { id: listingId, orderId }, { ...(timeoutMs ? { timeoutMs } : {}) });
  }

  // The goods, for the buyer of a complete order: listings-service hands them over only for the order
  // its listing was sold to.

  /** The text, and what the file is (not its bytes). */
  async orderGoods(listingId: string, orderId: string): Promise<contracts.Goods> {
    const { goods } = await this.rpc.call('listings.orderGoods', { id: listingId, orderId }, {});
    return goods;
  }

  /** The file itself, in base64 as it travels. */
  async goodsFile(listingId: string, orderId: string): Promise<contracts.GoodsFileContent> {
    return this.rpc.call('listings.goodsFile', { id: listingId, orderId }, {});
  }
}
