import { z } from 'zod';
import { baseSettings, ConfigError, generateStackKeys, keySettings, loadConfig, parseDurationSeconds, SERVICE_NAMES, setting } from '../src';

const schema = z.object({ ...baseSettings, PORT: setting.port(8080), TTL: setting.duration('15m') });
const withKeys = z.object({ ...baseSettings, ...keySettings, DATABASE_URL: z.string().optional() });
const keys = generateStackKeys(SERVICE_NAMES);
const keyEnv = { ...keys.shared, SERVICE_PRIVATE_KEY: keys.servicePrivateKeys.orders };

test('defaults apply when nothing is set and the result is frozen', () => {
  const config = loadConfig(schema, {});
  expect(config).toMatchObject({ PORT: 8080, TTL: 900, RPC_TIMEOUT_MS: 5000, BUS_PREFIX: 'market', RABBITMQ_URL: 'amqp://guest:guest@localhost:5672' });
  expect(Object.isFrozen(config)).toBe(true);
});

test('a bad setting stops start-up with a message naming it', () => {
  expect(() => loadConfig(schema, { PORT: 'eighty' })).toThrow(ConfigError);
  expect(() => loadConfig(schema, { PORT: 'eighty' })).toThrow(/PORT/);
  expect(() => loadConfig(schema, { RABBITMQ_URL: 'http://nope' })).toThrow(/RABBITMQ_URL: must be a amqp: or amqps: URL/);
  expect(() => loadConfig(schema, { TTL: 'soon' })).toThrow(/TTL/);
  expect(() => loadConfig(schema, { RPC_TIMEOUT_MS: '5' })).toThrow(/RPC_TIMEOUT_MS/);
});

test('keys have no default: a process without them refuses to start, naming each one', () => {
  const refusal = (() => {
    try {
      loadConfig(withKeys, {});
    } catch (err) {
      return String(err);
    }
    return 'started';
  })();
  expect(refusal).toMatch(/JWT_PUBLIC_KEYS: is required/);
  expect(refusal).toMatch(/SERVICE_PRIVATE_KEY: is required/);
  expect(refusal).toMatch(/SERVICE_PUBLIC_KEYS: is required/);
});

test('a key that is not an EC P-256 key in base64 DER is refused with the reason', () => {
  expect(() => loadConfig(withKeys, { ...keyEnv, SERVICE_PRIVATE_KEY: 'bm90IGEga2V5' })).toThrow(/SERVICE_PRIVATE_KEY: is not a base64 PKCS#8 DER private key/);
  expect(() => loadConfig(withKeys, { ...keyEnv, JWT_PUBLIC_KEYS: 'bm90IGEga2V5' })).toThrow(/JWT_PUBLIC_KEYS: is not a base64 SPKI DER public key/);
  const withoutUsers = keys.shared.SERVICE_PUBLIC_KEYS!.split(',').filter((e) => !e.startsWith('users=')).join(',');
  expect(() => loadConfig(withKeys, { ...keyEnv, SERVICE_PUBLIC_KEYS: withoutUsers })).toThrow(/SERVICE_PUBLIC_KEYS: has no key for users/);
  expect(loadConfig(withKeys, keyEnv).SERVICE_PUBLIC_KEYS.get('orders')).toHaveLength(1);
});

test('production refuses the .env.example placeholders, naming the setting; development does not care', () => {
  const env = { ...keyEnv, DATABASE_URL: 'mysql://market:change-me-please@db' };
  expect(() => loadConfig(withKeys, { ...env, NODE_ENV: 'production' })).toThrow(/DATABASE_URL: still holds the .env.example placeholder/);
  expect(() => loadConfig(withKeys, { ...env, NODE_ENV: 'development' })).not.toThrow();
});

test('every listener binds to loopback unless HOST says otherwise', () => {
  expect(loadConfig(schema, {}).HOST).toBe('127.0.0.1');
  expect(loadConfig(schema, { HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
  expect(() => loadConfig(schema, { HOST: 'a b' })).toThrow(/HOST/);
});

test.each([
  ['900', 900], ['15m', 900], ['12h', 43200], ['7d', 604800], ['0', undefined], ['1w', undefined], ['', undefined],
])('the duration %p is %p seconds', (text, seconds) => {
  expect(parseDurationSeconds(text)).toBe(seconds);
});
