import { type contracts, problem } from '@market/common';

export const listingErrors = {
  /**
   * A new price its currency cannot be charged in. Not `validation_failed`, which the RPC server
   * keeps for malformed messages (it dead-letters them): this one is a well-formed request.
   */
  priceNotChargeable: (currency: string, refusal: contracts.AmountProblem) =>
    problem('invalid_price', currency, { errors: [{ field: 'priceCents', message: refusal.message }] }),
};
