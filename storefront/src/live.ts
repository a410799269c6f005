// Live listing changes from the gateway's Server-Sent Events (`GET /events`): one EventSource for the
// page, shared by every component that listens. The browser reconnects by itself after a dropped
// connection and resumes with Last-Event-ID; `event: reset` (or a connection the server refused and
// we had to open anew, losing our place) tells the pages to load their data again.
import type { Listing } from './api';
import { rememberListing } from './listings';

export type ListingChangeType = 'created' | 'changed' | 'reserved' | 'released' | 'sold' | 'deleted';
export interface ListingChange {
  type: ListingChangeType;
  listing: Listing;
}

const TYPES = new Set<string>(['created', 'changed', 'reserved', 'released', 'sold', 'deleted']);
const changeListeners = new Set<(change: ListingChange) => void>();
const resetListeners = new Set<() => void>();
let source: EventSource | null = null;
let retryMs = 2_000;
let lostPlace = false;

function isChange(value: unknown): value is ListingChange {
  if (!value || typeof value !== 'object') return false;
  const { type, listing } = value as { type?: unknown; listing?: { id?: unknown; status?: unknown } };
  return typeof type === 'string' && TYPES.has(type) && typeof listing?.id === 'string' && typeof listing.status === 'string';
}

function emitReset(): void {
  for (const listener of resetListeners) listener();
}

function connect(): void {
  if (typeof EventSource === 'undefined') return;
  const events = new EventSource('/events');
  source = events;
  events.addEventListener('open', () => {
    retryMs = 2_000;
    if (lostPlace) {
      lostPlace = false;
      emitReset();
    }
  });
  events.addEventListener('listing', (event: MessageEvent<string>) => {
    let change: unknown;
    try {
      change = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!isChange(change)) return;
    if (change.type !== 'deleted') rememberListing(change.listing);
    for (const listener of changeListeners) listener(change);
  });
  events.addEventListener('reset', emitReset);
  events.addEventListener('error', () => {
    // CONNECTING: the browser retries by itself. CLOSED: the server refused the stream (a 429 over the
    // connection cap, a 503): the browser gives up, so we try again later with a new EventSource, which
    // cannot resume where the old one was, hence the reset once it opens.
    if (events.readyState !== EventSource.CLOSED) return;
    events.close();
    source = null;
    lostPlace = true;
    setTimeout(() => {
      if (!source && (changeListeners.size > 0 || resetListeners.size > 0)) connect();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, 60_000);
  });
}

/** Calls `listener` with every listing change; returns the unsubscribe. */
export function onListingChange(listener: (change: ListingChange) => void): () => void {
  changeListeners.add(listener);
  if (!source) connect();
  return () => changeListeners.delete(listener);
}

/** Calls `listener` when changes may have been missed and the data should be loaded again. */
export function onLiveReset(listener: () => void): () => void {
  resetListeners.add(listener);
  if (!source) connect();
  return () => resetListeners.delete(listener);
}

/** Applies a change to a list of listings: the newer version replaces, a deletion removes. */
export function applyChange(listings: Listing[], change: ListingChange): Listing[] {
  const index = listings.findIndex((l) => l.id === change.listing.id);
  if (index === -1) return listings;
  if (change.type === 'deleted') return listings.filter((l) => l.id !== change.listing.id);
  const current = listings[index]!;
  if (change.listing.version < current.version) return listings;
  const next = listings.slice();
  next[index] = change.listing;
  return next;
}
