// Counters a test can read: `GASTOWN_TRACE=folds` makes the CLI print, on stderr after the
// command, one line `gastown: trace folds <molecule> <n>` per molecule this process folded from
// its files. Import-free and tiny: main.ts loads it at start.
const folds = new Map<string, number>();
let tracing = false;

/** Turns the counters on for a `GASTOWN_TRACE` value (a comma-separated list, e.g. `folds`), from zero. */
export function traceFrom(value: string | undefined): void {
  folds.clear();
  tracing = value?.split(',').some((w) => w.trim() === 'folds') === true;
}

/** One fold of a molecule's files into its state. */
export function countFold(molecule: string): void {
  if (tracing) folds.set(molecule, (folds.get(molecule) ?? 0) + 1);
}

/** The lines to print, in the order molecules were first folded; none when tracing is off. */
export function traceLines(): string[] {
  return [...folds].map(([id, n]) => `gastown: trace folds ${id} ${n}`);
}
