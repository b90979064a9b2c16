// Durations in gates (`2h`, `30m`, `1d`, `90s`, `1h30m`, `500ms`). The formula engine validates
// them at load time with the same parser; this module adds what gate messages need.
import { parseDuration } from '../formula/duration.js';

/** Milliseconds for a duration such as `2h` or `1h30m`; undefined when it is not one. */
export const durationMs = parseDuration;

/** `2h`, `1h30m`, `45s`: the shortest exact spelling of a duration, for messages. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 && parts.length === 0) parts.push(`${rest}ms`);
  return parts.join('');
}

/** What a status line says of a deadline not yet reached: `due <ISO time> (in 3h59m12s)`. */
export function dueSummary(deadline: Date, now: Date): string {
  return `due ${deadline.toISOString()} (in ${formatDuration(deadline.getTime() - now.getTime())})`;
}

const DUE = /\bdue (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) \(in [0-9a-z]+\)/g;

/**
 * `text` with each dueSummary in it said again as of `now`: a status judged earlier and kept
 * while nothing it depends on changed (engine/status-cache.ts) shows the time left now.
 */
export function dueAgain(text: string, now: Date): string {
  return text.replace(DUE, (_, iso: string) => dueSummary(new Date(iso), now));
}
