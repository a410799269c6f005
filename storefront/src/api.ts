// The one door to the API: typed shapes from the API's own contract, problems as errors, a 429's
// Retry-After, and the tokens (the access token in memory, the refresh token in localStorage so a
// reload stays signed in, refreshed silently with one refresh at a time across every tab).
import type { contracts, ProblemDocument } from '@market/common';
import type { z } from 'zod';
import { readSharedToken, writeSharedToken } from './shared-token';

export type Listing = contracts.Listing;
export type ListingStatus = Listing['status'];
export type Order = contracts.Order;
export type OrderStatus = Order['status'];
export type Payment = contracts.Payment;
export type Coupon = contracts.Coupon;
export type User = contracts.User;
export type Page<T> = contracts.Page<T>;
export type CurrencyCode = contracts.CurrencyCode;
export type SessionReply = z.infer<typeof contracts.sessionReply>;
export type TokensReply = z.infer<typeof contracts.tokensReply>;
export type PaymentReply = z.infer<typeof contracts.paymentReply>;
export type NewListing = z.input<typeof contracts.createListingBody>;
export type ListingChanges = z.input<typeof contracts.updateListingBody>;
export type NewCoupon = z.input<typeof contracts.createCouponBody>;
export type NewPayment = z.input<typeof contracts.createPaymentBody>;
export type Problem = ProblemDocument;

/** The seller's view of the goods (`GET/PUT /listings/{id}/goods`), as the contract describes it. */
export interface Goods {
  text?: string;
  file?: { name: string; size: number; contentType: string };
}
/** The buyer's view (`GET /orders/{id}/goods`): the file comes with a fresh signed link. */
export interface BoughtGoods {
  text?: string;
  file?: { name: string; size: number; contentType: string; url: string; expiresAt: string };
}
export interface ClientConfig {
  stripe: { publishableKey: string } | null;
}

/** A problem answer (or no answer at all: status 0), with its `detail` for people and `code` for code. */
export class ApiError extends Error {
  /** When the answer came (Date.now()): a Retry-After counts from here. */
  readonly receivedAt = Date.now();

  constructor(
    readonly status: number,
    readonly problem: Problem,
    /** Seconds to wait, from a 429's (or 503's) Retry-After. */
    readonly retryAfterSeconds?: number,
  ) {
    super(problem.detail);
    this.name = 'ApiError';
  }

  get code(): string {
    return this.problem.code;
  }
}

const REFRESH_KEY = 'market.refreshToken';
const USER_KEY = 'market.user';
const REFRESH_LOCK = 'market.token-refresh';
/** Refresh this long before the access token expires, so no request carries a dying one. */
const REFRESH_AHEAD_MS = 60_000;

interface Access {
  token: string;
  expiresAtMs: number;
}

let access: Access | null = null;
let refreshing: Promise<Access | null> | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let serverClockOffsetMs = 0;
const authListeners = new Set<() => void>();

/** What the server's clock says now: a countdown to a server timestamp is right even when this clock is off. */
export function serverNow(): number {
  return Date.now() + serverClockOffsetMs;
}

function readClock(res: Response): void {
  const date = Date.parse(res.headers.get('Date') ?? '');
  if (Number.isNaN(date)) return;
  // The header has whole seconds: only a clearly wrong local clock is corrected.
  const offset = date + 500 - Date.now();
  serverClockOffsetMs = Math.abs(offset) > 2000 ? offset : 0;
}

function retryAfterOf(res: Response): number | undefined {
  const value = res.headers.get('Retry-After');
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : Math.ceil((Date.parse(value) - Date.now()) / 1000);
  return Number.isFinite(seconds) ? Math.max(1, seconds) : undefined;
}

async function problemOf(res: Response): Promise<Problem> {
  const type = res.headers.get('Content-Type') ?? '';
  if (type.includes('json')) {
    const body: unknown = await res.json().catch(() => undefined);
    if (body && typeof body === 'object' && typeof (body as Problem).detail === 'string') return body as Problem;
  }
  return {
    type: 'about:blank',
    title: res.statusText || 'Error',
    status: res.status,
    detail: res.status >= 500 ? 'The market is having trouble right now. Please try again in a moment.' : `The request failed (${res.status}).`,
    code: 'http_error',
  };
}

