import { randomInt, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { type Actor, type contracts, isDuplicateKey } from '@market/common';
import type { PaymentsDeps } from './deps';
import { couponErrors } from './payment-errors';

const CODE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const GENERATED_CODE_LENGTH = 10;
/** 36^10 codes make a collision unlikely; a few tries make it harmless. */
const GENERATE_ATTEMPTS = 3;

/** The gateway lets only admins through; checked again here so that no other caller can mint discounts. */
function assertAdmin(actor: Actor): void {
  if (actor.role !== 'admin') throw couponErrors.notAdmin();
}

export async function createCoupon(deps: PaymentsDeps, actor: Actor, input: z.infer<typeof contracts.createCouponBody>): Promise<contracts.Coupon> {
  assertAdmin(actor);
  const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
  if (expiresAt && expiresAt.getTime() <= Date.now()) throw couponErrors.expiryInPast();
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.coupons.insert({
        id: randomUUID(),
        code: input.code ?? generateCode(),
        percentOff: input.percentOff,
        maxRedemptions: input.maxRedemptions ?? null,
        expiresAt,
        createdBy: actor.id,
      });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      if (input.code || attempt >= GENERATE_ATTEMPTS) throw couponErrors.codeTaken();
    }
  }
}

export async function listCoupons(deps: PaymentsDeps, actor: Actor): Promise<{ items: contracts.Coupon[] }> {
  assertAdmin(actor);
  return { items: await deps.coupons.list() };
}

function generateCode(): string {
  return Array.from({ length: GENERATED_CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
}
