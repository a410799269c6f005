import { z } from 'zod';

/**
 * Money is an integer in the currency's minor unit: cents for usd (2500 = 25.00 usd), yen for the
 * zero-decimal jpy (2500 = 2,500 jpy), fils for the three-decimal kwd (2500 = 2.500 kwd). The
 * `…Cents` names (priceCents, amountCents) are kept for compatibility and mean this minor unit.
 */
export interface CurrencyRule {
  /** Digits after the decimal point: 2 (usd: cents), 0 (jpy: whole yen) or 3 (kwd: fils). */
  readonly exponent: 0 | 2 | 3;
  /** The smallest amount Stripe charges in this currency, in minor units. */
  readonly minimum: number;
  /** The largest amount Stripe charges in this currency, in minor units. */
  readonly maximum: number;
  /** Every amount must be a multiple of this: Stripe wants three-decimal amounts to end in 0. */
  readonly multipleOf: 1 | 10;
}

/*
 * Stripe's rules for a card charge, from https://docs.stripe.com/currencies
 * ("Minimum and maximum charge amounts", "Zero-decimal currencies", "Three-decimal currencies"):
 *
 * - Minimum: Stripe's table of minimum charge amounts per currency. It holds for a charge in the
 *   currency of one of the Stripe account's bank accounts; a charge Stripe has to convert into
 *   another settlement currency must reach that currency's minimum after conversion (e.g. 0.50 usd).
 *   Stripe checks that itself, and the Stripe provider turns its refusal into the same 400.
 * - Maximum: eight digits (99,999,999 minor units), as the PaymentIntent API reference for `amount`
 *   says (https://docs.stripe.com/api/payment_intents/create). The currencies page allows more
 *   digits for card payments, but not for every card (American Express stops at nine digits; JCB,
 *   Diners Club and Discover from Japanese accounts at eight), and a price is set long before anyone
 *   knows the buyer's card, so eight digits is what holds for every card.
 * - Three-decimal currencies (bhd, jod, kwd, omr): Stripe wants the last digit to be 0
 *   (https://docs.stripe.com/currencies#three-decimal). Stripe publishes no minimum for them, so
 *   theirs is ours: 0.65 to 0.70 usd, comfortably above the 0.50 usd (or 2.00 aed) a charge must
 *   convert to (all four are pegged to the dollar or to a basket). Stripe offers them only to
 *   accounts in some countries (e.g. the UAE); an account elsewhere refuses them as an invalid
 *   currency. tnd, the fifth three-decimal currency, is left out: a closed currency, which card
 *   payments from abroad do not use.
 *
 * Left out on purpose: currencies without a published minimum other than the three-decimal ones;
 * isk and ugx (Stripe wants them as two-decimal amounts ending in 00); inr (its own limits and
 * rules for cross-border charges); bgn (replaced by the euro).
 */
const EIGHT_DIGITS = 99_999_999;
const twoDecimal = (minimum: number): CurrencyRule => ({ exponent: 2, minimum, maximum: EIGHT_DIGITS, multipleOf: 1 });
const zeroDecimal = (minimum: number): CurrencyRule => ({ exponent: 0, minimum, maximum: EIGHT_DIGITS, multipleOf: 1 });
// The largest eight-digit amount ending in 0.
const threeDecimal = (minimum: number): CurrencyRule => ({ exponent: 3, minimum, maximum: EIGHT_DIGITS - 9, multipleOf: 10 });

/** The currencies a listing may be priced in, and every payment provider's rules for them. */
export const CURRENCIES = {
  usd: twoDecimal(50), // $0.50
  aed: twoDecimal(200), // 2.00 د.إ
  aud: twoDecimal(50), // $0.50
  brl: twoDecimal(50), // R$0.50
  cad: twoDecimal(50), // $0.50
  chf: twoDecimal(50), // 0.50 Fr
  czk: twoDecimal(1500), // 15.00 Kč
  dkk: twoDecimal(250), // 2.50 kr.
  eur: twoDecimal(50), // €0.50
  gbp: twoDecimal(30), // £0.30
  hkd: twoDecimal(400), // $4.00
  huf: twoDecimal(17500), // 175.00 Ft (charged with two decimals; Stripe pays huf out in whole forints)
  mxn: twoDecimal(1000), // $10
  myr: twoDecimal(200), // RM 2
  nok: twoDecimal(300), // 3.00 kr.
  nzd: twoDecimal(50), // $0.50
  pln: twoDecimal(200), // 2.00 zł
  ron: twoDecimal(200), // lei 2.00
  sek: twoDecimal(300), // 3.00 kr.
  sgd: twoDecimal(50), // $0.50
  thb: twoDecimal(1000), // ฿10
  jpy: zeroDecimal(50), // ¥50
  krw: zeroDecimal(50), // ₩50
  bhd: threeDecimal(250), // 0.250 BD (ours: Stripe publishes none)
  jod: threeDecimal(500), // 0.500 JD (ours)
  kwd: threeDecimal(200), // 0.200 KD (ours)
  omr: threeDecimal(250), // 0.250 OMR (ours)
} as const satisfies Record<string, CurrencyRule>;

