import { cacheLookups, type Redis } from '@market/common';

/**
 * Read-through cache for GET responses, with per-resource generations so that a value read from a
 * service before an invalidation can never be stored after it:
 *   - every entry key embeds the generation of the resource it depends on (`…:g7`);
 *   - invalidating a resource increments its generation (old entries become unreachable);
 *   - a miss remembers the generation it started under and stores its value only if it is unchanged.
 * Concurrent misses for one key in this process share one backend call.
 */
export interface CachedResult {
  body: string;
  hit: boolean;
}

const LOOKUP = `
local gen = redis.call('GET', KEYS[1]) or '0'
return {gen, redis.call('GET', ARGV[1] .. ':g' .. gen)}
`;
const STORE_IF_CURRENT = `
if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
`;

type ScriptedRedis = Redis & {
  cacheLookup(genKey: string, entryKey: string): Promise<[string, string | null]>;
  cacheStoreIfCurrent(genKey: string, entryKey: string, gen: string, value: string, ttl: number): Promise<number>;
};

export class ReadCache {
  private readonly redis: ScriptedRedis;
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {
    redis.defineCommand('cacheLookup', { numberOfKeys: 1, lua: LOOKUP });
    redis.defineCommand('cacheStoreIfCurrent', { numberOfKeys: 2, lua: STORE_IF_CURRENT });
    this.redis = redis as ScriptedRedis;
  }

  get enabled(): boolean {
    return this.ttlSeconds > 0;
  }

  /**
   * `resource` names what the entry depends on (`listing:<id>`, `listings`, `user:<id>`); `variant`
   * distinguishes entries of one resource (a query string, a viewer class).
   */
  async read(resource: string, variant: string, load: () => Promise<unknown>): Promise<CachedResult> {
    const kind = resource.split(':')[0] ?? resource;
    if (!this.enabled) return { body: JSON.stringify(await load()), hit: false };
    const genKey = this.genKey(resource);
    const entryBase = `${this.prefix}:cache:${resource}:${variant}`;
    const found = await this.redis.cacheLookup(genKey, entryBase).catch(() => undefined);
    if (found?.[1] != null) {
      cacheLookups.inc({ resource: kind, result: 'hit' });
      return { body: found[1], hit: true };
    }
    cacheLookups.inc({ resource: kind, result: found ? 'miss' : 'error' });
    const gen = found?.[0];
    const coalesceKey = `${entryBase}:g${gen ?? '?'}`;
    let pending = this.inFlight.get(coalesceKey);
    if (!pending) {
      const loaded = load().then((value) => JSON.stringify(value));
      pending = loaded;
      this.inFlight.set(coalesceKey, loaded);
      // The entry stays in flight until the value is stored, so no request can miss in between.
      void loaded
        .then((body) => (gen === undefined ? undefined : this.redis.cacheStoreIfCurrent(genKey, `${entryBase}:g${gen}`, gen, body, this.ttlSeconds)))
        .catch(() => undefined)
        .finally(() => this.inFlight.delete(coalesceKey));
    }
    return { body: await pending, hit: false };
  }

  /** Makes every entry of these resources unreachable. Best effort: with Redis down there is nothing to serve stale. */
  async invalidate(...resources: string[]): Promise<void> {
    if (!this.enabled || !resources.length) return;
    const multi = this.redis.multi();
    // Generations outlive the entries that embed them, so an expired generation never revives an old entry.
    for (const r of resources) multi.incr(this.genKey(r)).expire(this.genKey(r), Math.max(this.ttlSeconds * 2, 60));
    await multi.exec().catch(() => undefined);
  }

  private genKey(resource: string): string {
    return `${this.prefix}:cache-gen:${resource}`;
  }
}