export interface RequestOptions {
  body?: unknown;
  /** A raw body (a file) sent as is, with these headers. */
  raw?: { body: Blob; headers: Record<string, string> };
  headers?: Record<string, string>;
  /** Send the access token (the default when signed in); public reads go without it. */
  auth?: boolean;
  signal?: AbortSignal;
}

/** One HTTP exchange, without tokens: the answer's JSON, or an ApiError. */
async function send<T>(method: string, path: string, opts: RequestOptions & { token?: string | null } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  let body: BodyInit | undefined;
  if (opts.raw) {
    Object.assign(headers, opts.raw.headers);
    body = opts.raw.body;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, signal: opts.signal, credentials: 'same-origin', cache: 'no-store' });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw new ApiError(0, {
      type: 'about:blank',
      title: 'Network error',
      status: 0,
      detail: 'The market cannot be reached. Check your connection and try again.',
      code: 'network_error',
    });
  }
  readClock(res);
  if (!res.ok) throw new ApiError(res.status, await problemOf(res), retryAfterOf(res));
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

// ---- the session's tokens

interface Claims {
  sub: string;
  role: 'user' | 'admin';
  exp: number;
}

function claimsOf(token: string): Claims | null {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const claims = JSON.parse(json) as Partial<Claims>;
    return typeof claims.sub === 'string' && typeof claims.exp === 'number' ? (claims as Claims) : null;
  } catch {
    return null;
  }
}

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: the session lasts as long as the page
  }
}

let memoryRefreshToken: string | null = null;
let memoryUser: User | null = null;

function storedRefreshToken(): string | null {
  return storage()?.getItem(REFRESH_KEY) ?? memoryRefreshToken;
}

/** The signed-in user (kept beside the refresh token, so a reload knows who is signed in without asking). */
export function currentUser(): User | null {
  if (!storedRefreshToken()) return null;
  const raw = storage()?.getItem(USER_KEY);
  if (!raw) return memoryUser;
  try {
    return JSON.parse(raw) as User;
  } catch {
    return null;
  }
}

function notify(): void {
  for (const listener of authListeners) listener();
}

/** Called whenever who is signed in changes (here or in another tab). */
export function onAuthChange(listener: () => void): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

function keepUser(user: User): void {
  memoryUser = user;
  storage()?.setItem(USER_KEY, JSON.stringify(user));
}

/** Stores a refresh token everywhere; resolves once every tab would read it. */
function keepRefreshToken(refreshToken: string): Promise<void> {
  memoryRefreshToken = refreshToken;
  storage()?.setItem(REFRESH_KEY, refreshToken);
  return writeSharedToken(refreshToken);
}

/** The current refresh token, as the other tabs left it (see shared-token.ts). */
async function currentRefreshToken(): Promise<string | null> {
  const local = storedRefreshToken();
  if (!local) return null; // signed out: localStorage says so at once
  return (await readSharedToken()) ?? local;
}

function adoptAccess(token: string): Access {
  const claims = claimsOf(token);
  const next: Access = { token, expiresAtMs: claims ? claims.exp * 1000 : Date.now() + 60_000 };
  access = next;
  clearTimeout(refreshTimer);
  // Silent refresh shortly before expiry (measured on the server's clock, which signed `exp`).
  const delay = Math.max(5_000, next.expiresAtMs - serverNow() - REFRESH_AHEAD_MS);
  refreshTimer = setTimeout(() => void refreshAccess().catch(() => undefined), delay);
  // The role lives in the token: an admin's promotion (or demotion) shows at the next refresh.
  const user = currentUser();
  if (claims && user && claims.sub === user.id && user.role !== claims.role) {
    keepUser({ ...user, role: claims.role });
    notify();
  }
  return next;
}

/** Starts a session from a sign-in or sign-up answer. */
export async function startSession(reply: SessionReply): Promise<void> {
  keepUser(reply.user);
  await keepRefreshToken(reply.refreshToken);
  adoptAccess(reply.accessToken);
  notify();
}

