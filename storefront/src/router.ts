// Hash routing (`/#/listings/…`): page paths never collide with the API's paths on the same origin.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'browse' }
  | { page: 'listing'; id: string }
  | { page: 'edit-listing'; id: string }
  | { page: 'checkout'; orderId: string }
  | { page: 'orders' }
  | { page: 'order'; id: string }
  | { page: 'signin' }
  | { page: 'signup' }
  | { page: 'sell' }
  | { page: 'coupons' }
  | { page: 'not-found' };

export interface Location {
  /** The path after `#`, e.g. `/listings/…` (always starts with `/`). */
  path: string;
  query: URLSearchParams;
  route: Route;
}

const UUID = '([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})';
const ROUTES: [RegExp, (id: string) => Route][] = [
  [/^\/$/, () => ({ page: 'browse' })],
  [new RegExp(`^/listings/${UUID}$`), (id) => ({ page: 'listing', id })],
  [new RegExp(`^/listings/${UUID}/edit$`), (id) => ({ page: 'edit-listing', id })],
  [new RegExp(`^/checkout/${UUID}$`), (orderId) => ({ page: 'checkout', orderId })],
  [/^\/orders$/, () => ({ page: 'orders' })],
  [new RegExp(`^/orders/${UUID}$`), (id) => ({ page: 'order', id })],
  [/^\/signin$/, () => ({ page: 'signin' })],
  [/^\/signup$/, () => ({ page: 'signup' })],
  [/^\/sell$/, () => ({ page: 'sell' })],
  [/^\/admin\/coupons$/, () => ({ page: 'coupons' })],
];

export function parseLocation(hash: string): Location {
  const raw = hash.replace(/^#/, '');
  const [pathPart = '', search = ''] = raw.split('?', 2);
  const path = pathPart.startsWith('/') ? pathPart : `/${pathPart}`;
  for (const [pattern, make] of ROUTES) {
    const match = pattern.exec(path);
    if (match) return { path, query: new URLSearchParams(search), route: make((match[1] ?? '').toLowerCase()) };
  }
  return { path, query: new URLSearchParams(search), route: { page: 'not-found' } };
}

/** The current location, re-rendered on every hash change. */
export function useLocation(): Location {
  const [location, setLocation] = useState(() => parseLocation(window.location.hash));
  useEffect(() => {
    const update = () => setLocation(parseLocation(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return location;
}

/** An href for a page path: `#/listings/…`. */
export const href = (path: string): string => `#${path}`;

/** Goes to a page; `replace` leaves no history entry (a redirect, not a step the Back button should revisit). */
export function navigate(path: string, { replace = false } = {}): void {
  const target = href(path);
  if (window.location.hash === target) return;
  if (replace) {
    history.replaceState(history.state, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = target;
  }
}

/** A page path to come back to after signing in: only one of ours, never another site. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

/** The sign-in page, coming back to `path` afterwards. */
export const signInPath = (path: string): string => `/signin?next=${encodeURIComponent(path)}`;
