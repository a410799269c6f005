import { setTimeout as pause } from 'node:timers/promises';

/**
 * Polls until `check` holds or `timeoutMs` passes; returns whether it did. Every wait for something
 * another process does (an event arriving, a sweep finishing, a cache moving) goes through here, so
 * a test never looks too early on a slow machine and never sleeps longer than it must on a fast one.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await pause(everyMs);
  }
  return check();
}

/**
 * Waits for a moment on the clock (an ISO time or epoch milliseconds) plus `plusMs`: for tests whose
 * condition is time itself, such as a hold's, a coupon's or a download link's expiry.
 */
export async function until(moment: string | number, plusMs = 0): Promise<void> {
  const ms = (typeof moment === 'string' ? Date.parse(moment) : moment) + plusMs - Date.now();
  if (ms > 0) await pause(ms);
}

/** Work that takes time on purpose: a slow handler, provider or migration whose slowness is what is tested. */
export const busyFor = (ms: number): Promise<void> => pause(ms);
