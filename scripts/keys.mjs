#!/usr/bin/env node
// `npm run --silent keys >> .env`: a fresh set of keys, as the lines a .env file (or a secret store) takes.
// EC P-256 everywhere, each key one line of base64 DER (PKCS#8 private, SPKI public):
//   JWT_PRIVATE_KEY      users-service alone: signs access tokens (ES256)
//   JWT_PUBLIC_KEYS      everyone: verifies access tokens (comma-separated; old and new during a rotation)
//   <NAME>_SERVICE_KEY   one per process: signs its RPC requests, replies and events (given to it as SERVICE_PRIVATE_KEY)
//   SERVICE_PUBLIC_KEYS  everyone: name=<key>,… to check who sent a message
// Nothing here is a constant: every run makes new keys. `npm start` makes one development set in .keys/.
import { generateKeyPairSync } from 'node:crypto';
import { pathToFileURL } from 'node:url';

/** Bus name → the prefix of its private key's variable. */
export const SERVICE_KEY_VARIABLES = {
  'api-gateway': 'API_GATEWAY_SERVICE_KEY',
  users: 'USERS_SERVICE_KEY',
  listings: 'LISTINGS_SERVICE_KEY',
  orders: 'ORDERS_SERVICE_KEY',
  payments: 'PAYMENTS_SERVICE_KEY',
};

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

/** Every key a stack needs, by variable name. */
export function generateKeys() {
  const jwt = keyPair();
  const services = Object.entries(SERVICE_KEY_VARIABLES).map(([name, variable]) => ({ name, variable, ...keyPair() }));
  return {
    JWT_PRIVATE_KEY: jwt.privateKey,
    JWT_PUBLIC_KEYS: jwt.publicKey,
    SERVICE_PUBLIC_KEYS: services.map((s) => `${s.name}=${s.publicKey}`).join(','),
    ...Object.fromEntries(services.map((s) => [s.variable, s.privateKey])),
  };
}

/** What one process is given: the public keys, its own private key, and the token key for users-service only. */
export function keysFor(service, keys) {
  return {
    JWT_PUBLIC_KEYS: keys.JWT_PUBLIC_KEYS,
    SERVICE_PUBLIC_KEYS: keys.SERVICE_PUBLIC_KEYS,
    SERVICE_PRIVATE_KEY: keys[SERVICE_KEY_VARIABLES[service]],
    ...(service === 'users' ? { JWT_PRIVATE_KEY: keys.JWT_PRIVATE_KEY } : {}),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [name, value] of Object.entries(generateKeys())) console.log(`${name}=${value}`);
}
