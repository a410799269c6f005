import type { RpcClient } from '@market/common';
import type { ReadCache } from '../http/read-cache';
import type { UsersClient } from '../http/users-client';

export interface RouteDeps {
  rpc: RpcClient;
  cache: ReadCache;
  users: UsersClient;
  /** Paying spans a provider round trip and an orders call of its own, so it may take longer than one hop. */
  paymentTimeoutMs: number;
}

export const cacheHeader = (hit: boolean): Record<string, string> => ({ 'X-Cache': hit ? 'HIT' : 'MISS' });
export const jsonBody = (body: string): { body: string; contentType: string } => ({ body, contentType: 'application/json; charset=utf-8' });
