// Loading data and running actions, with the states every page shows the same way.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

export interface Load<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
  /** Changes the loaded data in place (a live update). */
  update(change: (data: T) => T): void;
}

/**
 * Loads with `loader` when `deps` change; a newer load wins over an older one still on its way.
 * A 429 is tried again by itself once its Retry-After has passed (the page shows the countdown).
 */
export function useLoad<T>(loader: () => Promise<T>, deps: unknown[]): Load<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [round, setRound] = useState(0);
  const latest = useRef(0);
  const loaderRef = useRef(loader);
  loaderRef.current = loader;

  useEffect(() => {
    const id = ++latest.current;
    let retry: ReturnType<typeof setTimeout> | undefined;
    setState((s) => ({ ...s, loading: true }));
    loaderRef.current().then(
      (data) => {
        if (id === latest.current) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (id !== latest.current) return;
        setState((s) => ({ ...s, error, loading: false }));
        if (error instanceof ApiError && error.status === 429) {
          retry = setTimeout(() => setRound((r) => r + 1), (error.retryAfterSeconds ?? 5) * 1000);
        }
      },
    );
    return () => clearTimeout(retry);
  }, [...deps, round]);

  const reload = useCallback(() => setRound((r) => r + 1), []);
  const update = useCallback((change: (data: T) => T) => setState((s) => (s.data === undefined ? s : { ...s, data: change(s.data) })), []);
  return { ...state, reload, update };
}

export interface Action {
  busy: boolean;
  error: unknown;
  setError(error: unknown): void;
  /** Runs `task` once at a time, keeping its error for the page to show; undefined when it failed. */
  run<T>(task: () => Promise<T>): Promise<T | undefined>;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const running = useRef(false);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const run = useCallback(async <T,>(task: () => Promise<T>): Promise<T | undefined> => {
    if (running.current) return undefined;
    running.current = true;
    setBusy(true);
    setError(undefined);
    try {
      return await task();
    } catch (err) {
      if (mounted.current) setError(err);
      return undefined;
    } finally {
      running.current = false;
      if (mounted.current) setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}

/** Re-renders every `ms` while `active`, for countdowns. */
export function useTick(ms: number, active = true): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms, active]);
  return now;
}

/** The document's title for this page. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Market` : 'Market';
  }, [title]);
}
