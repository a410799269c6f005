import { z } from 'zod';
import type { RouteDeps } from './deps';
import { type AnyRoute, defineRoute } from './route';

const jwk = z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string(), kid: z.string(), alg: z.literal('ES256'), use: z.literal('sig') });
const jsonWebKeySet = z.object({ keys: z.array(jwk) }).meta({ id: 'JsonWebKeySet' });

export function keyRoutes({ jwks }: RouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get', path: '/.well-known/jwks.json', operationId: 'getJwks', tag: 'users', access: 'anyone', summary: 'The public keys that verify access tokens (JWKS)',
      success: { status: 200, description: 'Every key that may have signed a live access token (several during a rotation); never a private part', schema: jsonWebKeySet },
      problems: [],
      handle: async () => ({ status: 200, json: jwks, headers: { 'Cache-Control': 'public, max-age=300' } }),
    }),
  ];
}
