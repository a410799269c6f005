import { ApiError } from '../api';
import { useTick } from '../hooks';

/** How a field the API names (`priceCents`) reads on this page's form (`Price`). */
export type FieldLabels = Record<string, string>;

/**
 * A failed request, in words: a problem's `detail` (and each bad field), or for a 429 how long to wait,
 * counting down. Nothing when there is no error.
 */
export function ErrorAlert({ error, labels = {} }: { error: unknown; labels?: FieldLabels }) {
  if (!error) return null;
  if (error instanceof ApiError && error.status === 429) return <RateLimited error={error} />;
  const detail = error instanceof ApiError ? error.problem.detail : error instanceof Error ? error.message : String(error);
  const fields = error instanceof ApiError ? (error.problem.errors ?? []) : [];
  return (
    <div role="alert" class="alert">
      <p>{detail}</p>
      {fields.length > 0 && (
        <ul>
          {fields.map((f) => (
            <li key={`${f.field}:${f.message}`}>
              {labels[f.field] ?? f.field}: {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function RateLimited({ error }: { error: ApiError }) {
  const waitMs = (error.retryAfterSeconds ?? 5) * 1000;
  const now = useTick(250, Date.now() - error.receivedAt < waitMs);
  const left = Math.ceil((waitMs - (now - error.receivedAt)) / 1000);
  return (
    <div role="alert" class="alert">
      {left > 0 ? (
        <p>
          Too many requests — try again in <span aria-live="off">{left}</span> s
        </p>
      ) : (
        <p>You can try again now.</p>
      )}
    </div>
  );
}

/** What a region shows while its data is on the way (the region itself carries aria-busy). */
export function Loading() {
  return <p class="loading">Loading…</p>;
}
