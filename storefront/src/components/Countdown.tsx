import { useEffect } from 'preact/hooks';
import { serverNow } from '../api';
import { useTick } from '../hooks';

export const secondsLeft = (expiresAt: string): number => Math.max(0, Math.ceil((Date.parse(expiresAt) - serverNow()) / 1000));

/** `m:ss` to `expiresAt` (on the server's clock), every second; then (or once `ended`) "Your hold has ended". */
export function Countdown({ expiresAt, ended = false, onEnd }: { expiresAt: string; ended?: boolean; onEnd?: () => void }) {
  const running = !ended && secondsLeft(expiresAt) > 0;
  useTick(250, running);
  const left = ended ? 0 : secondsLeft(expiresAt);
  useEffect(() => {
    if (left === 0) onEnd?.();
  }, [left === 0]);
  const text = left > 0 ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}` : 'Your hold has ended';
  return (
    <p class={`countdown${left > 0 && left <= 60 ? ' countdown-urgent' : ''}${left === 0 ? ' countdown-ended' : ''}`}>
      <span class="countdown-caption" aria-hidden="true">
        Time left to pay
      </span>
      <span role="timer" aria-label="Time left to pay" aria-live={left === 0 ? 'polite' : 'off'}>
        {text}
      </span>
    </p>
  );
}
