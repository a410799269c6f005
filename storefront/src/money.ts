// Prices: integers in the currency's minor unit (the API's `priceCents`), shown and typed in its major
// unit. The exponents are the API's own (common/src/contracts/money.ts `CURRENCIES`): a Record over the
// contract's CurrencyCode, so adding or removing a currency there fails this file's type check.
// (Intl's digits are not used for this: they differ for some, e.g. huf, which Stripe charges with two.)
import type { CurrencyCode } from './api';

export const EXPONENT: Record<CurrencyCode, 0 | 2 | 3> = {
  usd: 2, aed: 2, aud: 2, brl: 2, cad: 2, chf: 2, czk: 2, dkk: 2, eur: 2, gbp: 2, hkd: 2, huf: 2, mxn: 2,
  myr: 2, nok: 2, nzd: 2, pln: 2, ron: 2, sek: 2, sgd: 2, thb: 2,
  jpy: 0, krw: 0,
  bhd: 3, jod: 3, kwd: 3, omr: 3,
};

export const CURRENCY_CODES = Object.keys(EXPONENT) as CurrencyCode[];
export const DEFAULT_CURRENCY: CurrencyCode = 'usd';

export const isCurrency = (code: string): code is CurrencyCode => Object.hasOwn(EXPONENT, code);

/** `1250, 'usd'` → `$12.50`; `2500, 'jpy'` → `¥2,500`. */
export function formatPrice(amount: number, currency: string): string {
  const digits = isCurrency(currency) ? EXPONENT[currency] : 2;
  try {
    return new Intl.NumberFormat(undefined, {
      style: 'currency',
      currency: currency.toUpperCase(),
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(amount / 10 ** digits);
  } catch {
    return `${(amount / 10 ** digits).toFixed(digits)} ${currency.toUpperCase()}`;
  }
}

/** The amount as typed in a price field: `1250, 'usd'` → `12.50`. */
export function toMajorText(amount: number, currency: CurrencyCode): string {
  const exponent = EXPONENT[currency];
  const digits = String(amount).padStart(exponent + 1, '0');
  return exponent ? `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}` : digits;
}

/**
 * A price typed in the major unit → minor units, without floating point: `12.5` usd → 1250,
 * `2500` jpy → 2500. A comma works as the decimal mark too. Returns a sentence when it is not a price.
 */
export function parsePrice(text: string, currency: CurrencyCode): number | string {
  const exponent = EXPONENT[currency];
  const value = text.trim().replace(',', '.');
  const match = /^(\d{1,12})(?:\.(\d*))?$/.exec(value);
  if (!match) return exponent ? `Enter the price as a number, like 12.50.` : `Enter the price as a whole number, like 2500.`;
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) {
    return exponent ? `A ${currency} price has at most ${exponent} digits after the decimal point.` : `A ${currency} price has no decimals.`;
  }
  const amount = Number(match[1]) * 10 ** exponent + Number(fraction.padEnd(exponent, '0') || '0');
  if (amount < 1) return 'The price must be more than zero.';
  return amount;
}
