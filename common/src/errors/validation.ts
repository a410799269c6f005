import type { z } from 'zod';
import type { FieldError } from './app-error';
import { problem } from './catalogue';

/** Where a request's parameters come from: their errors name the parameter, never `(body)`. */
export type ParameterSource = 'query' | 'path' | 'headers';

/**
 * Each issue as a field error. An issue about a whole body is `(body)`; among parameters (`source`)
 * an unknown one is named itself, as a bad value would be, and a whole-input issue names the source.
 */
export function fieldErrors(error: z.ZodError, source?: ParameterSource): FieldError[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    if (source && issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...at, key].join('.'), message: `is not a ${source === 'headers' ? 'header' : 'parameter'} of this route` }));
    }
    return [{ field: at.length ? at.join('.') : source ? `(${source})` : '(body)', message: issue.message }];
  });
}

/** Parses `input` with `schema`, or throws a 400 listing every bad field (`source`: see fieldErrors). */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what = 'request', source?: ParameterSource): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw problem('validation_failed', 'fields', what, { errors: fieldErrors(result.error, source) });
}
