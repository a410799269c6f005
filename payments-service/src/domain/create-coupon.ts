import { randomInt, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { type Actor, type contracts, isDuplicateKey, problem } from '@market/common';
import { assertCouponAdmin } from './coupon-rules';
import { publicCoupon } from './coupon-view';
import type { PaymentsDeps } from './deps';
import { couponErrors } from './payment-errors';

const CODE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const GENERATED_CODE_LENGTH = 10;
/** 36^10 codes make a collision unlikely; a few tries make it harmless. */
const GENERATE_ATTEMPTS = 3;

/** An admin creates a coupon, with the code they chose or a generated one. */
export async function createCoupon(deps: PaymentsDeps, actor: Actor, input: z.infer<typeof contracts.createCouponBody>): Promise<contracts.Coupon> {
  assertCouponAdmin(actor);
  const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
  if (expiresAt && expiresAt.getTime() <= Date.now()) throw couponErrors.expiryInPast();
  for (let attempt = 1; ; attempt++) {
    try {
      return publicCoupon(
        await deps.coupons.insert({
          id: randomUUID(),
          code: input.code ?? generateCode(),
          percentOff: input.percentOff,
          maxRedemptions: input.maxRedemptions ?? null,
          expiresAt,
          createdBy: actor.id,
        }),
      );
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      if (input.code || attempt >= GENERATE_ATTEMPTS) throw problem('coupon_code_taken');
    }
  }
}

function generateCode(): string {
  return Array.from({ length: GENERATED_CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
}
