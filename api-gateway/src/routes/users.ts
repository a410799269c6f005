import { contracts, TOKEN_RESPONSE_HEADERS } from '@market/common';
import type { UpstreamResponse } from '../http/users-client';
import { FINAL_VERSION } from '../http/read-cache';
import { cached, cacheHeader, jsonBody, type RouteDeps } from './deps';
import { type AnyRoute, defineRoute, type Reply } from './route';

const passThrough = (up: UpstreamResponse): Reply => ({
  status: up.status,
  ...(up.body ? { raw: { body: up.body, contentType: up.contentType } } : {}),
  ...(up.retryAfter ? { headers: { 'Retry-After': up.retryAfter } } : {}),
});
/** users-service's own headers stay behind: the gateway says again that an answer with tokens is not to be stored. */
const withTokens = (up: UpstreamResponse): Reply => {
  const reply = passThrough(up);
  return { ...reply, headers: { ...reply.headers, ...TOKEN_RESPONSE_HEADERS } };
};

/** A users-service answer that must not be cached (an error), carried out of the cache loader. */
class UncachedAnswer extends Error {
  constructor(readonly response: UpstreamResponse) {
    super('uncached users-service answer');
  }
}

export function userRoutes({ users, cache }: RouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/users', operationId: 'signUp', tag: 'users', access: 'anyone', summary: 'Sign up',
      body: contracts.signupBody,
      success: { status: 201, description: 'The new account and its first session', schema: contracts.sessionReply },
      problems: [409],
      handle: async ({ body }) => withTokens(await users.send('POST', '/users', { body })),
    }),
    defineRoute({
      method: 'post', path: '/signin', operationId: 'signIn', tag: 'users', access: 'anyone', summary: 'Sign in',
      body: contracts.signinBody,
      success: { status: 200, description: 'A new session', schema: contracts.sessionReply },
      // The same 401 for an unknown email and a wrong password (`invalid_credentials`).
      problems: [401],
      handle: async ({ body }) => withTokens(await users.send('POST', '/signin', { body })),
    }),
    defineRoute({
      method: 'post', path: '/token/refresh', operationId: 'refreshToken', tag: 'users', access: 'anyone', summary: 'Rotate a refresh token',
      body: contracts.refreshBody,
      success: { status: 200, description: 'New tokens; the presented refresh token stops working', schema: contracts.tokensReply },
      // Unknown, expired, revoked or already rotated (`invalid_refresh_token`).
      problems: [401],
      handle: async ({ body }) => withTokens(await users.send('POST', '/token/refresh', { body })),
    }),
    defineRoute({
      method: 'post', path: '/signout', operationId: 'signOut', tag: 'users', access: 'signed-in', summary: 'Sign out (revoke a refresh token)',
      body: contracts.refreshBody,
      success: { status: 204, description: 'Signed out' },
      problems: [],
      handle: async ({ body, req }) => passThrough(await users.send('POST', '/signout', { body, authorization: req.get('authorization') })),
    }),
    defineRoute({
      method: 'post', path: '/signout/everywhere', operationId: 'signOutEverywhere', tag: 'users', access: 'signed-in', summary: 'Sign out everywhere (every refresh token, and every access token within a second)',
      success: { status: 204, description: 'Every session of the caller has ended' },
      problems: [],
      handle: async ({ req }) => passThrough(await users.send('POST', '/signout/everywhere', { authorization: req.get('authorization') })),
    }),
    defineRoute({
      method: 'post', path: '/users/:id/password', operationId: 'resetPassword', tag: 'users', access: 'admin', summary: "Reset someone else's password (admin)",
      params: contracts.idParams,
      body: contracts.resetPasswordBody,
      success: { status: 204, description: 'The password is reset and every session of that account has ended' },
      problems: [403, 404],
      handle: async ({ params, body, req }) => passThrough(await users.send('POST', `/users/${params.id}/password`, { body, authorization: req.get('authorization') })),
    }),
    defineRoute({
      method: 'get', path: '/users', operationId: 'listUsers', tag: 'users', access: 'anyone', summary: 'List public profiles',
      query: contracts.usersQuery,
      success: { status: 200, description: 'A page of public profiles', schema: contracts.publicUserPage },
      problems: [],
      handle: async ({ query }) => passThrough(await users.send('GET', `/users?limit=${query.limit}&offset=${query.offset}`)),
    }),
    defineRoute({
      method: 'get', path: '/users/me', operationId: 'getCurrentUser', tag: 'users', access: 'signed-in', summary: 'The signed-in user',
      success: { status: 200, description: 'The caller, with email and role', schema: contracts.userReply },
      problems: [404],
      handle: async ({ req }) => passThrough(await users.send('GET', '/users/me', { authorization: req.get('authorization') })),
    }),
    defineRoute({
      method: 'get', path: '/users/:id', operationId: 'getUser', tag: 'users', access: 'anyone', summary: 'A user (email only for themself or an admin)',
      params: contracts.idParams,
      cacheKey: ({ params, actor }) => ({ resource: cached.user(params.id), variant: actor && (actor.id === params.id || actor.role === 'admin') ? 'full' : 'public' }),
      success: { status: 200, description: 'The user', schema: contracts.userReply },
      problems: [404],
      handle: async ({ params, req, cached: entry }) => {
        try {
          const { body, hit } = await cache.read(entry!.key, async () => {
            const up = await users.send('GET', `/users/${params.id}`, { authorization: req.get('authorization') });
            if (up.status !== 200) throw new UncachedAnswer(up);
            return JSON.parse(up.body) as unknown;
          }, entry!.found);
          return { status: 200, raw: jsonBody(body), headers: cacheHeader(hit) };
        } catch (err) {
          if (err instanceof UncachedAnswer) return { ...passThrough(err.response), headers: cacheHeader(false) };
          throw err;
        }
      },
    }),
    defineRoute({
      method: 'patch', path: '/users/:id', operationId: 'updateUser', tag: 'users', access: 'signed-in', summary: 'Change a user (self or admin; your own password needs currentPassword; role by admin only; never the last admin)',
      params: contracts.idParams,
      body: contracts.updateUserBody,
      success: { status: 200, description: 'The changed user', schema: contracts.userReply },
      problems: [403, 404, 409],
      handle: async ({ params, body, req }) => {
        const up = await users.send('PATCH', `/users/${params.id}`, { body, authorization: req.get('authorization') });
        if (up.status < 300) await cache.invalidate(cached.user(params.id));
        return passThrough(up);
      },
    }),
    defineRoute({
      method: 'delete', path: '/users/:id', operationId: 'deleteUser', tag: 'users', access: 'signed-in', summary: 'Delete a user (self or admin)',
      params: contracts.idParams,
      success: { status: 204, description: 'Deleted; the account, its refresh tokens and its available listings are gone' },
      problems: [403, 404, 409],
      handle: async ({ params, req }) => {
        const up = await users.send('DELETE', `/users/${params.id}`, { authorization: req.get('authorization') });
        if (up.status < 300) await cache.forget(cached.user(params.id), FINAL_VERSION);
        return passThrough(up);
      },
    }),
  ];
}

