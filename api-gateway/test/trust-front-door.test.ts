import { createHash, createHmac, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import http from 'node:http';
import jwt from 'jsonwebtoken';
import { type AppError, privateKeyFrom, type RpcClient } from '@market/common';
import { type ApiResponse, client, type Session } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import { startStack, type Stack } from '../../test/support/stack';

/**
 * Point 9 of "Trust nobody by default", through the front door: the token format and its keys,
 * revocation within a second at the gateway and in the services, the password and admin rules, and
 * the bounds on guessing passwords. Requests that must look like they come from different machines
 * are sent from different loopback addresses (all of 127.0.0.0/8 reaches this host).
 */

const ADMIN = { email: 'admin@example.com', password: 'admin-password-123' };
const PASSWORD = 'correct horse battery';

type Outcome = { status: number; code?: string };

/** A client that sends from `localAddress`, as a distinct machine would (no proxy: the gateway sees the socket's address). */
function fromAddress(stack: Stack, localAddress: string) {
  return (method: string, path: string, body?: unknown, token?: string): Promise<ApiResponse> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          host: '127.0.0.1',
          port: stack.gateway.port,
          method,
          path,
          localAddress,
          agent: false,
          headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
            resolve({ status: res.statusCode ?? 0, headers, body: text ? JSON.parse(text) : undefined });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
}

let addresses = 0;
/** A loopback address no other request in this file has used. */
const freshAddress = (): string => {
  addresses += 1;
  return `127.0.${10 + Math.floor(addresses / 250)}.${1 + (addresses % 250)}`;
};

const outcome = (promise: Promise<unknown>): Promise<Outcome> =>
  promise.then(
    () => ({ status: 200 }),
    (err: AppError) => ({ status: err.status, code: err.code }),
  );
const outcomeOf = (res: ApiResponse): Outcome => ({ status: res.status, ...(res.body?.code ? { code: res.body.code } : {}) });
const revoked: Outcome = { status: 401, code: 'token_revoked' };

/**
 * Milliseconds from `since` until `probe` first answers 401 token_revoked, polling every 50 ms;
 * Infinity if it never does within 3 s.
 */
async function msUntilRevoked(since: number, probe: () => Promise<Outcome>): Promise<number> {
  const revokedNow = async (): Promise<boolean> => {
    const answer = await probe();
    return answer.status === 401 && answer.code === 'token_revoked';
  };
  return (await eventually(revokedNow, since + 3000 - Date.now(), 50)) ? Date.now() - since : Infinity;
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A JWT made by hand, so that nothing in a library stops a malformed one from being sent. */
function craftToken(header: Record<string, unknown>, claims: Record<string, unknown>, signer: (data: Buffer) => Buffer): string {
  const signingInput = `${b64url(header)}.${b64url(claims)}`;
  return `${signingInput}.${signer(Buffer.from(signingInput)).toString('base64url')}`;
}
const es256 = (key: KeyObject) => (data: Buffer): Buffer => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });

