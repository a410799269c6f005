import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import winston from 'winston';
import { AppError, connectRaw, type RawConnection } from '@market/common';
import { client, type Session } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import { startStack, type Stack } from '../../test/support/stack';
import { withoutValues } from '../src/data-access/goods-store';

const MB = 1024 * 1024;

let stack: Stack;
let api: ReturnType<typeof client>;
let seller: Session;
let other: Session;
// Every line any process of the stack logs, and every listing event on the bus: the goods must be in none.
const logLines: string[] = [];
// The bytes as they travel (not as a consumer's schema would parse them): an extra field would show here.
const rawListingEvents: string[] = [];
const listingEvents = (): string[] => rawListingEvents;
let connection: RawConnection;

beforeAll(async () => {
  stack = await startStack({ services: ['listings'], env: { LOG_LEVEL: 'debug' } });
  stack.logger.clear();
  stack.logger.add(new winston.transports.Stream({ stream: new Writable({ write: (chunk: Buffer, _e, done) => { logLines.push(chunk.toString()); done(); } }) }));
  api = client(stack);
  [seller, other] = await Promise.all([api.signUp('Seller'), api.signUp('Other')]);
  connection = await connectRaw(stack.env.RABBITMQ_URL ?? 'amqp://guest:guest@localhost:5672');
  const channel = await connection.createChannel();
  const exchange = `${stack.env.BUS_PREFIX}.events`;
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, exchange, 'listing.#');
  await channel.consume(queue, (msg) => msg && rawListingEvents.push(msg.content.toString()), { noAck: true });
});
afterAll(async () => {
  await connection?.close().catch(() => undefined);
  await stack.stop();
});

