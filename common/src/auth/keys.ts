import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * Key material is EC P-256 everywhere (ES256 access tokens, service signatures), configured as one
 * line of base64 DER each — PKCS#8 for a private key, SPKI for a public one — so it fits an
 * environment variable, a .env file and a Kubernetes Secret without PEM line breaks.
 */

/** A private key from its base64 PKCS#8 DER; throws with a readable reason. */
export function privateKeyFrom(base64Der: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(base64Der.trim(), 'base64'), format: 'der', type: 'pkcs8' });
  } catch {
    throw new Error('is not a base64 PKCS#8 DER private key (make one with `npm run keys`)');
  }
  assertP256(key);
  return key;
}

/** A public key from its base64 SPKI DER. */
export function publicKeyFrom(base64Der: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(base64Der.trim(), 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new Error('is not a base64 SPKI DER public key (make one with `npm run keys`)');
  }
  assertP256(key);
  return key;
}

function assertP256(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('must be an EC P-256 key');
}

export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

/** RFC 7638 thumbprint: the key id is derived from the key, so no configuration can get it wrong. */
export function keyIdOf(publicKey: KeyObject): string {
  const { crv, kty, x, y } = publicKey.export({ format: 'jwk' });
  return createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
}

export function publicJwkOf(publicKey: KeyObject): PublicJwk {
  const { x, y } = publicKey.export({ format: 'jwk' });
  return { kty: 'EC', crv: 'P-256', x: String(x), y: String(y), kid: keyIdOf(publicKey), alg: 'ES256', use: 'sig' };
}

/** A new key pair as the base64 DER strings the settings take. */
export function generateKeyPairStrings(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

/**
 * A whole stack's keys as settings: the token key pair, and one key pair per service. For tests and
 * `npm run keys`; a deployment makes its keys once and keeps them in its secret store.
 */
export function generateStackKeys(services: readonly string[]): { shared: Record<string, string>; jwtPrivateKey: string; servicePrivateKeys: Record<string, string> } {
  const jwt = generateKeyPairStrings();
  const pairs = services.map((name) => [name, generateKeyPairStrings()] as const);
  return {
    shared: {
      JWT_PUBLIC_KEYS: jwt.publicKey,
      SERVICE_PUBLIC_KEYS: pairs.map(([name, pair]) => `${name}=${pair.publicKey}`).join(','),
    },
    jwtPrivateKey: jwt.privateKey,
    servicePrivateKeys: Object.fromEntries(pairs.map(([name, pair]) => [name, pair.privateKey])),
  };
}