/** Forgets the session here (and, through the storage event, in every other tab). */
export function endSession(): void {
  access = null;
  clearTimeout(refreshTimer);
  memoryRefreshToken = null;
  memoryUser = null;
  storage()?.removeItem(REFRESH_KEY);
  storage()?.removeItem(USER_KEY);
  void writeSharedToken(null);
  notify();
}

/** The refresh token to sign out with (read last-minute: another tab may have rotated it). */
export function refreshTokenForSignOut(): Promise<string | null> {
  return currentRefreshToken();
}

/** Runs `task` while holding the cross-tab refresh lock (Web Locks), or alone where the browser has none. */
async function withRefreshLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return task();
  return locks.request(REFRESH_LOCK, task);
}

/**
 * Swaps the stored refresh token for new tokens. One refresh at a time in this tab (callers share it)
 * and across tabs (a lock): rotation revokes the whole family when a used refresh token comes back,
 * so two tabs must never present the same one. Inside the lock the token is read again, as the tab
 * that held the lock before may have rotated it, from the store every tab reads alike (shared-token.ts);
 * the new one is stored there before the lock is let go.
 */
function refreshAccess(): Promise<Access | null> {
  refreshing ??= withRefreshLock(async () => {
    const refreshToken = await currentRefreshToken();
    if (!refreshToken) {
      if (access) endSession();
      return null;
    }
    try {
      const reply = await send<TokensReply>('POST', '/token/refresh', { body: { refreshToken } });
      await keepRefreshToken(reply.refreshToken);
      return adoptAccess(reply.accessToken);
    } catch (err) {
      // 401: the refresh token is no longer valid (expired, signed out, revoked). Anything else
      // (429, the network) leaves the session as it is, for the next try.
      if (err instanceof ApiError && err.status === 401) {
        // Unless another tab signed in again meanwhile.
        if ((await currentRefreshToken()) === refreshToken) endSession();
        return null;
      }
      throw err;
    }
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** A usable access token, refreshed first when it is about to expire; null when signed out. */
export async function accessToken(): Promise<string | null> {
  if (!storedRefreshToken()) return null;
  if (access && access.expiresAtMs - serverNow() > 30_000) return access.token;
  return (await refreshAccess())?.token ?? null;
}

// Another tab signed in, signed out, or rotated the refresh token (a rotation needs nothing here:
// this tab's access token stays good, and its next refresh reads the new refresh token).
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (event) => {
    if (event.key !== REFRESH_KEY && event.key !== USER_KEY && event.key !== null) return;
    if (!storedRefreshToken()) {
      if (access || event.oldValue !== null) endSession();
      return;
    }
    if (event.key === USER_KEY || event.key === null || event.oldValue === null) {
      // Somebody signed in there: this tab's access token (if any) may be somebody else's.
      access = null;
      notify();
    }
  });
}

/** An API call: the access token when signed in (refreshed as needed, and once more on a 401). */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const auth = opts.auth ?? true;
  const token = auth ? await accessToken() : null;
  try {
    return await send<T>(method, path, { ...opts, token });
  } catch (err) {
    if (!(token && err instanceof ApiError && err.status === 401)) throw err;
    // Expired early or revoked (a password change, sign-out everywhere): one refresh, one retry.
    if (access?.token === token) access = null;
    const fresh = await accessToken();
    if (!fresh) {
      throw new ApiError(401, { ...err.problem, detail: 'Your session has ended. Please sign in again.' });
    }
    return send<T>(method, path, { ...opts, token: fresh });
  }
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body }),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body }),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, body }),
  del: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
  /** Sign-in and sign-up travel without a token. */
  anonymous: <T>(method: string, path: string, body: unknown) => send<T>(method, path, { body }),
};

let config: Promise<ClientConfig> | null = null;
/** GET /config, once per page load (it changes only with a redeploy). */
export function clientConfig(): Promise<ClientConfig> {
  config ??= api.get<ClientConfig>('/config', { auth: false }).catch((err: unknown) => {
    config = null;
    throw err;
  });
  return config;
}

/** A query string from the defined values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** `/listings/${id}` with every segment encoded. */
export function path(...segments: string[]): string {
  return `/${segments.map(encodeURIComponent).join('/')}`;
}

/** A random id for an Idempotency-Key (crypto.randomUUID needs a secure context; this does not). */
export function randomId(): string {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
