import { generateStackKeys, SERVICE_NAMES, type ServiceName } from '@market/common';

/** A fresh set of key settings for one service, for tests that only load a configuration. */
export function keyEnv(service: ServiceName): Record<string, string> {
  const keys = generateStackKeys(SERVICE_NAMES);
  return { ...keys.shared, SERVICE_PRIVATE_KEY: keys.servicePrivateKeys[service] ?? '' };
}