describe('one stack with an admin account and a generous rate limit', () => {
  let stack: Stack;
  let api: ReturnType<typeof client>;
  let gw: RpcClient;

  beforeAll(async () => {
    stack = await startStack({ env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
    api = client(stack);
    gw = await stack.rpcAs('api-gateway');
  });
  afterAll(() => stack?.stop());

  const signIn = async (email: string, password: string): Promise<ApiResponse<Session>> => api.post<Session>('/signin', { email, password });
  const signInAdmin = async (): Promise<Session> => (await signIn(ADMIN.email, ADMIN.password)).body;
  /** The gateway refuses a revoked token itself, even on a public route that asks no service for it. */
  const atGateway = (token: string) => async (): Promise<Outcome> => outcomeOf(await api.get('/listings?limit=1', token));
  /** A list a service answers for the token's user: the service verifies the token itself. */
  const inService = (method: 'listings.list' | 'orders.list' | 'payments.list' | 'payments.listCoupons', token: string) => (): Promise<Outcome> => outcome(gw.call(method, {}, { token }));

  // The first tests need the seeded admin to be the only one; every later test leaves it that way.
  describe('the last admin', () => {
    test('the only admin can neither demote nor delete themself (409 last_admin); with a second admin, one can be demoted', async () => {
      const first = await signInAdmin();
      const selfDemote = await api.patch(`/users/${first.user.id}`, { role: 'user' }, first.accessToken);
      expect(outcomeOf(selfDemote)).toEqual({ status: 409, code: 'last_admin' });
      const selfDelete = await api.del(`/users/${first.user.id}`, first.accessToken);
      expect(outcomeOf(selfDelete)).toEqual({ status: 409, code: 'last_admin' });
      // Still an admin, with the same session.
      expect((await api.get('/users/me', first.accessToken)).body.user.role).toBe('admin');
      expect((await api.get('/coupons', first.accessToken)).status).toBe(200);

      const second = await api.signUp('Second admin');
      expect((await api.patch(`/users/${second.user.id}`, { role: 'admin' }, first.accessToken)).status).toBe(200);
      const demoted = await api.patch(`/users/${second.user.id}`, { role: 'user' }, first.accessToken);
      expect(demoted.status).toBe(200);
      expect(demoted.body.user.role).toBe('user');
      // The first is the last one again.
      expect(outcomeOf(await api.patch(`/users/${first.user.id}`, { role: 'user' }, first.accessToken))).toEqual({ status: 409, code: 'last_admin' });
    });

    test('two admins demoting each other at the same moment leave one admin', async () => {
      const first = await signInAdmin();
      const second = await api.signUp('Rival admin');
      expect((await api.patch(`/users/${second.user.id}`, { role: 'admin' }, first.accessToken)).status).toBe(200);
      const rival = (await signIn(second.user.email, PASSWORD)).body;

      const answers = await Promise.all([
        api.patch(`/users/${rival.user.id}`, { role: 'user' }, first.accessToken),
        api.patch(`/users/${first.user.id}`, { role: 'user' }, rival.accessToken),
      ]);
      expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
      const roles = await Promise.all([
        signIn(ADMIN.email, ADMIN.password).then((r) => r.body.user.role),
        signIn(second.user.email, PASSWORD).then((r) => r.body.user.role),
      ]);
      expect(roles.filter((r) => r === 'admin')).toHaveLength(1);

      // Put things back so that the seeded admin is the only admin again.
      if (roles[0] !== 'admin') {
        const survivor = (await signIn(second.user.email, PASSWORD)).body;
        expect((await api.patch(`/users/${first.user.id}`, { role: 'admin' }, survivor.accessToken)).status).toBe(200);
      }
      const restored = await signInAdmin();
      expect((await api.patch(`/users/${second.user.id}`, { role: 'user' }, restored.accessToken)).status).toBe(200);
    });
  });

  describe('the public keys (JWKS)', () => {
    test('are EC P-256 keys with a kid (their RFC 7638 thumbprint) and never a private part', async () => {
      const res = await api.get('/.well-known/jwks.json');
      expect(res.status).toBe(200);
      expect(res.body.keys.length).toBeGreaterThanOrEqual(1);
      for (const key of res.body.keys) {
        expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', kid: expect.any(String), x: expect.any(String), y: expect.any(String) });
        for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(secret);
        const thumbprint = createHash('sha256').update(`{"crv":"P-256","kty":"EC","x":"${key.x}","y":"${key.y}"}`).digest('base64url');
        expect(key.kid).toBe(thumbprint);
      }
    });

    test('hold the key of a real access token, named by its kid, and that key verifies it', async () => {
      const me = await api.signUp();
      const header = JSON.parse(Buffer.from(me.accessToken.split('.')[0] as string, 'base64url').toString('utf8'));
      expect(header).toMatchObject({ alg: 'ES256', kid: expect.any(String) });
      const { keys } = (await api.get('/.well-known/jwks.json')).body;
      const jwk = keys.find((k: { kid: string }) => k.kid === header.kid);
      expect(jwk).toBeDefined();
      const claims = jwt.verify(me.accessToken, createPublicKey({ key: jwk, format: 'jwk' }), { algorithms: ['ES256'] });
      expect(claims).toMatchObject({ sub: me.user.id, role: 'user', ver: expect.any(Number), iat: expect.any(Number), exp: expect.any(Number), iss: 'market-users', aud: 'market' });
    });
  });

  describe('forged access tokens', () => {
    let me: Session;
    let kid: string;
    let claims: Record<string, unknown>;
    let publicPem: string;
    beforeAll(async () => {
      me = await api.signUp('Token owner');
      kid = JSON.parse(Buffer.from(me.accessToken.split('.')[0] as string, 'base64url').toString('utf8')).kid;
      claims = jwt.decode(me.accessToken) as Record<string, unknown>;
      const jwk = (await api.get('/.well-known/jwks.json')).body.keys.find((k: { kid: string }) => k.kid === kid);
      publicPem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    });

    /** users-service's real key: for tokens whose only defect is a claim. */
    const realKey = (): KeyObject => privateKeyFrom(stack.keys.jwtPrivateKey);
    const usersServiceDirect = async (token: string): Promise<number> =>
      (await fetch(`http://127.0.0.1:${stack.users.port}/users/me`, { headers: { authorization: `Bearer ${token}` } })).status;

    test('the same header and claims signed with the real key are accepted (the forgeries below differ only where they say)', async () => {
      const token = craftToken({ alg: 'ES256', typ: 'JWT', kid }, claims, es256(realKey()));
      expect((await api.get('/users/me', token)).status).toBe(200);
      expect(await usersServiceDirect(token)).toBe(200);
      expect(await outcome(gw.call('listings.list', {}, { token }))).toEqual({ status: 200 });
    });

    const admin = (c: Record<string, unknown>): Record<string, unknown> => ({ ...c, role: 'admin' });
    const forgeries: [string, () => string][] = [
      ['HS256 with the public key as the secret', () => craftToken({ alg: 'HS256', typ: 'JWT', kid }, admin(claims), (d) => createHmac('sha256', publicPem).update(d).digest())],
      ['alg "none"', () => `${b64url({ alg: 'none', typ: 'JWT', kid })}.${b64url(admin(claims))}.`],
      ['no exp', () => craftToken({ alg: 'ES256', typ: 'JWT', kid }, { ...claims, exp: undefined }, es256(realKey()))],
      ['another issuer', () => craftToken({ alg: 'ES256', typ: 'JWT', kid }, { ...claims, iss: 'someone-else' }, es256(realKey()))],
      ['another audience', () => craftToken({ alg: 'ES256', typ: 'JWT', kid }, { ...claims, aud: 'someone-else' }, es256(realKey()))],
      ['a key not in the JWKS, under the real kid', () => craftToken({ alg: 'ES256', typ: 'JWT', kid }, admin(claims), es256(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey))],
    ];

    test('a token signed with the real key that has expired is refused as expired, at the door and in a service', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = craftToken({ alg: 'ES256', typ: 'JWT', kid }, { ...claims, iat: now - 120, exp: now - 60 }, es256(realKey()));
      expect(outcomeOf(await api.get('/users/me', token))).toEqual({ status: 401, code: 'token_expired' });
      expect(await outcome(gw.call('listings.list', {}, { token }))).toEqual({ status: 401, code: 'token_expired' });
    });

    test.each(forgeries)('a token with %s is refused with 401 by the gateway, users-service and the services, and does nothing', async (_defect, forge) => {
      const token = forge();
      const atDoor = await api.post('/listings', { title: 'Forged', priceCents: 100 }, token);
      expect(outcomeOf(atDoor)).toEqual({ status: 401, code: 'invalid_token' });
      expect((await api.get('/users/me', token)).status).toBe(401);
      expect(await usersServiceDirect(token)).toBe(401);
      expect(await outcome(gw.call('listings.create', { title: 'Forged', priceCents: 100 }, { token }))).toEqual({ status: 401, code: 'invalid_token' });
      expect(await outcome(gw.call('payments.createCoupon', { percentOff: 100 }, { token }))).toEqual({ status: 401, code: 'invalid_token' });
      expect((await api.get(`/listings?sellerId=${me.user.id}`)).body.total).toBe(0);
    });
  });

  describe('revocation within a second, at the gateway and in the services', () => {
    test('a password change ends the old access tokens everywhere; the new session works', async () => {
      const me = await api.signUp();
      const changed = await api.patch(`/users/${me.user.id}`, { password: 'a brand new password', currentPassword: PASSWORD }, me.accessToken);
      expect(changed.status).toBe(200);
      const since = Date.now();

      const [gateway, listings, orders] = await Promise.all([
        msUntilRevoked(since, atGateway(me.accessToken)),
        msUntilRevoked(since, inService('listings.list', me.accessToken)),
        msUntilRevoked(since, inService('orders.list', me.accessToken)),
      ]);
      expect(gateway).toBeLessThan(1000);
      expect(listings).toBeLessThan(1000);
      expect(orders).toBeLessThan(1000);

      expect(outcomeOf(await api.post('/listings', { title: 'After', priceCents: 100 }, me.accessToken))).toEqual(revoked);
      expect(await outcome(gw.call('listings.create', { title: 'After', priceCents: 100 }, { token: me.accessToken }))).toEqual(revoked);
      expect((await api.post('/token/refresh', { refreshToken: me.refreshToken })).status).toBe(401);
      const fresh = (await signIn(me.user.email, 'a brand new password')).body;
      expect((await api.post('/listings', { title: 'After', priceCents: 100 }, fresh.accessToken)).status).toBe(201);
    });

    test('a role change ends the demoted admin’s tokens everywhere: no more coupons, and the refresh token is dead too', async () => {
      const admin = await signInAdmin();
      const other = await api.signUp('Short-lived admin');
      expect((await api.patch(`/users/${other.user.id}`, { role: 'admin' }, admin.accessToken)).status).toBe(200);
      const asAdmin = (await signIn(other.user.email, PASSWORD)).body;
      expect((await api.get('/coupons', asAdmin.accessToken)).status).toBe(200);

      expect((await api.patch(`/users/${other.user.id}`, { role: 'user' }, admin.accessToken)).status).toBe(200);
      const since = Date.now();
      const [gateway, payments] = await Promise.all([
        msUntilRevoked(since, atGateway(asAdmin.accessToken)),
        msUntilRevoked(since, inService('payments.listCoupons', asAdmin.accessToken)),
      ]);
      expect(gateway).toBeLessThan(1000);
      expect(payments).toBeLessThan(1000);

      const code = `DEMOTED-${Date.now()}`;
      expect(outcomeOf(await api.post('/coupons', { code, percentOff: 100 }, asAdmin.accessToken))).toEqual(revoked);
      expect(await outcome(gw.call('payments.createCoupon', { code, percentOff: 100 }, { token: asAdmin.accessToken }))).toEqual(revoked);
      expect((await api.get('/coupons?limit=100', admin.accessToken)).body.items.map((c: { code: string }) => c.code)).not.toContain(code);
      expect((await api.post('/token/refresh', { refreshToken: asAdmin.refreshToken })).status).toBe(401);
      const again = (await signIn(other.user.email, PASSWORD)).body;
      expect(again.user.role).toBe('user');
      expect((await api.post('/coupons', { code, percentOff: 100 }, again.accessToken)).status).toBe(403);
    });

    test('signing out everywhere ends every session’s access token everywhere, and the refresh tokens', async () => {
      const first = await api.signUp();
      const second = (await signIn(first.user.email, PASSWORD)).body;
      expect((await api.post('/signout/everywhere', undefined, first.accessToken)).status).toBe(204);
      const since = Date.now();

      const times = await Promise.all([
        msUntilRevoked(since, atGateway(first.accessToken)),
        msUntilRevoked(since, atGateway(second.accessToken)),
        msUntilRevoked(since, inService('orders.list', first.accessToken)),
        msUntilRevoked(since, inService('payments.list', second.accessToken)),
      ]);
      for (const ms of times) expect(ms).toBeLessThan(1000);

      for (const session of [first, second]) {
        expect((await api.post('/token/refresh', { refreshToken: session.refreshToken })).status).toBe(401);
        expect(await outcome(gw.call('listings.create', { title: 'After', priceCents: 100 }, { token: session.accessToken }))).toEqual(revoked);
      }
      const fresh = (await signIn(first.user.email, PASSWORD)).body;
      expect((await api.get('/listings?limit=1', fresh.accessToken)).status).toBe(200);
      expect(await outcome(gw.call('orders.list', {}, { token: fresh.accessToken }))).toEqual({ status: 200 });
    });

    test('a deleted user’s token can no longer list, order or pay: 401 token_revoked at the gateway and in each service', async () => {
      const seller = await api.signUp('Seller');
      const held = await api.createListing(seller.accessToken);
      const forSale = await api.createListing(seller.accessToken);
      const doomed = await api.signUp('Doomed');
      const order = (await api.post('/orders', { listingId: held.id }, doomed.accessToken)).body.order;
      expect(order.status).toBe('pending');

      expect((await api.del(`/users/${doomed.user.id}`, doomed.accessToken)).status).toBe(204);
      const since = Date.now();
      const times = await Promise.all([
        msUntilRevoked(since, atGateway(doomed.accessToken)),
        msUntilRevoked(since, inService('listings.list', doomed.accessToken)),
        msUntilRevoked(since, inService('orders.list', doomed.accessToken)),
        msUntilRevoked(since, inService('payments.list', doomed.accessToken)),
      ]);
      for (const ms of times) expect(ms).toBeLessThan(1000);

      const token = doomed.accessToken;
      const payment = { orderId: order.id, paymentMethod: 'pm_card_visa' };
      expect(outcomeOf(await api.post('/listings', { title: 'Ghost', priceCents: 100 }, token))).toEqual(revoked);
      expect(outcomeOf(await api.post('/orders', { listingId: forSale.id }, token))).toEqual(revoked);
      expect(outcomeOf(await api.post('/payments', payment, token))).toEqual(revoked);
      expect(await outcome(gw.call('listings.create', { title: 'Ghost', priceCents: 100 }, { token }))).toEqual(revoked);
      expect(await outcome(gw.call('orders.create', { listingId: forSale.id }, { token }))).toEqual(revoked);
      expect(await outcome(gw.call('payments.create', { payment }, { token }))).toEqual(revoked);

      expect((await api.get(`/listings?sellerId=${doomed.user.id}`)).body.total).toBe(0);
      expect((await api.get(`/listings/${forSale.id}`)).body.listing.status).toBe('available');
      expect((await api.get(`/listings/${held.id}`)).body.listing.status).not.toBe('sold');
    });
  });

  describe('changing a password', () => {
    test('without currentPassword is a 400 naming the field, with a wrong one a 403; neither changes anything', async () => {
      const me = await api.signUp();
      const missing = await api.patch(`/users/${me.user.id}`, { password: 'taken over now' }, me.accessToken);
      expect(missing.status).toBe(400);
      expect(missing.body.errors.map((e: { field: string }) => e.field)).toContain('currentPassword');
      const wrong = await api.patch(`/users/${me.user.id}`, { password: 'taken over now', currentPassword: 'a guess' }, me.accessToken);
      expect(outcomeOf(wrong)).toEqual({ status: 403, code: 'current_password_incorrect' });

      expect((await signIn(me.user.email, PASSWORD)).status).toBe(200);
      expect((await signIn(me.user.email, 'taken over now')).status).toBe(401);
      // No revocation either: the session that tried is still good, at the door and in a service.
      expect((await api.get('/listings?limit=1', me.accessToken)).status).toBe(200);
      expect(await outcome(gw.call('orders.list', {}, { token: me.accessToken }))).toEqual({ status: 200 });
    });

    test('only an admin resets someone else’s password (POST /users/{id}/password), which ends their sessions within a second', async () => {
      const target = await api.signUp('Target');
      const stranger = await api.signUp('Stranger');
      const byStranger = await api.post(`/users/${target.user.id}/password`, { password: 'stranger chose this' }, stranger.accessToken);
      expect(byStranger.status).toBe(403);
      expect((await signIn(target.user.email, PASSWORD)).status).toBe(200);
      expect((await api.get('/listings?limit=1', target.accessToken)).status).toBe(200);

      const admin = await signInAdmin();
      expect((await api.post(`/users/${target.user.id}/password`, { password: 'admin chose this' }, admin.accessToken)).status).toBe(204);
      const since = Date.now();
      const [gateway, listings] = await Promise.all([msUntilRevoked(since, atGateway(target.accessToken)), msUntilRevoked(since, inService('listings.list', target.accessToken))]);
      expect(gateway).toBeLessThan(1000);
      expect(listings).toBeLessThan(1000);

      expect((await api.post('/token/refresh', { refreshToken: target.refreshToken })).status).toBe(401);
      expect((await signIn(target.user.email, PASSWORD)).status).toBe(401);
      expect((await signIn(target.user.email, 'admin chose this')).status).toBe(200);
    });
  });

  describe('failed sign-ins per account', () => {
    const failUntilBlocked = async (email: string): Promise<void> => {
      for (let i = 0; i < 10; i++) {
        const res = await fromAddress(stack, freshAddress())('POST', '/signin', { email, password: `guess number ${i}` });
        expect(outcomeOf(res)).toEqual({ status: 401, code: 'invalid_credentials' });
      }
    };

    test('after 10 failures from 10 addresses, the 11th sign-in — even with the right password — is 429 with Retry-After; another account is unaffected', async () => {
      const victim = await api.signUp('Victim');
      const bystander = await api.signUp('Bystander');
      await failUntilBlocked(victim.user.email);

      const blocked = await fromAddress(stack, freshAddress())('POST', '/signin', { email: victim.user.email, password: PASSWORD });
      expect(outcomeOf(blocked)).toEqual({ status: 429, code: 'too_many_signin_failures' });
      const retryAfter = Number(blocked.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(800);
      expect(retryAfter).toBeLessThanOrEqual(900);
      expect((await signIn(bystander.user.email, PASSWORD)).status).toBe(200);
    });

    test('another spelling of the blocked account’s email (case, accents) does not open it again', async () => {
      const victim = await api.signUp('Victim');
      await failUntilBlocked(victim.user.email);
      const [local, domain] = victim.user.email.split('@') as [string, string];
      // With the right password: 429 if the spelling counts as the same account, 401 if it does not reach
      // the account at all (then guesses through it are worthless). A 200 means a fresh set of guesses.
      for (const spelling of [victim.user.email.toUpperCase(), `${local.replace('u', 'ù')}@${domain}`, `${local.replace('e', 'é')}@${domain}`]) {
        const res = await fromAddress(stack, freshAddress())('POST', '/signin', { email: spelling, password: PASSWORD });
        expect({ spelling, status: res.status, refused: [401, 429].includes(res.status) }).toEqual({ spelling, status: expect.any(Number), refused: true });
      }
    });

    test('30 wrong guesses fired at once for one account from 30 addresses: at most 10 are checked, the rest are 429', async () => {
      const victim = await api.signUp('Victim');
      // A botnet sends its guesses together: each must not be judged by the count from before the others failed.
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) => fromAddress(stack, freshAddress())('POST', '/signin', { email: victim.user.email, password: `parallel guess ${i}` })),
      );
      const checked = answers.filter((r) => r.status === 401).length;
      expect(answers.filter((r) => r.status === 429).length).toBe(30 - checked);
      expect(checked).toBeLessThanOrEqual(10);
    });
  });

  describe('metrics', () => {
    test('are not served on the public port (404) but are on the internal ops port', async () => {
      const api404 = await api.get('/metrics');
      expect(outcomeOf(api404)).toEqual({ status: 404, code: 'route_not_found' });
      const internal = await fetch(`http://127.0.0.1:${stack.gateway.opsPort}/metrics`);
      expect(internal.status).toBe(200);
      expect(await internal.text()).toMatch(/market_http_request_duration_seconds_count\{service="api-gateway"/);
    });
  });
});