/** PUT /listings/{id}/goods/file as a browser or a script sends it: the bytes, their type, their name. */
async function putFile(listingId: string, bytes: Buffer, opts: { token?: string | undefined; type?: string; disposition?: string | null } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.type) headers['content-type'] = opts.type;
  if (opts.disposition !== null) headers['content-disposition'] = opts.disposition ?? 'attachment; filename="ticket.pdf"';
  const res = await fetch(`${stack.url}/listings/${listingId}/goods/file`, { method: 'PUT', headers, body: new Uint8Array(bytes) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

// `null`: no token at all.
const putText = (listingId: string, text: unknown, token: string | null = seller.accessToken) => api.request('PUT', `/listings/${listingId}/goods`, { body: { text }, token: token ?? undefined });
const goodsOf = (listingId: string, token: string | null = seller.accessToken) => api.get(`/listings/${listingId}/goods`, token ?? undefined);
const marker = (): string => `secret-${randomUUID()}`;

/** A listing reserved and sold to `orderId`, as orders-service does it. */
async function sell(listingId: string, orderId = randomUUID()): Promise<string> {
  const orders = await stack.rpcAs('orders');
  await orders.call('listings.reserve', { id: listingId, orderId }, { onBehalfOf: { id: other.user.id, role: 'user' } });
  await orders.call('listings.markSold', { id: listingId, orderId }, {});
  return orderId;
}

describe('the seller attaches the goods', () => {
  test('a text and a file: each answer shows the goods so far, and the seller reads them back', async () => {
    const listing = await api.createListing(seller.accessToken);
    expect((await goodsOf(listing.id)).body).toEqual({ goods: {} });

    const text = await putText(listing.id, 'Row 5, seat 12\nCode: 8H2-KQ9');
    expect(text.status).toBe(200);
    expect(text.headers.get('cache-control')).toBe('no-store');
    expect(text.body).toEqual({ goods: { text: 'Row 5, seat 12\nCode: 8H2-KQ9' } });

    const file = await putFile(listing.id, randomBytes(3000), { token: seller.accessToken, type: 'application/pdf' });
    expect(file.status).toBe(200);
    // Above the JSON limit, yet through the per-client rate limiter like every request.
    expect(file.headers.get('ratelimit')).toMatch(/remaining=\d+/);
    const goods = { text: 'Row 5, seat 12\nCode: 8H2-KQ9', file: { name: 'ticket.pdf', size: 3000, contentType: 'application/pdf' } };
    expect(file.body).toEqual({ goods });
    const read = await goodsOf(listing.id);
    expect(read.status).toBe(200);
    expect(read.headers.get('cache-control')).toBe('no-store');
    expect(read.body).toEqual({ goods });
  });

  test('a new text or file replaces the old one and leaves the other as it was', async () => {
    const listing = await api.createListing(seller.accessToken);
    await putFile(listing.id, randomBytes(10), { token: seller.accessToken, disposition: 'attachment; filename="old.bin"' });
    await putText(listing.id, 'first');
    await putText(listing.id, 'second');
    const replaced = await putFile(listing.id, Buffer.from('hello'), { token: seller.accessToken, type: 'Text/Plain; charset=utf-8', disposition: 'attachment; filename=new.txt' });
    expect(replaced.body).toEqual({ goods: { text: 'second', file: { name: 'new.txt', size: 5, contentType: 'text/plain; charset=utf-8' } } });
    // The replaced file's bytes are gone, not only its name.
    const db = stack.services.listings!.parts.db;
    expect(await eventually(async () => Number(((await db('goods_files').count({ n: '*' }).whereNotIn('file_key', db('listing_goods').whereNotNull('file_key').select('file_key')).first()) as { n: number }).n) === 0)).toBe(true);
  });

  test('a file without a type is application/octet-stream; a name may be any UTF-8 through filename*', async () => {
    const listing = await api.createListing(seller.accessToken);
    const res = await putFile(listing.id, Buffer.from([1, 2, 3]), { token: seller.accessToken, disposition: "attachment; filename=\"rates.pdf\"; filename*=UTF-8''%E2%82%AC%20rates%20%C3%A9t%C3%A9.pdf" });
    expect(res.status).toBe(200);
    expect(res.body.goods.file).toEqual({ name: '€ rates été.pdf', size: 3, contentType: 'application/octet-stream' });
  });

  test.each([
    [null, 'content-disposition'],
    ['inline; filename="a.pdf"', 'content-disposition'],
    ['attachment', 'content-disposition'],
    ['attachment; filename=""', 'content-disposition'],
    ['attachment; filename="../../etc/passwd"', 'content-disposition'],
    ['attachment; filename="dir\\\\name.txt"', 'content-disposition'],
    ['attachment; filename=".."', 'content-disposition'],
    [`attachment; filename="${'a'.repeat(256)}"`, 'content-disposition'],
    ["attachment; filename*=UTF-8''a%0Ab.txt", 'content-disposition'],
    ["attachment; filename*=UTF-8''%E2%80%AEfdp.exe", 'content-disposition'],
    ["attachment; filename*=UTF-8''%FF.txt", 'content-disposition'],
    ['attachment; filename="a.txt"; filename="b.txt"', 'content-disposition'],
  ])('refuses the name in Content-Disposition %j with a 400 naming the header, and attaches nothing', async (disposition, field) => {
    const listing = await api.createListing(seller.accessToken);
    const res = await putFile(listing.id, Buffer.from('x'), { token: seller.accessToken, disposition });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'validation_failed', errors: [{ field }] });
    expect((await goodsOf(listing.id)).body).toEqual({ goods: {} });
  });

  test('refuses a Content-Type that is not a media type, an empty file and a Content-Encoding', async () => {
    const listing = await api.createListing(seller.accessToken);
    const badType = await putFile(listing.id, Buffer.from('x'), { token: seller.accessToken, type: 'not a type' });
    expect(badType.status).toBe(400);
    expect(badType.body.errors).toEqual([expect.objectContaining({ field: 'content-type' })]);
    const empty = await putFile(listing.id, Buffer.alloc(0), { token: seller.accessToken });
    expect(empty.status).toBe(400);
    expect(empty.body.code).toBe('empty_file');
    const gzip = await fetch(`${stack.url}/listings/${listing.id}/goods/file`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${seller.accessToken}`, 'content-disposition': 'attachment; filename="a"', 'content-encoding': 'gzip' },
      body: 'x',
    });
    expect(gzip.status).toBe(400);
    expect((await goodsOf(listing.id)).body).toEqual({ goods: {} });
  });

  test('a file of exactly 10 MB is taken whole; one byte more is a 413, refused before it is read, and the goods stay', async () => {
    const listing = await api.createListing(seller.accessToken);
    const full = await putFile(listing.id, randomBytes(10 * MB), { token: seller.accessToken, disposition: 'attachment; filename="big.bin"' });
    expect(full.status).toBe(200);
    expect(full.body.goods.file).toEqual({ name: 'big.bin', size: 10 * MB, contentType: 'application/octet-stream' });

    const tooLarge = await putFile(listing.id, Buffer.alloc(10 * MB + 1), { token: seller.accessToken, disposition: 'attachment; filename="bigger.bin"' });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ code: 'payload_too_large', detail: 'The file is larger than 10 MB.' });
    expect(tooLarge.headers.get('connection')).toBe('close');
    expect((await goodsOf(listing.id)).body.goods.file.name).toBe('big.bin');
  });

  test.each([
    // Declares a gigabyte and sends one byte.
    ['a Content-Length over 10 MB', 'Content-Length: 1073741824', Buffer.from('x')],
    // Sends a byte more than 10 MB of a chunk that declares 20 MB, and never ends the body.
    ['a chunked upload that goes past 10 MB', 'Transfer-Encoding: chunked', Buffer.concat([Buffer.from(`${(20 * MB).toString(16)}\r\n`), Buffer.alloc(10 * MB + 1, 120)])],
  ])('%s is answered 413 without waiting for the rest, and the connection closed', async (_what, framing, sent) => {
    const listing = await api.createListing(seller.accessToken);
    const socket = connect(Number(new URL(stack.url).port), '127.0.0.1');
    try {
      const answer = new Promise<string>((resolve, reject) => {
        let received = '';
        socket.on('data', (chunk) => (received += chunk.toString('latin1')));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
      });
      socket.write([`PUT /listings/${listing.id}/goods/file HTTP/1.1`, 'Host: localhost', `Authorization: Bearer ${seller.accessToken}`, 'Content-Disposition: attachment; filename="a.bin"', framing, '', ''].join('\r\n'));
      socket.write(sent);
      // The body never ends: an answer at all, and the server hanging up, mean it stopped reading.
      const response = await answer;
      expect(response).toMatch(/^HTTP\/1\.1 413 /);
      expect(response).toMatch(/\r\nConnection: close\r\n/i);
    } finally {
      socket.destroy();
    }
    expect((await goodsOf(listing.id)).body).toEqual({ goods: {} });
  }, 15_000);

  test('a text is 1..10000 characters of visible text', async () => {
    const listing = await api.createListing(seller.accessToken);
    expect((await putText(listing.id, 'x'.repeat(10_000))).status).toBe(200);
    for (const bad of ['', '   \n ', 'x'.repeat(10_001), 'bell\u0007', 'evil\u202Etxt', 42]) {
      const res = await putText(listing.id, bad);
      expect({ bad, status: res.status, field: res.body.errors?.[0]?.field }).toEqual({ bad, status: 400, field: 'text' });
    }
    expect((await api.request('PUT', `/listings/${listing.id}/goods`, { body: { text: 'a', extra: 1 }, token: seller.accessToken })).status).toBe(400);
  });
});

describe('only the seller', () => {
  test('anyone else gets a 403 for the goods of a listing, a stranger a 401, and nothing changes', async () => {
    const listing = await api.createListing(seller.accessToken);
    await putText(listing.id, 'mine');
    expect((await putText(listing.id, 'theirs', other.accessToken)).status).toBe(403);
    const file = await putFile(listing.id, Buffer.from('theirs'), { token: other.accessToken });
    expect(file.status).toBe(403);
    expect(file.body.code).toBe('not_listing_seller');
    expect((await goodsOf(listing.id, other.accessToken)).status).toBe(403);
    expect((await putText(listing.id, 'anon', null)).status).toBe(401);
    expect((await putFile(listing.id, Buffer.from('anon'))).status).toBe(401);
    expect((await goodsOf(listing.id, null)).status).toBe(401);
    expect((await goodsOf(listing.id)).body).toEqual({ goods: { text: 'mine' } });
  });

  test('an unknown listing is a 404, a malformed id a 400', async () => {
    const unknown = randomUUID();
    expect((await putText(unknown, 'x')).status).toBe(404);
    expect((await putFile(unknown, Buffer.from('x'), { token: seller.accessToken })).status).toBe(404);
    expect((await goodsOf(unknown)).status).toBe(404);
    expect((await goodsOf('not-a-uuid')).status).toBe(400);
    expect((await putFile('not-a-uuid', Buffer.from('x'), { token: seller.accessToken })).status).toBe(400);
  });

  test('once the listing is sold the goods cannot change (409 listing_sold), and the seller still reads them', async () => {
    const listing = await api.createListing(seller.accessToken);
    await putText(listing.id, 'the code');
    await sell(listing.id);
    const text = await putText(listing.id, 'another code');
    expect(text.status).toBe(409);
    expect(text.body.code).toBe('listing_sold');
    const file = await putFile(listing.id, Buffer.from('x'), { token: seller.accessToken });
    expect(file.status).toBe(409);
    expect(file.body.code).toBe('listing_sold');
    expect((await goodsOf(listing.id)).body).toEqual({ goods: { text: 'the code' } });
  });

  test('a deleted listing takes its goods, file bytes included, with it', async () => {
    const listing = await api.createListing(seller.accessToken);
    await putText(listing.id, 'gone soon');
    await putFile(listing.id, Buffer.from('bytes'), { token: seller.accessToken });
    const db = stack.services.listings!.parts.db;
    const key = ((await db('listing_goods').where({ listing_id: listing.id }).first('file_key')) as { file_key: string }).file_key;
    expect((await api.del(`/listings/${listing.id}`, seller.accessToken)).status).toBe(204);
    expect(await db('listing_goods').where({ listing_id: listing.id }).first()).toBeUndefined();
    expect(await eventually(async () => (await db('goods_files').where({ file_key: key }).first()) === undefined)).toBe(true);
  });
});

describe('the goods stay out of everything public', () => {
  test('no listing read, page, cache entry, event or log line holds them', async () => {
    const secretText = marker();
    const secretName = `${marker()}.txt`;
    const secretBytes = marker();
    const listing = await api.createSettledListing(seller.accessToken, { title: 'Opera night' });
    await putText(listing.id, secretText);
    await putFile(listing.id, Buffer.from(secretBytes), { token: seller.accessToken, disposition: `attachment; filename="${secretName}"` });
    // The edit moves the listing's cache generation once, for its new version (its event, when the gateway
    // gets it, finds that version forgotten already): the second read below is a hit.
    const genKey = `${stack.env.BUS_PREFIX}:cache:{listing:${listing.id}}:gen`;
    const before = Number(await stack.gateway.redis.get(genKey));
    await api.patch(`/listings/${listing.id}`, { priceCents: 2600 }, seller.accessToken);
    expect(await eventually(async () => Number(await stack.gateway.redis.get(genKey)) === before + 1)).toBe(true);
    expect(await eventually(async () => listingEvents().some((e) => e.includes('"listing.updated"') && e.includes(listing.id)))).toBe(true);

    const reads = [
      await api.get(`/listings/${listing.id}`),
      await api.get(`/listings/${listing.id}`),
      await api.get(`/listings?sellerId=${seller.user.id}`),
      await api.get(`/listings?q=Opera`),
    ];
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(reads[1]!.headers.get('x-cache')).toBe('HIT');
    expect(reads[0]!.body.listing).not.toHaveProperty('goods');
    const cacheEntries = await stack.gateway.redis.keys(`${stack.env.BUS_PREFIX}:cache:*`);
    const cached = (await Promise.all(cacheEntries.map((key) => stack.gateway.redis.getBuffer(key).catch(() => null)))).map((v) => v?.toString('latin1') ?? '');

    const everything = [...reads.map((r) => JSON.stringify(r.body)), ...cached, ...listingEvents(), ...logLines].join('\n');
    expect(everything).toContain(listing.id);
    for (const secret of [secretText, secretName, secretBytes, Buffer.from(secretBytes).toString('base64')]) expect(everything).not.toContain(secret);
  });

  test('a download that fails on our side is logged without its link, which opens the file to whoever holds it', async () => {
    // This stack runs no orders-service: the gateway cannot ask it, a 503 it logs as an error.
    const token = randomBytes(32).toString('base64url');
    const res = await api.get(`/downloads/${token}`);
    expect(res.status).toBe(503);
    const logged = logLines.filter((line) => line.includes('"request failed"'));
    expect(logged.some((line) => line.includes('/downloads/:token'))).toBe(true);
    expect(logLines.join('\n')).not.toContain(token);
  });

  test('a failed statement on the goods says which error it was, without the values it carried', async () => {
    const secret = marker();
    const db = stack.services.listings!.parts.db;
    // Too long for the column: MySQL refuses it, and knex would write the statement, secret included, into its message.
    const failing = () => db('listing_goods').insert({ listing_id: 'x'.repeat(40), text: secret, updated_at: new Date() });
    await expect(failing()).rejects.toThrow(secret);
    const err = (await withoutValues(failing()).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('ER_DATA_TOO_LONG');
    expect(`${err.message}\n${err.stack ?? ''}`).not.toContain(secret);
  });
});

describe('search', () => {
  test('q finds listings by title or description, whatever the case', async () => {
    const tag = randomBytes(4).toString('hex');
    const byTitle = await api.createListing(seller.accessToken, { title: `Zebra ${tag} safari` });
    const byDescription = await api.createListing(seller.accessToken, { title: 'Something else', description: `Bring a ZEBRA${tag} costume` });
    await api.createListing(seller.accessToken, { title: `Giraffe ${tag}` });
    const res = await api.get(`/listings?q=zebra${tag}`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((l: { id: string }) => l.id)).toEqual([byDescription.id]);
    const both = await api.get(`/listings?q=ZeBrA&sellerId=${seller.user.id}&limit=100`);
    expect(both.body.items.map((l: { id: string }) => l.id)).toEqual(expect.arrayContaining([byTitle.id, byDescription.id]));
    expect((await api.get(`/listings?q=${tag}`)).body.total).toBe(3);
  });

  test('%, _ and \\ in q are taken literally', async () => {
    const tag = randomBytes(4).toString('hex');
    const percent = await api.createListing(seller.accessToken, { title: `${tag} 100% off` });
    await api.createListing(seller.accessToken, { title: `${tag} 1000 offers` });
    const underscore = await api.createListing(seller.accessToken, { title: `${tag} a_c` });
    await api.createListing(seller.accessToken, { title: `${tag} abc` });
    const backslash = await api.createListing(seller.accessToken, { title: `${tag} C:\\tickets` });
    await api.createListing(seller.accessToken, { title: `${tag} C:tickets` });
    const ids = async (q: string) => (await api.get(`/listings?q=${encodeURIComponent(q)}`)).body.items.map((l: { id: string }) => l.id);
    expect(await ids(`${tag} 100%`)).toEqual([percent.id]);
    expect(await ids(`${tag} a_c`)).toEqual([underscore.id]);
    expect(await ids(`${tag} C:\\t`)).toEqual([backslash.id]);
    expect(await ids('0% off')).toEqual([percent.id]);
  });

  test('each search is its own cache entry', async () => {
    const [a, b] = [randomBytes(4).toString('hex'), randomBytes(4).toString('hex')];
    const listingA = await api.createListing(seller.accessToken, { title: `Alpha ${a}` });
    const listingB = await api.createListing(seller.accessToken, { title: `Beta ${b}` });
    for (let i = 0; i < 2; i++) {
      expect((await api.get(`/listings?q=${a}`)).body.items.map((l: { id: string }) => l.id)).toEqual([listingA.id]);
      expect((await api.get(`/listings?q=${b}`)).body.items.map((l: { id: string }) => l.id)).toEqual([listingB.id]);
    }
    expect((await api.get(`/listings?q=${b}`)).headers.get('x-cache')).toBe('HIT');
  });

  test.each(['q=', `q=${'x'.repeat(101)}`, 'q=%20%20', 'q=a%00b'])('refuses ?%s with a 400 naming q', async (query) => {
    const res = await api.get(`/listings?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['q']);
  });
});

