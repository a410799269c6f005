import { client, type Session } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import { startStack, type Stack } from '../../test/support/stack';

const ADMIN = { email: 'admin@example.com', password: 'admin-password-123' };

let stack: Stack;
let api: ReturnType<typeof client>;
beforeAll(async () => {
  stack = await startStack({ services: ['listings'], env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
  api = client(stack);
});
afterAll(() => stack.stop());

const signInAdmin = async (): Promise<Session> => (await api.post('/signin', ADMIN)).body;

describe('sign up', () => {
  test('creates an account and answers with the user and a session, never a password hash', async () => {
    const res = await api.post('/users', { email: 'New.Person@Example.com ', password: 'long enough pw', name: 'New Person' });
    expect(res.status).toBe(201);
    expect(res.body.user).toEqual({ id: expect.any(String), email: 'new.person@example.com', name: 'New Person', role: 'user', createdAt: expect.any(String) });
    expect(res.body.accessToken.split('.')).toHaveLength(3);
    expect(res.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(JSON.stringify(res.body)).not.toMatch(/\$2[aby]\$/);
  });

  test('refuses an email that is taken with a 409', async () => {
    const body = { email: 'taken@example.com', password: 'long enough pw', name: 'A' };
    expect((await api.post('/users', body)).status).toBe(201);
    const again = await api.post('/users', { ...body, email: 'TAKEN@example.com' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('email_taken');
  });

  test('lists every bad field and creates nothing', async () => {
    const res = await api.post('/users', { email: 'not-an-email', password: 'short', name: '' });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['email', 'name', 'password']);
    expect((await api.post('/signin', { email: 'not-an-email', password: 'short' })).status).toBe(401);
  });

  test('refuses a role or any field the contract does not accept (no mass assignment)', async () => {
    const res = await api.post('/users', { email: 'sneaky@example.com', password: 'long enough pw', name: 'S', role: 'admin' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toMatch(/role/);
    expect((await api.post('/signin', { email: 'sneaky@example.com', password: 'long enough pw' })).status).toBe(401);
  });

  test('refuses a password longer than bcrypt can check (72 bytes)', async () => {
    expect((await api.post('/users', { email: 'long@example.com', password: 'é'.repeat(40), name: 'L' })).status).toBe(400);
  });
});

describe('sign in', () => {
  test('answers a session for the right password', async () => {
    const me = await api.signUp();
    const res = await api.post('/signin', { email: me.user.email, password: 'correct horse battery' });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(me.user.id);
  });

  test('gives the same 401 for an unknown email and a wrong password', async () => {
    const me = await api.signUp();
    const wrong = await api.post('/signin', { email: me.user.email, password: 'wrong password' });
    const unknown = await api.post('/signin', { email: 'nobody@example.com', password: 'wrong password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect({ ...wrong.body, requestId: undefined }).toEqual({ ...unknown.body, requestId: undefined });
  });

  test('refuses a malformed body with a 400', async () => {
    expect((await api.post('/signin', { email: 'a@example.com' })).status).toBe(400);
    expect((await api.post('/signin', { email: 'a@example.com', password: 'x', extra: 1 })).status).toBe(400);
  });
});

describe('refresh tokens', () => {
  test('rotate: the new pair works and the old refresh token stops working', async () => {
    const me = await api.signUp();
    const rotated = await api.post('/token/refresh', { refreshToken: me.refreshToken });
    expect(rotated.status).toBe(200);
    expect(Object.keys(rotated.body).sort()).toEqual(['accessToken', 'refreshToken']);
    expect((await api.get('/users/me', rotated.body.accessToken)).status).toBe(200);
    const reused = await api.post('/token/refresh', { refreshToken: me.refreshToken });
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('refresh_token_reused');
  });

  test('reuse of a rotated token revokes the whole family, including the newest token', async () => {
    const me = await api.signUp();
    const rotated = await api.post('/token/refresh', { refreshToken: me.refreshToken });
    await api.post('/token/refresh', { refreshToken: me.refreshToken });
    expect((await api.post('/token/refresh', { refreshToken: rotated.body.refreshToken })).status).toBe(401);
  });

  test('two parallel refreshes of one token let at most one through', async () => {
    const me = await api.signUp();
    const results = await Promise.all([1, 2, 3].map(() => api.post('/token/refresh', { refreshToken: me.refreshToken })));
    expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1);
  });

  test('an unknown or malformed refresh token is refused', async () => {
    expect((await api.post('/token/refresh', { refreshToken: 'nope' })).status).toBe(401);
    expect((await api.post('/token/refresh', {})).status).toBe(400);
    expect((await api.post('/token/refresh', { refreshToken: 'x'.repeat(500) })).status).toBe(400);
  });
});

describe('sign out', () => {
  test('revokes the refresh token, which is then simply invalid (not reported as stolen)', async () => {
    const me = await api.signUp();
    expect((await api.post('/signout', { refreshToken: me.refreshToken }, me.accessToken)).status).toBe(204);
    const after = await api.post('/token/refresh', { refreshToken: me.refreshToken });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('invalid_refresh_token');
  });

  test('needs a signed-in caller and cannot revoke someone else’s token', async () => {
    const alice = await api.signUp();
    const bob = await api.signUp();
    expect((await api.post('/signout', { refreshToken: alice.refreshToken })).status).toBe(401);
    expect((await api.post('/signout', { refreshToken: alice.refreshToken }, bob.accessToken)).status).toBe(401);
    expect((await api.post('/token/refresh', { refreshToken: alice.refreshToken })).status).toBe(200);
  });
});

describe('profiles', () => {
  test('/users/me shows the caller with email and role; without a token it is a 401', async () => {
    const me = await api.signUp('Me');
    const res = await api.get('/users/me', me.accessToken);
    expect(res.body.user).toEqual({ id: me.user.id, email: me.user.email, name: 'Me', role: 'user', createdAt: expect.any(String) });
    expect((await api.get('/users/me')).status).toBe(401);
  });

  test('the list shows public profiles only, in pages', async () => {
    await api.signUp();
    await api.signUp();
    const res = await api.get('/users?limit=2&offset=0');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ limit: 2, offset: 0, total: expect.any(Number) });
    expect(res.body.items).toHaveLength(2);
    for (const item of res.body.items) expect(Object.keys(item).sort()).toEqual(['createdAt', 'id', 'name']);
  });

  test.each(['limit=0', 'limit=101', 'limit=abc', 'offset=-1', 'offset=1.5', 'sort=name'])('the list refuses ?%s with a 400', async (query) => {
    expect((await api.get(`/users?${query}`)).status).toBe(400);
  });

  test('a profile shows the email only to the user themself or an admin', async () => {
    const alice = await api.signUp();
    const bob = await api.signUp();
    const admin = await signInAdmin();
    expect((await api.get(`/users/${alice.user.id}`)).body.user.email).toBeUndefined();
    expect((await api.get(`/users/${alice.user.id}`, bob.accessToken)).body.user.email).toBeUndefined();
    expect((await api.get(`/users/${alice.user.id}`, alice.accessToken)).body.user.email).toBe(alice.user.email);
    expect((await api.get(`/users/${alice.user.id}`, admin.accessToken)).body.user.email).toBe(alice.user.email);
    expect((await api.get('/users/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await api.get('/users/123')).status).toBe(400);
  });
});

describe('changing a user', () => {
  test('a user changes their own name and password', async () => {
    const me = await api.signUp();
    const res = await api.patch(`/users/${me.user.id}`, { name: 'Renamed', password: 'a brand new password', currentPassword: 'correct horse battery' }, me.accessToken);
    expect(res.status).toBe(200);
    expect(res.body.user.name).toBe('Renamed');
    expect((await api.post('/signin', { email: me.user.email, password: 'a brand new password' })).status).toBe(200);
    // A new password signs out the sessions that existed before it.
    expect((await api.post('/token/refresh', { refreshToken: me.refreshToken })).status).toBe(401);
  });

  test('nobody else may change a user, and only an admin may change a role', async () => {
    const alice = await api.signUp();
    const bob = await api.signUp();
    expect((await api.patch(`/users/${alice.user.id}`, { name: 'Hacked' }, bob.accessToken)).status).toBe(403);
    expect((await api.patch(`/users/${alice.user.id}`, { role: 'admin' }, alice.accessToken)).status).toBe(403);
    expect((await api.get('/users/me', alice.accessToken)).body.user).toMatchObject({ role: 'user', name: 'Test User' });
    const admin = await signInAdmin();
    const promoted = await api.patch(`/users/${alice.user.id}`, { role: 'admin' }, admin.accessToken);
    expect(promoted.status).toBe(200);
    expect(promoted.body.user.role).toBe('admin');
  });

  test('refuses an empty change, unknown fields and no token', async () => {
    const me = await api.signUp();
    expect((await api.patch(`/users/${me.user.id}`, {}, me.accessToken)).status).toBe(400);
    expect((await api.patch(`/users/${me.user.id}`, { email: 'new@example.com' }, me.accessToken)).status).toBe(400);
    expect((await api.patch(`/users/${me.user.id}`, { name: 'x'.repeat(101) }, me.accessToken)).status).toBe(400);
    expect((await api.patch(`/users/${me.user.id}`, { name: 'x' })).status).toBe(401);
  });
});

describe('deleting a user', () => {
  test('self-deletion removes the account, its refresh tokens and its available listings', async () => {
    const seller = await api.signUp();
    const listing = await api.createListing(seller.accessToken);
    expect((await api.del(`/users/${seller.user.id}`, seller.accessToken)).status).toBe(204);
    expect((await api.post('/signin', { email: seller.user.email, password: 'correct horse battery' })).status).toBe(401);
    expect((await api.post('/token/refresh', { refreshToken: seller.refreshToken })).status).toBe(401);
    expect((await api.get(`/users/${seller.user.id}`)).status).toBe(404);
    expect(await eventually(async () => (await api.get(`/listings/${listing.id}`)).status === 404, 3000)).toBe(true);
  });

  test('only the user or an admin may delete an account', async () => {
    const alice = await api.signUp();
    const bob = await api.signUp();
    expect((await api.del(`/users/${alice.user.id}`, bob.accessToken)).status).toBe(403);
    expect((await api.del(`/users/${alice.user.id}`)).status).toBe(401);
    const admin = await signInAdmin();
    expect((await api.del(`/users/${alice.user.id}`, admin.accessToken)).status).toBe(204);
    expect((await api.del(`/users/${alice.user.id}`, admin.accessToken)).status).toBe(404);
  });
});

test('the admin account is created from ADMIN_EMAIL / ADMIN_PASSWORD', async () => {
  const admin = await signInAdmin();
  expect(admin.user).toMatchObject({ email: ADMIN.email, role: 'admin' });
});
