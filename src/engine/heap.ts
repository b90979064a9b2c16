// A run that judges many molecules (a cold `list`, `current`, `advance`, `doctor`) allocates
// mostly per-molecule garbage: files, parsed facts, plans, dropped once the molecule is judged.
// V8 answers that allocation rate by doubling its young generation up to 16 MiB a semi-space,
// and a cold `molecule list` at 1,000 molecules peaked at 100 MiB where it holds 73 with the young
// generation kept at the size it has (each scavenge small, no measurable CPU cost). Loading `node:v8` costs ~4 ms, so a run pays it only
// once it has judged enough molecules for the peak to matter (never a single `molecule status`).

/** Molecules folded in this process before the young generation is held. */
export const MANY_MOLECULES = 8;
let folded = 0;
let held = false;

/** Counts one molecule folded; past MANY_MOLECULES the young generation stops growing. */
export function foldedOne(): void {
  if (held || ++folded < MANY_MOLECULES) return;
  holdYoungGeneration();
}

/** Stops V8 growing the young generation for the rest of this process (a growth factor of 1). */
export function holdYoungGeneration(): void {
  if (held) return;
  held = true;
  (process.getBuiltinModule('node:v8') as typeof import('node:v8')).setFlagsFromString(
    '--semi-space-growth-factor=1',
  );
}

/** Whether this process holds its young generation (for tests). */
export function youngGenerationHeld(): boolean {
  return held;
}
