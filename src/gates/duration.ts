// Durations in gates (`2h`, `30m`, `1d`, `90s`, `1h30m`, `500ms`). The formula engine validates
// them at load time; this reader is what the gate code needs at run time.

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/** Milliseconds for a duration such as `2h` or `1h30m`; undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== at) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return total;
}

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