describe('anonymous routes are limited per address, whatever token rides along (RATE_LIMIT_MAX 5)', () => {
  let stack: Stack;
  let throwaways: Session[];

  beforeAll(async () => {
    stack = await startStack({ services: [], env: { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' } });
    // The attacker made their throwaway accounts elsewhere (each from its own address, so the sign-ups are not what is limited).
    throwaways = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const res = await fromAddress(stack, freshAddress())('POST', '/users', { email: `throwaway${i}-${Date.now()}@example.com`, password: PASSWORD, name: `Throwaway ${i}` });
        expect(res.status).toBe(201);
        return res.body as Session;
      }),
    );
  });
  afterAll(() => stack?.stop());

  // Express also routes /signin/ and /SignIn to sign-in: they are the same anonymous route and must be limited the same way.
  test.each(['/signin', '/signin/', '/SignIn'])('six wrong passwords to POST %s from one address, each with another valid account’s token: the sixth is 429', async (path) => {
    const victim = await fromAddress(stack, freshAddress())('POST', '/users', { email: `victim-${Date.now()}@example.com`, password: PASSWORD, name: 'Victim' });
    expect(victim.status).toBe(201);
    const attacker = fromAddress(stack, freshAddress());
    const answers: Outcome[] = [];
    for (const throwaway of throwaways) answers.push(outcomeOf(await attacker('POST', path, { email: victim.body.user.email, password: 'a guess' }, throwaway.accessToken)));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expect(answers[5]).toEqual({ status: 429, code: 'rate_limited' });
    // It is the address that is limited: the victim signs in from their own.
    expect((await fromAddress(stack, freshAddress())('POST', '/signin', { email: victim.body.user.email, password: PASSWORD })).status).toBe(200);
  });

  test('the throwaway tokens were valid: each one reads its own account', async () => {
    const reader = fromAddress(stack, freshAddress());
    for (const throwaway of throwaways) expect((await reader('GET', '/users/me', undefined, throwaway.accessToken)).status).toBe(200);
  });
});

describe('a failure window of 3 s (SIGNIN_FAILURES_WINDOW_SECONDS)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ services: [], env: { SIGNIN_FAILURES_WINDOW_SECONDS: '3' } });
  });
  afterAll(() => stack?.stop());

  test('ends: once the failures leave the window, the right password signs in again', async () => {
    const api = client(stack);
    const victim = await api.signUp('Victim');
    for (let i = 0; i < 10; i++) expect((await api.post('/signin', { email: victim.user.email, password: `guess ${i}` })).status).toBe(401);
    const blocked = await api.post('/signin', { email: victim.user.email, password: PASSWORD });
    expect(outcomeOf(blocked)).toEqual({ status: 429, code: 'too_many_signin_failures' });
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(3);
    expect(await eventually(async () => (await api.post('/signin', { email: victim.user.email, password: PASSWORD })).status === 200, 6000, 200)).toBe(true);
  });
});
