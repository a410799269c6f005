// The refresh token as every tab sees it at the same moment. localStorage keeps it too (a reload stays
// signed in, and its `storage` event tells other tabs about sign-in and sign-out), but a tab's
// localStorage is a copy that other tabs' writes reach a few milliseconds late: read inside the
// refresh lock right after another tab rotated the token, it can still hold the old one, and
// presenting a rotated token revokes the whole session (seen with two tabs refreshing together).
// IndexedDB has no such copy: a transaction begun after another tab's write committed reads it.
const DB_NAME = 'market';
const STORE = 'session';
const KEY = 'refreshToken';

let opening: Promise<IDBDatabase | null> | null = null;

function database(): Promise<IDBDatabase | null> {
  opening ??= new Promise((resolve) => {
    try {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
      request.onblocked = () => resolve(null);
    } catch {
      resolve(null); // no IndexedDB (some private modes): localStorage alone
    }
  });
  return opening;
}

/** The shared refresh token: a string, null when there is none, undefined when IndexedDB is unavailable. */
export async function readSharedToken(): Promise<string | null | undefined> {
  const db = await database();
  if (!db) return undefined;
  return new Promise((resolve) => {
    try {
      const request = db.transaction(STORE, 'readonly').objectStore(STORE).get(KEY);
      request.onsuccess = () => resolve(typeof request.result === 'string' ? request.result : null);
      request.onerror = () => resolve(undefined);
    } catch {
      resolve(undefined);
    }
  });
}

/** Stores (or with null, forgets) the shared refresh token; resolves once the write is committed. */
export async function writeSharedToken(token: string | null): Promise<void> {
  const db = await database();
  if (!db) return;
  await new Promise<void>((resolve) => {
    try {
      const tx = db.transaction(STORE, 'readwrite');
      if (token === null) tx.objectStore(STORE).delete(KEY);
      else tx.objectStore(STORE).put(token, KEY);
      tx.oncomplete = () => resolve();
      tx.onerror = () => resolve();
      tx.onabort = () => resolve();
    } catch {
      resolve();
    }
  });
}
