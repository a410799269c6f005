import { z } from 'zod';
import { createTokenVerifier, generateStackKeys, keySettings, loadConfig, SERVICE_NAMES, serviceIdentityOf, type ServiceIdentity, type ServiceName, type TokenVerifier } from '../src';

/** A stack's worth of keys for tests that build RPC clients, servers and event consumers by hand. */
export function testIdentities(): { identity(name: ServiceName): ServiceIdentity; tokens: TokenVerifier } {
  const keys = generateStackKeys(SERVICE_NAMES);
  return {
    identity: (name) => serviceIdentityOf(name, loadConfig(z.object(keySettings), { ...keys.shared, SERVICE_PRIVATE_KEY: keys.servicePrivateKeys[name] })),
    tokens: createTokenVerifier(loadConfig(z.object(keySettings), { ...keys.shared, SERVICE_PRIVATE_KEY: keys.servicePrivateKeys.users }).JWT_PUBLIC_KEYS),
  };
}
