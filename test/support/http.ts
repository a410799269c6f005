import type { Stack } from './stack';
import { eventually } from './wait';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface Session {
  user: { id: string; email: string; name: string; role: string };
  accessToken: string;
  refreshToken: string;
}

/** A client of the gateway, as a person's script would be. */
export function client(stack: Stack) {
  async function request<T = any>(method: string, path: string, opts: { token?: string | undefined; body?: unknown; headers?: Record<string, string>; rawBody?: string } = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined || opts.rawBody !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers,
      ...(opts.rawBody !== undefined ? { body: opts.rawBody } : opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
  }
  let counter = 0;
  return {
    request,
    get: <T = any>(path: string, token?: string, headers?: Record<string, string>) => request<T>('GET', path, { token, ...(headers ? { headers } : {}) }),
    post: <T = any>(path: string, body: unknown, token?: string, headers?: Record<string, string>) => request<T>('POST', path, { body, token, ...(headers ? { headers } : {}) }),
    patch: <T = any>(path: string, body: unknown, token?: string) => request<T>('PATCH', path, { body, token }),
    del: <T = any>(path: string, token?: string) => request<T>('DELETE', path, { token }),
    /** Signs up a fresh user and returns its session. */
    async signUp(name = 'Test User'): Promise<Session> {
      counter += 1;
      const res = await request<Session>('POST', '/users', { body: { email: `user${counter}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`, password: 'correct horse battery', name } });
      if (res.status !== 201) throw new Error(`sign up failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async createListing(token: string, body: Record<string, unknown> = {}): Promise<any> {
      const res = await request('POST', '/listings', { token, body: { title: 'Concert ticket', priceCents: 2500, ...body } });
      if (res.status !== 201) throw new Error(`create listing failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.listing;
    },
    /**
     * A new listing, once the gateway has taken in its listing.created event (the live stream holds it):
     * the event's work (its append to the stream) then cannot land between a test's two reads or round-trip counts.
     */
    async createSettledListing(token: string, body: Record<string, unknown> = {}): Promise<any> {
      const listing = await this.createListing(token, body);
      const liveKey = `${stack.env.BUS_PREFIX}:live`;
      const streamed = async (): Promise<boolean> =>
        (await stack.gateway.redis.xrevrange(liveKey, '+', '-', 'COUNT', 1000)).some(([, fields]) => fields.some((field) => field.includes(listing.id)));
      if (!(await eventually(streamed, 5000, 10))) throw new Error('listing.created never reached the gateway');
      return listing;
    },
  };
}
