import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { type ApiResponse, client, type Session } from '../../test/support/http';
import { startStack, type Stack } from '../../test/support/stack';

let stack: Stack;
let api: ReturnType<typeof client>;
let seller: Session;
beforeAll(async () => {
  stack = await startStack({ services: ['listings'] });
  api = client(stack);
  seller = await api.signUp('Seller');
});
afterAll(() => stack.stop());

const expectProblem = (res: ApiResponse, status: number, code: string): void => {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, code, type: `urn:market:problem:${code}`, detail: expect.any(String) });
};

const expectFieldRefused = (res: ApiResponse, field: string, message: RegExp): void => {
  expectProblem(res, 400, 'validation_failed');
  expect(res.body.errors).toEqual([{ field, message: expect.stringMatching(message) }]);
};

/** Bytes exactly as given, with only the headers given: what a careless or hostile client sends. */
async function sendBytes(method: string, path: string, body: Uint8Array, headers: Record<string, string>, baseUrl = stack.url): Promise<ApiResponse> {
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const auth = (session: Session): Record<string, string> => ({ authorization: `Bearer ${session.accessToken}` });
const listingJson = (title: string): Buffer => Buffer.from(JSON.stringify({ title, priceCents: 700 }));

/** How many listings a seller has: a refused request must leave it where it was. */
async function listingsOf(session: Session): Promise<number> {
  return (await api.get(`/listings?sellerId=${session.user.id}&limit=100`)).body.total;
}

describe('text fields', () => {
  test('a title with a bidi override is refused, naming the field, and no listing is created', async () => {
    const before = await listingsOf(seller);
    const res = await api.post('/listings', { title: 'Ticket \u202Egnp.exe', priceCents: 700 }, seller.accessToken);
    expectFieldRefused(res, 'title', /bidirectional/);
    expect(await listingsOf(seller)).toBe(before);
  });

  test('a description with a bidi isolate is refused on edit, and the listing keeps its description', async () => {
    const listing = await api.createListing(seller.accessToken, { description: 'Row 5' });
    expectFieldRefused(await api.patch(`/listings/${listing.id}`, { description: 'Row \u20665\u2069' }, seller.accessToken), 'description', /bidirectional/);
    expect((await api.get(`/listings/${listing.id}`)).body.listing.description).toBe('Row 5');
  });

  test('a title is one line: a newline or a line separator in it is refused', async () => {
    expectFieldRefused(await api.post('/listings', { title: 'Two\nlines', priceCents: 700 }, seller.accessToken), 'title', /single line/);
    expectFieldRefused(await api.post('/listings', { title: 'Two\u2028lines', priceCents: 700 }, seller.accessToken), 'title', /single line/);
  });

  test('a description keeps its newlines and tabs (a Windows line end becomes \\n), but no other control character', async () => {
    const listing = await api.createListing(seller.accessToken, { description: 'Seat 12\n\tRow 5\r\nGate B' });
    expect(listing.description).toBe('Seat 12\n\tRow 5\nGate B');
    expectFieldRefused(await api.post('/listings', { title: 'Bell', description: 'ding\u0007', priceCents: 700 }, seller.accessToken), 'description', /control characters/);
  });

  test('an empty description still means none, but one that shows nothing is refused', async () => {
    expect((await api.createListing(seller.accessToken, { description: '' })).description).toBe('');
    expectFieldRefused(await api.post('/listings', { title: 'Blank', description: '\n\u200B\t', priceCents: 700 }, seller.accessToken), 'description', /visible/);
  });

  test('a right-to-left mark in mixed-script text is accepted (marks open no direction scope)', async () => {
    const title = 'כרטיס\u200F 2 VIP';
    expect((await api.createListing(seller.accessToken, { title })).title).toBe(title);
  });

  test('a name with a control character is refused at sign-up, and no account is created', async () => {
    const email = `bell-${Date.now()}@example.com`;
    expectFieldRefused(await api.post('/users', { email, password: 'correct horse battery', name: 'Ann\u0007' }), 'name', /control characters/);
    expect((await api.post('/signin', { email, password: 'correct horse battery' })).status).toBe(401);
  });

  test('a name of zero-width characters only is refused at sign-up and on edit, and the name stays', async () => {
    const invisible = '\u200B\u200D\u2060\uFEFF\u00AD';
    expectFieldRefused(await api.post('/users', { email: `ghost-${Date.now()}@example.com`, password: 'correct horse battery', name: invisible }), 'name', /visible/);
    const me = await api.signUp('Visible Person');
    expectFieldRefused(await api.patch(`/users/${me.user.id}`, { name: invisible }, me.accessToken), 'name', /visible/);
    expectFieldRefused(await api.patch(`/users/${me.user.id}`, { name: 'Eve\u0000' }, me.accessToken), 'name', /control characters/);
    expect((await api.get('/users/me', me.accessToken)).body.user.name).toBe('Visible Person');
  });

  test('the OpenAPI document states the text rules on the fields', async () => {
    const doc = (await api.get('/openapi.json')).body;
    // The body is a named component: `{ $ref: '#/components/schemas/CreateListingRequest' }`.
    const { $ref } = doc.paths['/listings'].post.requestBody.content['application/json'].schema;
    const schema = doc.components.schemas[$ref.split('/').pop()];
    expect(schema.properties.title).toMatchObject({ minLength: 1, maxLength: 200, description: expect.stringMatching(/control characters.*bidi/) });
    expect(doc.paths['/listings'].post.responses['415']).toBeDefined();
  });
});

describe('request bodies', () => {
  test.each([
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
  ])('a body sent as %s is a 415, and nothing is created', async (_what, contentType) => {
    const before = await listingsOf(seller);
    const body = contentType === 'text/plain' ? listingJson('Plain') : Buffer.from('title=Form&priceCents=700');
    expectProblem(await sendBytes('POST', '/listings', body, { ...auth(seller), 'content-type': contentType }), 415, 'unsupported_media_type');
    expect(await listingsOf(seller)).toBe(before);
  });

  test('a body without a Content-Type is a 415', async () => {
    expectProblem(await sendBytes('POST', '/listings', listingJson('Untyped'), auth(seller)), 415, 'unsupported_media_type');
  });

  test('JSON with a charset parameter or a +json media type is read', async () => {
    for (const contentType of ['application/json; charset=utf-8', 'application/vnd.market+json']) {
      const res = await sendBytes('POST', '/listings', listingJson(contentType), { ...auth(seller), 'content-type': contentType });
      expect(res.status).toBe(201);
      expect(res.body.listing.title).toBe(contentType);
    }
  });

  test('JSON in another charset than UTF-8 is a 415', async () => {
    expectProblem(await sendBytes('POST', '/listings', listingJson('Latin'), { ...auth(seller), 'content-type': 'application/json; charset=latin1' }), 415, 'unsupported_media_type');
  });

  test('a request without a body is not asked for a Content-Type', async () => {
    const listing = await api.createListing(seller.accessToken);
    // A POST with no body reaches validation (a 400 naming the fields), not the media-type check.
    const empty = await sendBytes('POST', '/signin', new Uint8Array(), {});
    expectProblem(empty, 400, 'validation_failed');
    expect((await api.get(`/listings/${listing.id}`)).status).toBe(200);
    expect((await api.del(`/listings/${listing.id}`, seller.accessToken)).status).toBe(204);
  });

  test('a gzip or deflate JSON body is read', async () => {
    const gz = await sendBytes('POST', '/listings', gzipSync(listingJson('Zipped')), { ...auth(seller), 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(gz.status).toBe(201);
    expect(gz.body.listing.title).toBe('Zipped');
    const deflated = await sendBytes('POST', '/listings', deflateSync(listingJson('Deflated')), { ...auth(seller), 'content-type': 'application/json', 'content-encoding': 'deflate' });
    expect(deflated.status).toBe(201);
  });

  test('a corrupt gzip body is a 400, not a 500, and nothing is created', async () => {
    const before = await listingsOf(seller);
    const garbage = Buffer.from('this is not gzip at all, just bytes that claim to be');
    expectProblem(await sendBytes('POST', '/listings', garbage, { ...auth(seller), 'content-type': 'application/json', 'content-encoding': 'gzip' }), 400, 'invalid_body');
    const truncated = gzipSync(listingJson('Cut short')).subarray(0, 20);
    expectProblem(await sendBytes('POST', '/listings', truncated, { ...auth(seller), 'content-type': 'application/json', 'content-encoding': 'gzip' }), 400, 'invalid_body');
    expect(await listingsOf(seller)).toBe(before);
  });

  test.each(['br', 'zstd', 'compress', 'gzip, gzip'])('a body in Content-Encoding %s is a 400 that names the codings read', async (coding) => {
    const body = coding === 'br' ? brotliCompressSync(listingJson('Brotli')) : listingJson('Other');
    const res = await sendBytes('POST', '/listings', body, { ...auth(seller), 'content-type': 'application/json', 'content-encoding': coding });
    expectProblem(res, 400, 'unsupported_encoding');
    expect(res.headers.get('accept-encoding')).toBe('gzip, deflate');
  });

  test('the 100 kB limit counts the decoded body: a small gzip of a large body is a 413', async () => {
    const large = Buffer.from(JSON.stringify({ title: 'Bomb', priceCents: 700, description: 'a'.repeat(200_000) }));
    const zipped = gzipSync(large);
    expect(zipped.length).toBeLessThan(2_000);
    expectProblem(await sendBytes('POST', '/listings', zipped, { ...auth(seller), 'content-type': 'application/json', 'content-encoding': 'gzip' }), 413, 'payload_too_large');
    expectProblem(await sendBytes('POST', '/listings', large, { ...auth(seller), 'content-type': 'application/json' }), 413, 'payload_too_large');
  });

  test('malformed JSON is still a 400, compressed or not', async () => {
    const broken = Buffer.from('{"title": "x",');
    expectProblem(await sendBytes('POST', '/listings', broken, { ...auth(seller), 'content-type': 'application/json' }), 400, 'malformed_json');
    expectProblem(await sendBytes('POST', '/listings', gzipSync(broken), { ...auth(seller), 'content-type': 'application/json', 'content-encoding': 'gzip' }), 400, 'malformed_json');
  });
});

describe('token responses', () => {
  const expectNoStore = (res: ApiResponse, status: number): void => {
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
  };

  test('sign-up, sign-in and refresh answers tell every cache not to store them', async () => {
    const email = `no-store-${Date.now()}@example.com`;
    const signUp = await api.post('/users', { email, password: 'correct horse battery', name: 'Cautious' });
    expectNoStore(signUp, 201);
    const signIn = await api.post('/signin', { email, password: 'correct horse battery' });
    expectNoStore(signIn, 200);
    expectNoStore(await api.post('/token/refresh', { refreshToken: signIn.body.refreshToken }), 200);
  });

  test('users-service says the same on its own port, and refuses a body it cannot read there too', async () => {
    const direct = `http://127.0.0.1:${stack.users.port}`;
    const email = `direct-${Date.now()}@example.com`;
    const body = Buffer.from(JSON.stringify({ email, password: 'correct horse battery', name: 'Direct' }));
    expectNoStore(await sendBytes('POST', '/users', body, { 'content-type': 'application/json' }, direct), 201);
    const signIn = Buffer.from(JSON.stringify({ email, password: 'correct horse battery' }));
    expectNoStore(await sendBytes('POST', '/signin', signIn, { 'content-type': 'application/json' }, direct), 200);
    expectProblem(await sendBytes('POST', '/signin', Buffer.from('not gzip'), { 'content-type': 'application/json', 'content-encoding': 'gzip' }, direct), 400, 'invalid_body');
    expectProblem(await sendBytes('POST', '/signin', signIn, { 'content-type': 'text/plain' }, direct), 415, 'unsupported_media_type');
  });
});
