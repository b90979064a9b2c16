// Durations as formulas write them: `90s`, `30m`, `2h`, `1d`, `1w`, or a sequence like `1h30m`.
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const PART = /(\d+)(ms|s|m|h|d|w)/y;

/** Milliseconds for a duration such as `2h` or `1h30m`; undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const start = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== start) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2]!] ?? 0);
  }
  return Number.isSafeInteger(total) ? total : undefined;
}
