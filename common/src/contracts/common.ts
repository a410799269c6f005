import { z } from 'zod';

export const id = z.uuid({ message: 'must be a UUID' });
export const isoTimestamp = z.string();
export const currency = z
  .string()
  .regex(/^[a-zA-Z]{3}$/, 'must be a three-letter ISO 4217 code')
  .transform((c) => c.toLowerCase());

/** `?limit=` 1..100 (default 20) and `?offset=` >= 0; anything else is a 400. */
export const pageQuery = {
  limit: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(1).max(100).default(20),
  offset: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(0).max(10_000_000).default(0),
};

export const idParams = z.object({ id }).strict();

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), limit: z.number().int(), offset: z.number().int(), total: z.number().int() });
}

export interface Page<T> {
  items: T[];
  limit: number;
  offset: number;
  total: number;
}
