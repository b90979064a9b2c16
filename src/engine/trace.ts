// Counters a test can read: `GASTOWN_TRACE=folds` makes the CLI print, on stderr after the
// command, one line `gastown: trace folds <molecule> <n>` per molecule this process folded from
// its files. Import-free and tiny: main.ts loads it at start.
const folds = new Map<string, number>();
let tracing = false;
// `GASTOWN_TRACE=journal`: `gastown: trace journal trusted <n>`, the molecules the change
// journal vouched for (store/journal.ts), when it vouched for any.
let journal = false;
let trusted = 0;
// `GASTOWN_TRACE=patrol`: `gastown: trace patrol head`, when patrol's head answered for the quiet
// check, the scan and the landing (patrol/head.ts).
let patrol = false;
let fromHead = false;
// `GASTOWN_TRACE=convoy`: `gastown: trace convoy kept`, when `convoy show` printed a view kept
// whole (convoy/kept.ts).
let convoy = false;
let keptView = false;

/** Turns the counters on for a `GASTOWN_TRACE` value (a comma-separated list, e.g. `folds`), from zero. */
export function traceFrom(value: string | undefined): void {
  folds.clear();
  const words = value?.split(',').map((w) => w.trim()) ?? [];
  tracing = words.includes('folds');
  journal = words.includes('journal');
  trusted = 0;
  patrol = words.includes('patrol');
  fromHead = false;
  convoy = words.includes('convoy');
  keptView = false;
}

/** `convoy show` printed a view kept whole. */
export function countKeptConvoy(): void {
  if (convoy) keptView = true;
}

/** Patrol answered from its head. */
export function countPatrolHead(): void {
  if (patrol) fromHead = true;
}

/** Molecules the change journal vouched for, so nothing of them was stat'ed. */
export function countTrusted(n = 1): void {
  if (journal) trusted += n;
}

/** One fold of a molecule's files into its state. */
export function countFold(molecule: string): void {
  if (tracing) folds.set(molecule, (folds.get(molecule) ?? 0) + 1);
}

/** The lines to print, in the order molecules were first folded; none when tracing is off. */
export function traceLines(): string[] {
  const lines = [...folds].map(([id, n]) => `gastown: trace folds ${id} ${n}`);
  if (trusted > 0) lines.push(`gastown: trace journal trusted ${trusted}`);
  if (fromHead) lines.push('gastown: trace patrol head');
  if (keptView) lines.push('gastown: trace convoy kept');
  return lines;
}
