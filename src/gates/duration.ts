// Durations in gates (`2h`, `30m`, `1d`, `90s`, `1h30m`, `500ms`). The formula engine validates
// them at load time with the same parser; this module adds what gate messages need.
import { parseDuration } from '../formula/duration.js';

/** Milliseconds for a duration such as `2h` or `1h30m`; undefined when it is not one. */
export const durationMs = parseDuration;

// Formatting lives with the clock (src/clock.ts): the engine says a deadline's time left too.
export { dueSummary, formatDuration } from '../clock.js';
