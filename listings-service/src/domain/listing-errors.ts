import { AppError, type contracts } from '@market/common';

export const RESERVED_DETAIL = 'This listing is being checked out by someone else, please come back later';

export const listingErrors = {
  reserved: () => new AppError(409, 'listing_reserved', RESERVED_DETAIL),
  reservedForEdit: () => new AppError(409, 'listing_reserved', 'This listing is being checked out; it cannot be changed or deleted until the checkout ends.'),
  sold: () => new AppError(409, 'listing_sold', 'This listing has already been sold.'),
  notSeller: () => new AppError(403, 'not_listing_seller', 'Only the seller can change this listing.'),
  notSellerOrAdmin: () => new AppError(403, 'not_listing_seller', 'Only the seller or an admin can delete this listing.'),
  ownListing: () => new AppError(403, 'own_listing', 'You cannot buy your own listing.'),
  notReservedForOrder: () => new AppError(409, 'listing_not_reserved', 'The listing is not reserved for this order.'),
  // The goods (manage-goods.ts, deliver-goods.ts).
  notGoodsSeller: () => new AppError(403, 'not_listing_seller', "Only the seller can see or change this listing's goods."),
  notSoldToOrder: () => new AppError(409, 'listing_not_sold', 'This listing was not sold to this order.'),
  emptyFile: () => new AppError(400, 'empty_file', 'The file is empty: send its bytes as the request body.'),
  fileTooLarge: (maxBytes: number) => new AppError(413, 'payload_too_large', `The file is larger than ${maxBytes / (1024 * 1024)} MB.`),
  editConflict: () => new AppError(409, 'edit_conflict', 'The listing changed while you were editing it. Please try again.'),
  /**
   * A new price its currency cannot be charged in. Not `validation_failed`, which the RPC server
   * keeps for malformed messages (it dead-letters them): this one is a well-formed request.
   */
  priceNotChargeable: (currency: string, problem: contracts.AmountProblem) =>
    new AppError(400, 'invalid_price', `This price cannot be charged in ${currency}.`, [{ field: 'priceCents', message: problem.message }]),
};