describe('at the broker, the goods go only where the sale went', () => {
  test("the gateway cannot ask for a sold listing's goods for an order; orders only for the order it was sold to", async () => {
    const listing = await api.createListing(seller.accessToken);
    await putText(listing.id, 'the code');
    await putFile(listing.id, Buffer.from('the file'), { token: seller.accessToken, type: 'text/plain' });
    const orderId = await sell(listing.id);

    const gateway = await stack.rpcAs('api-gateway');
    for (const method of ['listings.goodsFile', 'listings.orderGoods'] as const) {
      await expect(gateway.call(method, { id: listing.id, orderId }, { token: seller.accessToken })).rejects.toMatchObject({ status: 403, code: 'caller_not_allowed' });
    }
    const orders = await stack.rpcAs('orders');
    await expect(orders.call('listings.goodsFile', { id: listing.id, orderId: randomUUID() }, {})).rejects.toMatchObject({ status: 409, code: 'listing_not_sold' });
    await expect(orders.call('listings.orderGoods', { id: listing.id, orderId: randomUUID() }, {})).rejects.toBeInstanceOf(AppError);
    // orders-service cannot change them either, on anyone's behalf.
    await expect(orders.call('listings.putGoodsText', { id: listing.id, text: 'forged' }, { onBehalfOf: { id: seller.user.id, role: 'user' } })).rejects.toMatchObject({ status: 403 });

    expect(await orders.call('listings.orderGoods', { id: listing.id, orderId }, {})).toEqual({ goods: { text: 'the code', file: { name: 'ticket.pdf', size: 8, contentType: 'text/plain' } } });
    expect(await orders.call('listings.goodsFile', { id: listing.id, orderId }, {})).toEqual({ name: 'ticket.pdf', contentType: 'text/plain', contentBase64: Buffer.from('the file').toString('base64') });
  });

  test('a request too large for the broker is refused before it is sent, and the client goes on working', async () => {
    const listing = await api.createListing(seller.accessToken);
    const gateway = await stack.rpcAs('api-gateway');
    const huge = { id: listing.id, name: 'huge.bin', contentType: 'application/octet-stream', contentBase64: 'A'.repeat(16 * MB) };
    await expect(gateway.call('listings.putGoodsFile', huge, { token: seller.accessToken })).rejects.toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(await gateway.call('listings.getGoods', { id: listing.id }, { token: seller.accessToken })).toEqual({ goods: {} });
  });

  test('a listing not sold yet hands its goods to nobody, not even the order holding it', async () => {
    const listing = await api.createListing(seller.accessToken);
    await putText(listing.id, 'the code');
    const orderId = randomUUID();
    const orders = await stack.rpcAs('orders');
    await orders.call('listings.reserve', { id: listing.id, orderId }, { onBehalfOf: { id: other.user.id, role: 'user' } });
    await expect(orders.call('listings.orderGoods', { id: listing.id, orderId }, {})).rejects.toMatchObject({ status: 409, code: 'listing_not_sold' });
  });
});
