// Test data, put in the way a client would: sign-ups and listings through the gateway's HTTP API.
// The one exception is the pool of thousands of listings the distinct-order scenario consumes (one
// per request): those are bulk-inserted with SQL into listings-service's own table, because only
// the order path is measured there and it still goes through the gateway.
import { randomUUID } from 'node:crypto';

export const PASSWORD = 'bench-password-123';

/** JSON over HTTP to the gateway; throws with the answer when the status is not the expected one. */
export class GatewayClient {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
  }

  async request(method, path, { body, token, expect } = {}) {
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (expect !== undefined && res.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${res.status} ${text.slice(0, 300)}`);
    return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
  }

  /** Signs up; resolves with `{ id, email, password, token }`. */
  async signUp(email, name) {
    const { json } = await this.request('POST', '/users', { body: { email, password: PASSWORD, name }, expect: 201 });
    return { id: json.user.id, email, password: PASSWORD, token: json.accessToken };
  }

  async createListing(token, i) {
    const { json } = await this.request('POST', '/listings', { token, body: listingBody(i), expect: 201 });
    return json.listing;
  }
}

/** A plausible listing: a title and a paragraph of description, so bodies have a realistic size. */
export function listingBody(i) {
  return {
    title: `Concert ticket #${i}: row ${1 + (i % 30)}, seat ${1 + (i % 24)}`,
    description: `Standing or seated, e-ticket transferred at once after payment. Listing ${i} of the bench data set. `.repeat(3).trim(),
    priceCents: 1500 + ((i * 137) % 20_000),
    currency: 'usd',
  };
}

/** `fn` over `items` with at most `limit` in flight; results in order. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** `count` new accounts named `<tag>-<i>@bench.local` (each sign-up costs one bcrypt hash). */
export function signUpMany(client, tag, count, concurrency = 8) {
  const indexes = Array.from({ length: count }, (_, i) => i);
  return mapLimit(indexes, concurrency, (i) => client.signUp(`${tag}-${i}@bench.local`, `${tag} ${i}`));
}

const LISTING_COLUMNS = ['id', 'seller_id', 'title', 'description', 'price_cents', 'currency', 'status', 'version', 'created_at', 'updated_at'];

/** Inserts `count` available listings of `sellerId` into `db`.listings; resolves with their ids. */
export async function insertListings(sql, db, sellerId, count, startIndex = 0) {
  const ids = [];
  for (let done = 0; done < count; done += 1000) {
    const rows = [];
    for (let i = done; i < Math.min(count, done + 1000); i++) {
      const id = randomUUID();
      const body = listingBody(startIndex + i);
      const now = new Date();
      ids.push(id);
      rows.push([id, sellerId, body.title, body.description, body.priceCents, body.currency, 'available', 1, now, now]);
    }
    await sql.query(`INSERT INTO \`${db}\`.listings (${LISTING_COLUMNS.join(', ')}) VALUES ?`, [rows]);
  }
  return ids;
}

/** The same rows in another database (the baseline reads exactly the project's data). */
export async function copyListings(sql, fromDb, toDb, ids) {
  if (!ids.length) return;
  const cols = LISTING_COLUMNS.join(', ');
  await sql.query(`INSERT INTO \`${toDb}\`.listings (${cols}) SELECT ${cols} FROM \`${fromDb}\`.listings WHERE id IN (?)`, [ids]);
}

/**
 * Available listings handed out one per request. `ensure(n)` inserts more when fewer than `n` are
 * left; `take()` never blocks: past the end it hands out a used id (that request then fails with a
 * 409 and counts as an error) and remembers that the pool ran dry.
 */
export class ListingPool {
  #ids = [];
  #next = 0;
  exhausted = false;
  /** req/s of the last run that used the pool, to size the next top-up. */
  lastRate = 0;

  constructor(sql, db, sellerId) {
    this.sql = sql;
    this.db = db;
    this.sellerId = sellerId;
  }

  get remaining() {
    return this.#ids.length - this.#next;
  }

  async ensure(n) {
    const missing = Math.ceil(n - this.remaining);
    if (missing > 0) this.#ids.push(...(await insertListings(this.sql, this.db, this.sellerId, missing, this.#ids.length)));
  }

  take() {
    if (this.#next < this.#ids.length) return this.#ids[this.#next++];
    this.exhausted = true;
    return this.#ids[this.#ids.length - 1];
  }
}