export type CurrencyCode = keyof typeof CURRENCIES;
export const CURRENCY_CODES = Object.keys(CURRENCIES) as [CurrencyCode, ...CurrencyCode[]];
export const DEFAULT_CURRENCY: CurrencyCode = 'usd';

const RULES: Readonly<Record<string, CurrencyRule>> = CURRENCIES;
/** The largest maximum of any currency: the bound a price has before its currency is known. */
export const MAX_AMOUNT = Math.max(...Object.values(RULES).map((rule) => rule.maximum));

export function isCurrencyCode(code: string): code is CurrencyCode {
  return Object.hasOwn(RULES, code);
}

/** `50, 'usd'` → `0.50 usd`; `50, 'jpy'` → `50 jpy`; `99999999, 'usd'` → `999,999.99 usd`. */
export function formatAmount(amount: number, currency: CurrencyCode): string {
  const { exponent } = CURRENCIES[currency];
  const digits = String(Math.abs(amount)).padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${amount < 0 ? '-' : ''}${whole}${exponent ? `.${digits.slice(digits.length - exponent)}` : ''} ${currency}`;
}

/** Why Stripe would refuse to charge an amount, with the code Stripe gives for it. */
export interface AmountProblem {
  code: 'amount_too_small' | 'amount_too_large' | 'invalid_charge_amount';
  /** Worded for a field: "must be at least 50 (0.50 usd), …". */
  message: string;
}

/** Checks a whole, positive amount against its currency's rules; undefined when Stripe would charge it. */
export function amountProblem(amount: number, currency: CurrencyCode): AmountProblem | undefined {
  const { minimum, maximum, multipleOf } = CURRENCIES[currency];
  if (amount < minimum) {
    return { code: 'amount_too_small', message: `must be at least ${minimum} (${formatAmount(minimum, currency)}), the smallest charge Stripe accepts in ${currency}` };
  }
  if (amount > maximum) {
    return { code: 'amount_too_large', message: `must be at most ${maximum} (${formatAmount(maximum, currency)}), the largest charge Stripe accepts in ${currency}` };
  }
  if (amount % multipleOf !== 0) {
    return { code: 'invalid_charge_amount', message: `must be a multiple of ${multipleOf}: Stripe charges ${currency} in steps of ${formatAmount(multipleOf, currency)}` };
  }
  return undefined;
}

/** A currency from the supported list, in any letter case; stored and answered in lowercase. */
export const currency = z
  .preprocess((value) => (typeof value === 'string' ? value.toLowerCase() : value), z.enum(CURRENCY_CODES, { message: `must be one of ${CURRENCY_CODES.join(', ')}` }))
  .meta({ description: `ISO 4217 code of a supported currency, in any letter case (answered in lowercase). Default ${DEFAULT_CURRENCY}.` });

const limits = (code: CurrencyCode): string => `${CURRENCIES[code].minimum} to ${CURRENCIES[code].maximum} for ${code}`;

/** Describes an amount field in the API documents. */
export const MINOR_UNIT_DESCRIPTION =
  "An integer in the currency's minor unit: cents for usd (2500 = 25.00 usd), yen for the zero-decimal jpy and krw (2500 = 2,500 jpy), " +
  'thousandths for the three-decimal bhd, jod, kwd and omr (2500 = 2.500 kwd; Stripe wants these to end in 0). ' +
  `Each currency has Stripe's minimum and maximum charge (e.g. ${limits('usd')}, ${limits('jpy')}, ${limits('kwd')}).`;

/** Some currencies' minimum charge, for the API documents: `0.50 usd, 50 jpy, 0.200 kwd`. */
export const MINIMUM_EXAMPLES = (['usd', 'jpy', 'kwd'] as const).map((code) => formatAmount(CURRENCIES[code].minimum, code)).join(', ');

/** An amount in an answer, documented as being in its currency's minor unit. */
export const minorUnits = (what: string) =>
  z.number().int().meta({ description: `${what}, in the currency's minor unit (cents for usd, yen for jpy, thousandths for kwd).` });
