import { cacheLookups, type Redis } from '@market/common';

/**
 * Read-through cache for GET responses, with per-resource generations so that a value read from a
 * service before an invalidation can never be stored after it:
 *   - every entry is stored with the generation of the resource it depends on (`7\n<body>`);
 *   - invalidating a resource increments its generation (older entries no longer count);
 *   - a miss remembers the generation it started under and stores its value only if it is unchanged.
 * Concurrent misses for one key in this process share one backend call.
 *
 * Valid on Redis Cluster: a resource's generation and its entries share a hash tag (`{listing:<id>}`),
 * so a lookup is one MGET and a store one script, each on declared keys of one slot.
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

/** A lookup's answer: the resource's current generation, and the entry if it was stored under it (null: a miss). */
export type CacheLookup = [generation: string, body: string | null];

const STORE_IF_CURRENT = `
if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[1] .. '\\n' .. ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
`;

// Moves the generation only for a version of the resource not forgotten yet; answers whether it did.
const FORGET_VERSION = `
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
`;

type ScriptedRedis = Redis & {
  cacheStoreIfCurrent(genKey: string, entryKey: string, gen: string, value: string, ttl: number): Promise<number>;
  cacheForgetVersion(genKey: string, forgottenKey: string, version: number, ttl: number): Promise<number>;
};

/** The version of a resource that is gone for good (a deleted listing or user): every other version is older. */
export const FINAL_VERSION = Number.MAX_SAFE_INTEGER;

/** How long a stored load still answers the misses of its generation that were looked up before it landed. */
const RECENTLY_LOADED_MS = 1000;

export class ReadCache {
  private readonly redis: ScriptedRedis;
  /** Loads under way, and loads just stored (RECENTLY_LOADED_MS), by entry key and generation. */
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {
    redis.defineCommand('cacheStoreIfCurrent', { numberOfKeys: 2, lua: STORE_IF_CURRENT });
    redis.defineCommand('cacheForgetVersion', { numberOfKeys: 2, lua: FORGET_VERSION });
    this.redis = redis as ScriptedRedis;
  }

  get enabled(): boolean {
    return this.ttlSeconds > 0;
  }

  /**
   * The lookup alone, for the request's one round trip (edge-round.ts): its answer, passed to `read`
   * as `found`, spares the read a round trip of its own. undefined when Redis did not answer.
   */
  async lookup(key: CacheKey): Promise<CacheLookup | undefined> {
    try {
      const [gen, entry] = await this.redis.mget(this.genKey(key.resource), this.entryKey(key));
      const current = gen ?? '0';
      const stored = entry ? entry.indexOf('\n') : -1;
      return [current, entry && stored > 0 && entry.slice(0, stored) === current ? entry.slice(stored + 1) : null];
    } catch {
      return undefined;
    }
  }

  /** The entry for `key`, or `load()`'s answer (stored for the next read). `found`: a lookup already made. */
  async read(key: CacheKey, load: () => Promise<unknown>, found?: CacheLookup): Promise<CachedResult> {
    const { resource } = key;
    const kind = resource.split(':')[0] ?? resource;
    if (!this.enabled) return { body: JSON.stringify(await load()), hit: false };
    found ??= await this.lookup(key);
    if (found?.[1] != null) {
      cacheLookups.inc({ resource: kind, result: 'hit' });
      return { body: found[1], hit: true };
    }
    cacheLookups.inc({ resource: kind, result: found ? 'miss' : 'error' });
    const gen = found?.[0];
    const entryKey = this.entryKey(key);
    const coalesceKey = `${entryKey}:g${gen ?? '?'}`;
    let pending = this.inFlight.get(coalesceKey);
    if (!pending) {
      const loaded = load().then((value) => JSON.stringify(value));
      pending = loaded;
      this.inFlight.set(coalesceKey, loaded);
      // The entry stays in flight until the value is stored, so no request can miss in between, and
      // a moment longer: a request whose lookup (made in its rate-limit round trip) missed before the
      // store may reach this point only after it. The body is the one of generation `gen`, the same
      // the cache would have given it. A failed load is forgotten at once.
      void loaded
        .then((body) => (gen === undefined ? undefined : this.redis.cacheStoreIfCurrent(this.genKey(resource), entryKey, gen, body, this.ttlSeconds)))
        .then(
          // Without a generation (Redis did not answer) nothing tells a later write apart: not kept.
          () => (gen === undefined ? this.inFlight.delete(coalesceKey) : setTimeout(() => this.inFlight.delete(coalesceKey), RECENTLY_LOADED_MS).unref()),
          () => this.inFlight.delete(coalesceKey),
        );
    }
    return { body: await pending, hit: false };
  }

  /** Makes every entry of these resources stale. Best effort: with Redis down there is nothing to serve stale. */
  async invalidate(...resources: string[]): Promise<void> {
    if (!this.enabled || !resources.length) return;
    // One transaction per resource (its keys share a slot); generations outlive the entries that
    // carry them, so an expired generation never makes an old entry current again.
    await Promise.all(
      resources.map((r) =>
        this.redis
          .multi()
          .incr(this.genKey(r))
          .expire(this.genKey(r), this.generationTtl())
          .exec()
          .catch(() => undefined),
      ),
    );
  }

  /**
   * Makes the entries of `resource` stale once per `version` of it. A change made through a route is
   * forgotten twice over otherwise: by the route as soon as the service answers (the caller's next read
   * must show it) and by the change's event a moment later. Whichever comes second finds its version
   * forgotten and leaves the cache alone, rather than turning the next read into a miss for nothing;
   * an older version arriving late (an event redelivered, a slow route) is left alone too. Without a
   * version (a route whose answer does not carry one) it is always forgotten. Answers whether it was.
   */
  async forget(resource: string, version?: number): Promise<boolean> {
    if (!this.enabled) return false;
    if (version === undefined) {
      await this.invalidate(resource);
      return true;
    }
    try {
      return (await this.redis.cacheForgetVersion(this.genKey(resource), this.forgottenKey(resource), version, this.generationTtl())) === 1;
    } catch {
      // Best effort, as `invalidate`: whether it was forgotten is unknown, so what depends on it is forgotten too.
      return true;
    }
  }

  private generationTtl(): number {
    return Math.max(this.ttlSeconds * 2, 60);
  }

  /** The newest version of `resource` forgotten: `<prefix>:cache:{listing:<id>}:forgotten`. */
  private forgottenKey(resource: string): string {
    return `${this.prefix}:cache:{${resource}}:forgotten`;
  }

  /** The generation of `resource`: `<prefix>:cache:{listing:<id>}:gen`. */
  genKey(resource: string): string {
    return `${this.prefix}:cache:{${resource}}:gen`;
  }

  private entryKey({ resource, variant }: CacheKey): string {
    return `${this.prefix}:cache:{${resource}}:${variant}`;
  }
}
