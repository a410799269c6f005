import type { ListingStatus } from '../api';
import { STATUS_TEXT } from '../listings';

/** "Available", "Reserved" or "Sold"; `live` announces a change (one listing's page, not a whole list). */
export function StatusBadge({ status, testId, live = false }: { status: ListingStatus; testId?: string; live?: boolean }) {
  return (
    <span class={`badge badge-${status}`} data-status={status} data-testid={testId} aria-live={live ? 'polite' : undefined}>
      {STATUS_TEXT[status]}
    </span>
  );
}
