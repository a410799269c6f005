import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AppError, catalogueRows, ERROR_CATALOGUE, problem } from '../src';

const ROOT = join(__dirname, '..', '..');
const README = join(ROOT, 'README.md');
const START = '<!-- errors:start -->';
const END = '<!-- errors:end -->';

/** The README's error table as the catalogue says it should read: by status, then code. */
function expectedTable(): string {
  const rows = catalogueRows().sort((a, b) => a.status - b.status || a.code.localeCompare(b.code));
  return [
    '| Code | Status | When |',
    '|------|--------|------|',
    ...rows.map((row) => `| \`${row.code}\` | ${row.status} | ${row.description.replaceAll('|', '\\|')} |`),
  ].join('\n');
}

function readmeTable(): string {
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} … ${END} section`);
  return readme.slice(start + START.length, end).trim();
}

/** Where a code is named outside the catalogue without the compiler checking it. */
const CODE_MENTIONS = [/\bproblem\('([a-z_]+)'/g, /\bcode: '([a-z_]+)'/g, /instanceof AppError && \w+\.code [!=]== '([a-z_]+)'/g];

/** Codes in src that are not ours to answer with, and why. */
const NOT_OUR_CODES: Record<string, string> = {
  // zod's own issue code, in refinements
  custom: 'zod',
};
const NOT_OUR_FILES: Record<string, string> = {
  'payments-service/src/providers/stripe-test-cards.ts': "Stripe's decline codes, as its test cards answer",
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every package's src except the storefront's: its codes are the browser's own (a network error), never an answer. */
function serverSources(): string[] {
  return readdirSync(ROOT, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'storefront' && entry.name !== 'node_modules')
    .flatMap((entry) => {
      const src = join(ROOT, entry.name, 'src');
      try {
        return sourceFiles(src);
      } catch {
        return [];
      }
    });
}

describe('the error catalogue', () => {
  test('the README lists every code with its status and meaning, as the catalogue says', () => {
    const expected = expectedTable();
    const actual = readmeTable();
    if (actual !== expected) {
      throw new Error(`README.md's error table is out of step with common/src/errors/catalogue.ts. Put this between ${START} and ${END}:\n\n${expected}\n`);
    }
  });

  test('every code named in the services, the gateway and common is in the catalogue', () => {
    // `problem()` names an entry; a comparison names the code on the wire.
    const known = new Set([...Object.keys(ERROR_CATALOGUE), ...catalogueRows().map((row) => row.code)]);
    const missing: string[] = [];
    for (const file of serverSources()) {
      const path = relative(ROOT, file);
      if (NOT_OUR_FILES[path] || path === 'common/src/errors/catalogue.ts') continue;
      const source = readFileSync(file, 'utf8');
      for (const pattern of CODE_MENTIONS) {
        for (const [, code] of source.matchAll(pattern)) {
          if (code && !known.has(code) && !NOT_OUR_CODES[code]) missing.push(`${path}: ${code}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  test('an AppError is built only by the catalogue (and rebuilt from an RPC reply)', () => {
    const builders = serverSources()
      .filter((file) => /new AppError\(|extends AppError\b/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    // The provider's PaymentOutcomeUnknown is an AppError by kind; its status, code and sentence come from the catalogue.
    expect(builders.sort()).toEqual(['common/src/errors/app-error.ts', 'common/src/errors/catalogue.ts', 'payments-service/src/providers/payment-provider.ts']);
  });

  test('every entry is an error status with a one-line description, and a code has one status', () => {
    const statusOf = new Map<string, number>();
    for (const [name, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect({ name, status: entry.status >= 400 && entry.status < 600 }).toEqual({ name, status: true });
      expect({ name, oneLine: entry.description.length > 0 && !entry.description.includes('\n') }).toEqual({ name, oneLine: true });
      const code = 'code' in entry ? entry.code : name;
      // The one code answered at two statuses: the client-facing 422 and the payment provider's own 409.
      if (code !== 'idempotency_key_reused') expect({ code, status: statusOf.get(code) ?? entry.status }).toEqual({ code, status: entry.status });
      statusOf.set(code, entry.status);
    }
  });

  test('a problem crosses an RPC reply unchanged', () => {
    const sent = problem('already_waiting', 3, { extensions: { position: 3 } });
    const received = AppError.fromJSON(JSON.parse(JSON.stringify(sent.toJSON())));
    expect(received).toMatchObject({
      status: 409,
      code: 'already_waiting',
      detail: 'You are already in the waiting list of this listing, at position 3.',
      extensions: { position: 3 },
    });
  });

  test('a fixed wait before trying again comes with the problem, and the caller can say a different one', () => {
    expect(problem('goods_not_ready').retryAfterSeconds).toBe(5);
    expect(problem('too_many_signin_failures', { retryAfterSeconds: 30 }).retryAfterSeconds).toBe(30);
    expect(problem('listing_reserved').retryAfterSeconds).toBeUndefined();
  });

  test('the sentence of a problem met in several situations is chosen by name, with its facts', () => {
    expect(problem('not_found', 'The listing').detail).toBe('The listing was not found.');
    expect(problem('order_not_pending', 'inOrders', 'paid', 'expired').detail).toBe(
      'This order can no longer be paid: it expired: its hold on the listing ended before it was paid.',
    );
    expect(problem('coupon_invalid', { errors: [{ field: 'couponCode', message: 'x' }] }).errors).toEqual([{ field: 'couponCode', message: 'x' }]);
  });
});
