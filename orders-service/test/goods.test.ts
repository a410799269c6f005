import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { client, type Session } from '../../test/support/http';
import { startStack, type Stack } from '../../test/support/stack';
import { until } from '../../test/support/wait';

const ADMIN = { email: 'admin@example.com', password: 'admin-password-123' };
// Short, so that a link can be seen to expire; every other link here is used at once.
const LINK_TTL_SECONDS = 4;
const LINK_MAX_USES = 3;
const MB = 1024 * 1024;

let stack: Stack;
let api: ReturnType<typeof client>;
let admin: Session;

beforeAll(async () => {
  stack = await startStack({
    env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, DOWNLOAD_LINK_TTL_SECONDS: String(LINK_TTL_SECONDS), DOWNLOAD_LINK_MAX_USES: String(LINK_MAX_USES), RPC_TIMEOUT_MS: '10000' },
  });
  api = client(stack);
  admin = (await api.post('/signin', ADMIN)).body;
});
afterAll(() => stack.stop());

interface Sale {
  seller: Session;
  buyer: Session;
  listing: { id: string };
  order: { id: string; status: string };
  payment?: { id: string };
}

interface Goods {
  text?: string;
  file?: { bytes: Buffer; name: string; type?: string };
}

async function attach(seller: Session, listingId: string, goods: Goods): Promise<void> {
  if (goods.text !== undefined) expect((await api.request('PUT', `/listings/${listingId}/goods`, { body: { text: goods.text }, token: seller.accessToken })).status).toBe(200);
  if (goods.file) {
    const res = await fetch(`${stack.url}/listings/${listingId}/goods/file`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${seller.accessToken}`,
        'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(goods.file.name)}`,
        ...(goods.file.type ? { 'content-type': goods.file.type } : {}),
      },
      body: new Uint8Array(goods.file.bytes),
    });
    expect(res.status).toBe(200);
  }
}

/** A seller lists something with goods, a buyer orders it; paid (sandbox card) unless `pay` is false. */
async function sale(goods: Goods, pay = true): Promise<Sale> {
  const [seller, buyer] = await Promise.all([api.signUp('Seller'), api.signUp('Buyer')]);
  const listing = await api.createListing(seller.accessToken, { priceCents: 1500 });
  await attach(seller, listing.id, goods);
  const ordered = await api.post('/orders', { listingId: listing.id }, buyer.accessToken);
  expect(ordered.status).toBe(201);
  if (!pay) return { seller, buyer, listing, order: ordered.body.order };
  const paid = await api.post('/payments', { orderId: ordered.body.order.id, paymentMethod: 'pm_card_visa' }, buyer.accessToken);
  expect(paid.status).toBe(201);
  expect(paid.body.order.status).toBe('complete');
  return { seller, buyer, listing, order: paid.body.order, payment: paid.body.payment };
}

const goodsOf = (s: Sale, session: Session | null = s.buyer) => api.get(`/orders/${s.order.id}/goods`, session?.accessToken);

