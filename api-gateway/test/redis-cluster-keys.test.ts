import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { client } from '../../test/support/http';
import { eventually } from '../../test/support/wait';
import { startStack, type Stack } from '../../test/support/stack';

/**
 * What Redis Cluster requires of the gateway, checked on the commands it really sends (MONITOR):
 * every multi-key command and every transaction touches one hash slot, and a script touches only the
 * keys it declared (the commands a script runs show up in MONITOR as coming from "lua").
 */
interface Seen {
  source: string;
  args: string[];
}

let stack: Stack;
let redis: Redis;
let monitor: Awaited<ReturnType<Redis['monitor']>>;
const seen: Seen[] = [];

beforeAll(async () => {
  stack = await startStack({ services: ['listings', 'orders'] });
  redis = new Redis(process.env.REDIS_URL ?? 'redis://localhost:6379');
  monitor = await redis.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ source, args }));
});
afterAll(async () => {
  monitor.disconnect();
  redis.disconnect();
  await stack.stop();
});

const ours = (key: string | undefined): boolean => key !== undefined && key.startsWith(`${stack.env.BUS_PREFIX}:`);
const slotsOf = (keys: string[]): Set<number> => new Set(keys.map((k) => calculateSlot(k)));

/** The keys a command names, for the commands the gateway and its scripts use. */
function keysOf(args: string[]): string[] {
  const [name = '', ...rest] = args;
  switch (name.toLowerCase()) {
    case 'mget':
    case 'del':
    case 'exists':
      return rest;
    case 'eval':
    case 'evalsha':
      return rest.slice(2, 2 + Number(rest[1]));
    case 'get':
    case 'set':
    case 'incr':
    case 'expire':
    case 'pexpire':
    case 'pttl':
    case 'ttl':
      return rest.slice(0, 1);
    default:
      return [];
  }
}

test('every command, transaction and script of the gateway stays in one hash slot and touches only declared keys', async () => {
  const api = client(stack);
  const seller = await api.signUp();
  const listing = await api.createSettledListing(seller.accessToken);
  // Cached reads (miss, store, hit), a page, a profile, a write that invalidates, a revocation event.
  await api.get(`/listings/${listing.id}`);
  await api.get(`/listings/${listing.id}`, seller.accessToken);
  await api.get('/listings?limit=5');
  await api.get(`/users/${seller.user.id}`, seller.accessToken);
  expect((await api.patch(`/listings/${listing.id}`, { priceCents: 1234 }, seller.accessToken)).status).toBe(200);
  expect((await api.post('/signout/everywhere', {}, seller.accessToken)).status).toBe(204);
  expect(await eventually(async () => (await api.get('/users/me', seller.accessToken)).status === 401, 3000)).toBe(true);
  // MONITOR reports commands in the order Redis ran them: once a command sent now shows up, so has
  // every command the requests above caused. Its key is not ours, so it is not among those checked.
  const marker = `monitor-marker-${stack.env.BUS_PREFIX}`;
  await redis.get(marker);
  expect(await eventually(() => seen.some(({ args }) => args[0]?.toLowerCase() === 'get' && args[1] === marker))).toBe(true);

  const problems: string[] = [];
  let declared: string[] | undefined;
  const transactions = new Map<string, string[] | undefined>();
  let checked = 0;
  for (const { source, args } of seen) {
    const keys = keysOf(args).filter(ours);
    const name = (args[0] ?? '').toLowerCase();
    if (source === 'lua') {
      // A script's own commands: only keys the script declared.
      for (const key of keysOf(args)) if (ours(key) && !declared?.includes(key)) problems.push(`a script touched ${key}, not among its keys ${JSON.stringify(declared)}`);
      continue;
    }
    declared = name === 'eval' || name === 'evalsha' ? keysOf(args) : undefined;
    if (name === 'multi') transactions.set(source, []);
    else if (name === 'exec') {
      const inTx = transactions.get(source) ?? [];
      if (slotsOf(inTx).size > 1) problems.push(`a transaction spans slots: ${inTx.join(', ')}`);
      transactions.delete(source);
    } else if (transactions.has(source)) transactions.get(source)!.push(...keys);
    if (keys.length > 1 && slotsOf(keys).size > 1) problems.push(`${args[0]} spans slots: ${keys.join(', ')}`);
    if (keys.length) checked += 1;
  }
  expect(checked).toBeGreaterThan(10);
  expect(seen.some(({ source }) => source === 'lua')).toBe(true);
  expect(problems).toEqual([]);
});
