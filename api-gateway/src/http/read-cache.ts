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

/** An entry: the resource it depends on (`listing:<id>`, `listings`, `user:<id>`) and which of its variants (a query, a viewer class). */
export interface CacheKey {
  resource: string;
  variant: string;
}

/** A lookup's answer: the resource's generation, and the entry stored under it (null: a miss). */
export type CacheLookup = [generation: string, body: string | null];

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
  cacheLookup(genKey: string, entryKey: string): Promise<CacheLookup>;
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
   * The lookup alone, for the request's one round trip (edge-round.ts): its answer, passed to `read`
   * as `found`, spares the read a round trip of its own. undefined when Redis did not answer.
   */
  lookup(key: CacheKey): Promise<CacheLookup | undefined> {
    return this.redis.cacheLookup(this.genKey(key.resource), this.entryBase(key)).catch(() => undefined);
  }

  /** The entry for `key`, or `load()`'s answer (stored for the next read). `found`: a lookup already made. */
  async read(key: CacheKey, load: () => Promise<unknown>, found?: CacheLookup): Promise<CachedResult> {
    const { resource } = key;
    const kind = resource.split(':')[0] ?? resource;
    if (!this.enabled) return { body: JSON.stringify(await load()), hit: false };
    const genKey = this.genKey(resource);
    const entryBase = this.entryBase(key);
    found ??= await this.redis.cacheLookup(genKey, entryBase).catch(() => undefined);
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

  private entryBase({ resource, variant }: CacheKey): string {
    return `${this.prefix}:cache:${resource}:${variant}`;
  }

  private genKey(resource: string): string {
    return `${this.prefix}:cache-gen:${resource}`;
  }
}
