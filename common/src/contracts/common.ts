import { z } from 'zod';

export const id = z.uuid({ message: 'must be a UUID' });
/** An ISO 8601 UTC timestamp as the services write it (`Date#toISOString`); documented as `date-time`. */
export const isoTimestamp = z.string().meta({ format: 'date-time' });

/** `?limit=` 1..100 (default 20) and `?offset=` >= 0; anything else is a 400. */
export const pageQuery = {
  limit: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(1).max(100).default(20),
  offset: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(0).max(10_000_000).default(0),
};

// \p{Cc} is C0, DEL and C1; a multi-line text may hold two of them, \n and \t.
const CONTROLS_SINGLE_LINE = /\p{Cc}/u;
const CONTROLS_MULTILINE = /(?![\n\t])\p{Cc}/u;
// U+2028/U+2029 are line breaks a renderer honours but a newline check misses.
const LINE_SEPARATORS = /[\u2028\u2029]/u;
// Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) open a direction scope that can run
// past the field into whatever the page shows next (Trojan Source, spoofed file names). The marks
// (U+200E/U+200F, U+061C) are allowed: they open no scope, and mixed Arabic/Hebrew-and-Latin text needs them.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/u;
// What renders as nothing: white space, the default-ignorable code points (zero-width space and joiners,
// U+2060, U+FEFF, the soft hyphen, bidi marks, Hangul fillers, variation selectors, tags) and the blank
// braille pattern, a favourite for names that look empty.
const INVISIBLE = /[\p{White_Space}\p{Default_Ignorable_Code_Point}\u2800]/gu;

/**
 * Free text a person types and others read (a name, a title, a description). Refuses control
 * characters (a multi-line text may hold \n and \t; a Windows \r\n becomes \n), bidi embeddings,
 * overrides and isolates, and text with nothing visible. A single line is trimmed; `allowEmpty`
 * lets "" mean "none" (a description), anything else must show something. `max` counts UTF-16 units.
 */
export function text({ max, multiline = false, allowEmpty = false }: { max: number; multiline?: boolean; allowEmpty?: boolean }) {
  const base = multiline ? z.string().overwrite((s) => s.replace(/\r\n/g, '\n')) : z.string().trim();
  return (allowEmpty ? base : base.min(1, 'must not be empty'))
    .max(max, `must be at most ${max} characters`)
    .superRefine((value, ctx) => {
      const problem = textProblem(value, multiline);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({
      description:
        (multiline ? 'Text: newlines and tabs allowed, no other control characters' : 'One line of text: no control characters') +
        ', no bidi embeddings, overrides or isolates, and something visible' +
        (allowEmpty ? ' (or empty for none).' : '.'),
    });
}

function textProblem(value: string, multiline: boolean): string | undefined {
  if (value === '') return undefined; // empty is `min`'s to refuse, or "none" where allowed
  if (!multiline && (/[\n\r]/.test(value) || LINE_SEPARATORS.test(value))) return 'must be a single line';
  if ((multiline ? CONTROLS_MULTILINE : CONTROLS_SINGLE_LINE).test(value)) {
    return multiline ? 'must not contain control characters other than newline and tab' : 'must not contain control characters';
  }
  if (multiline && LINE_SEPARATORS.test(value)) return 'must use \\n for line breaks, not U+2028 or U+2029';
  if (BIDI_CONTROLS.test(value)) return 'must not contain bidirectional embedding, override or isolate characters (U+202A–U+202E, U+2066–U+2069)';
  if (value.replace(INVISIBLE, '') === '') return 'must contain something visible';
  return undefined;
}

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
