import type { z } from 'zod';
import { AppError, type FieldError } from './app-error';

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.map(String).join('.') : '(body)',
    message: issue.message,
  }));
}

/** Parses `input` with `schema`, or throws a 400 listing every bad field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what = 'request'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new AppError(400, 'validation_failed', `The ${what} has invalid fields.`, fieldErrors(result.error));
}