async function download(url: string, method = 'GET'): Promise<{ status: number; headers: Headers; bytes: Buffer; problem?: { code: string; detail: string } }> {
  const res = await fetch(`${stack.url}${url}`, { method });
  const bytes = Buffer.from(await res.arrayBuffer());
  const problem = bytes.length && res.headers.get('content-type')?.startsWith('application/problem+json') ? JSON.parse(bytes.toString()) : undefined;
  return { status: res.status, headers: res.headers, bytes, ...(problem ? { problem } : {}) };
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('the buyer of a complete order', () => {
  test('gets the text and a signed link that downloads the very bytes, with their name and type', async () => {
    const bytes = randomBytes(50_000);
    const s = await sale({ text: 'Door code 4711\nSeat 12B', file: { bytes, name: 'Ticket été.pdf', type: 'application/pdf' } });
    const started = Date.now();

    const res = await goodsOf(s);

    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      goods: {
        text: 'Door code 4711\nSeat 12B',
        file: { name: 'Ticket été.pdf', size: 50_000, contentType: 'application/pdf', url: expect.stringMatching(/^\/downloads\/[A-Za-z0-9_-]{43}$/), expiresAt: expect.any(String) },
      },
    });
    const { url, expiresAt } = res.body.goods.file;
    expect(Date.parse(expiresAt) - started).toBeGreaterThan((LINK_TTL_SECONDS - 2) * 1000);
    expect(Date.parse(expiresAt) - started).toBeLessThanOrEqual((LINK_TTL_SECONDS + 2) * 1000);

    const file = await download(url);
    expect(file.status).toBe(200);
    expect(sha256(file.bytes)).toBe(sha256(bytes));
    expect(file.headers.get('content-type')).toBe('application/pdf');
    expect(file.headers.get('content-length')).toBe('50000');
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="Ticket _t_.pdf"; filename*=UTF-8''Ticket%20%C3%A9t%C3%A9.pdf`);
    expect(file.headers.get('cache-control')).toBe('no-store');
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(file.headers.get('content-security-policy')).toContain('sandbox');
  });

  test('a text only: no file, no link; a file only: no text', async () => {
    const textOnly = await sale({ text: 'just a code' });
    expect((await goodsOf(textOnly)).body).toEqual({ goods: { text: 'just a code' } });
    const fileOnly = await sale({ file: { bytes: Buffer.from('<html>hi</html>'), name: 'page.html', type: 'text/html' } });
    const { goods } = (await goodsOf(fileOnly)).body;
    expect(Object.keys(goods)).toEqual(['file']);
    const file = await download(goods.file.url);
    // Exactly the type it was uploaded with (no charset added), yet never shown as a page of this origin.
    expect(file.headers.get('content-type')).toBe('text/html');
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="page.html"');
    expect(file.bytes.toString()).toBe('<html>hi</html>');
  });

  test('a 10 MB file comes back whole, byte for byte', async () => {
    const bytes = randomBytes(10 * MB);
    const s = await sale({ file: { bytes, name: 'big.bin' } });
    const file = await download((await goodsOf(s)).body.goods.file.url);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(file.bytes.length).toBe(10 * MB);
    expect(sha256(file.bytes)).toBe(sha256(bytes));
  }, 30_000);
});

describe('a link dies quickly', () => {
  test(`after ${LINK_MAX_USES} downloads it is gone (410 link_gone); asking for the goods again gives a new one`, async () => {
    const s = await sale({ file: { bytes: Buffer.from('licence key file'), name: 'key.txt', type: 'text/plain' } });
    const { url } = (await goodsOf(s)).body.goods.file;
    // HEAD would use the link up without a download: refused, and it costs nothing.
    expect((await download(url, 'HEAD')).status).toBe(405);
    for (let i = 0; i < LINK_MAX_USES; i++) expect((await download(url)).bytes.toString()).toBe('licence key file');
    const gone = await download(url);
    expect(gone.status).toBe(410);
    expect(gone.problem).toMatchObject({ code: 'link_gone', detail: 'This download link has expired, been used up or been revoked.' });

    const fresh = (await goodsOf(s)).body.goods.file.url;
    expect(fresh).not.toBe(url);
    expect((await download(fresh)).status).toBe(200);
  });

  test('once it expires it is gone', async () => {
    const s = await sale({ file: { bytes: Buffer.from('x'), name: 'x.bin' } });
    const { url, expiresAt } = (await goodsOf(s)).body.goods.file;
    expect((await download(url)).status).toBe(200);
    // Time itself is the condition: the link's expiry, by the clock that set it, plus a margin.
    await until(expiresAt, 300);
    expect((await download(url)).problem?.code).toBe('link_gone');
  }, 20_000);

  test('a refund revokes the goods: every link of the order dies and the goods are no longer given (409 order_not_complete)', async () => {
    const s = await sale({ text: 'the code', file: { bytes: Buffer.from('the file'), name: 'f.txt' } });
    const first = (await goodsOf(s)).body.goods.file.url;
    const second = (await goodsOf(s)).body.goods.file.url;
    expect((await download(first)).status).toBe(200);

    const refund = await api.post(`/payments/${s.payment!.id}/refund`, {}, admin.accessToken);
    expect(refund.status).toBe(200);
    expect(refund.body.order.status).toBe('refunded');

    for (const url of [first, second]) expect((await download(url)).problem?.code).toBe('link_gone');
    // Revoked for good in the refund's transaction, not only dead while the order stays refunded.
    const links = (await stack.services.orders!.parts.db('download_links').where({ order_id: s.order.id })) as { revoked_at: Date | null }[];
    expect(links.map((l) => l.revoked_at !== null)).toEqual([true, true]);
    const goods = await goodsOf(s);
    expect(goods.status).toBe(409);
    expect(goods.body).toMatchObject({ code: 'order_not_complete', detail: 'This order was refunded: its goods were revoked with the refund.' });
  });

  test('a link whose order stops being complete stops working, even one not marked revoked', async () => {
    const s = await sale({ file: { bytes: Buffer.from('the file'), name: 'f.txt' } });
    const { url } = (await goodsOf(s)).body.goods.file;
    // As if a refund raced the link's creation: the order is refunded, the link itself never revoked.
    await stack.services.orders!.parts.db('orders').where({ id: s.order.id }).update({ status: 'refunded' });
    expect((await download(url)).problem?.code).toBe('link_gone');
  });
});

describe('nobody else', () => {
  test('another user, the seller and a stranger get no goods (404 like the order itself, 401 without a token)', async () => {
    const s = await sale({ text: 'the code', file: { bytes: Buffer.from('the file'), name: 'f.txt' } });
    const other = await api.signUp('Other');
    for (const session of [other, s.seller]) {
      const res = await goodsOf(s, session);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
      expect(JSON.stringify(res.body)).not.toContain('the code');
      // The same answer as for the order itself: nothing tells that it exists.
      const order = await api.get(`/orders/${s.order.id}`, session.accessToken);
      expect({ status: res.status, code: res.body.code, detail: res.body.detail }).toEqual({ status: order.status, code: order.body.code, detail: order.body.detail });
    }
    expect((await goodsOf(s, null)).status).toBe(401);
    expect((await api.get(`/orders/${randomUUID()}/goods`, s.buyer.accessToken)).status).toBe(404);
  });

  test('a pending order has no goods yet: 409 order_not_complete', async () => {
    const s = await sale({ text: 'the code' }, false);
    const res = await goodsOf(s);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('order_not_complete');
  });

  test('a made-up link is 410 like a dead one; one that is not a token at all is a 400', async () => {
    expect((await download(`/downloads/${randomBytes(32).toString('base64url')}`)).problem?.code).toBe('link_gone');
    for (const bad of ['abc', `${'A'.repeat(43)}=`, `${'A'.repeat(42)}.`]) expect((await download(`/downloads/${bad}`)).status).toBe(400);
  });

  test('only the SHA-256 of a token is stored', async () => {
    const s = await sale({ file: { bytes: Buffer.from('x'), name: 'x.bin' } });
    const token = ((await goodsOf(s)).body.goods.file.url as string).split('/').pop() as string;
    const rows = (await stack.services.orders!.parts.db('download_links').where({ order_id: s.order.id })) as { token_hash: Buffer }[];
    expect(rows.map((r) => r.token_hash.toString('hex'))).toEqual([createHash('sha256').update(token).digest('hex')]);
    expect(JSON.stringify(rows)).not.toContain(token);
  });
});

describe('at the broker', () => {
  test("orders.download and orders.goods take the gateway's word only: no other service may call them", async () => {
    const s = await sale({ file: { bytes: Buffer.from('x'), name: 'x.bin' } });
    const token = ((await goodsOf(s)).body.goods.file.url as string).split('/').pop() as string;
    const payments = await stack.rpcAs('payments');
    await expect(payments.call('orders.download', { token }, {})).rejects.toMatchObject({ status: 403, code: 'caller_not_allowed' });
    await expect(payments.call('orders.goods', { id: s.order.id }, { onBehalfOf: { id: s.buyer.user.id, role: 'user' } })).rejects.toMatchObject({ status: 403, code: 'caller_not_allowed' });
    // The gateway cannot vouch for a buyer: it forwards their token.
    const gateway = await stack.rpcAs('api-gateway');
    await expect(gateway.call('orders.goods', { id: s.order.id }, { onBehalfOf: { id: s.buyer.user.id, role: 'user' } })).rejects.toMatchObject({ status: 403 });
    // Refused calls used nothing: the link still has all its uses.
    for (let i = 0; i < LINK_MAX_USES; i++) expect((await download(`/downloads/${token}`)).status).toBe(200);
  });
});
