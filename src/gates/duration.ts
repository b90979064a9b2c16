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
