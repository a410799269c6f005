import { z } from 'zod';
import { baseSettings, ConfigError, jwtSecretOf, jwtSettings, loadConfig, parseDurationSeconds, requireJwtSecretInProduction, setting } from '../src';

const schema = z.object({ ...baseSettings, ...jwtSettings, PORT: setting.port(8080), TTL: setting.duration('15m') }).superRefine(requireJwtSecretInProduction);

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

test('JWT_SECRET is required in production and must be at least 32 characters', () => {
  expect(() => loadConfig(schema, { NODE_ENV: 'production' })).toThrow(/JWT_SECRET: is required when NODE_ENV=production/);
  expect(() => loadConfig(schema, { JWT_SECRET: 'short' })).toThrow(/JWT_SECRET: must be at least 32 characters/);
  const secret = 'x'.repeat(32);
  expect(jwtSecretOf(loadConfig(schema, { NODE_ENV: 'production', JWT_SECRET: secret }))).toBe(secret);
});

test.each([
  ['900', 900], ['15m', 900], ['12h', 43200], ['7d', 604800], ['0', undefined], ['1w', undefined], ['', undefined],
])('the duration %p is %p seconds', (text, seconds) => {
  expect(parseDurationSeconds(text)).toBe(seconds);
});
