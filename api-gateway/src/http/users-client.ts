import { currentContext, DependencyDown, problem } from '@market/common';

export interface UpstreamResponse {
  status: number;
  contentType: string;
  body: string;
  retryAfter?: string;
}

/**
 * HTTP to users-service over keep-alive connections (Node's fetch pools them), with a timeout.
 * The caller's Authorization header is forwarded as is: users-service verifies it again itself.
 */
export class UsersClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async send(method: string, path: string, opts: { authorization?: string | undefined; body?: unknown } = {}): Promise<UpstreamResponse> {
    const ctx = currentContext();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.authorization) headers.authorization = opts.authorization;
    if (ctx) headers['x-request-id'] = ctx.requestId;
    if (ctx?.traceparent) headers.traceparent = ctx.traceparent;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw problem('upstream_timeout', 'users', this.timeoutMs);
      throw problem('service_unavailable', 'service', 'users');
    }
    const retryAfter = res.headers.get('retry-after');
    return { status: res.status, contentType: res.headers.get('content-type') ?? 'application/json', body: await res.text(), ...(retryAfter ? { retryAfter } : {}) };
  }

  /** Resolves when users-service answers its /readyz with 200; rejects (saying nothing of where it is) otherwise. */
  async checkReady(timeoutMs = 1000): Promise<void> {
    const res = await fetch(new URL('/readyz', this.baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    if (!res.ok) throw new DependencyDown(`answered ${res.status}`);
  }
}
