// A run that judges molecules (a cold `list`, `current`, `advance`, `doctor` over thousands of
// them) allocates mostly per-molecule garbage: files, parsed facts, plans, dropped once each
// molecule is judged. V8 answers that allocation rate by doubling its young generation up to
// 16 MiB a semi-space, and what it promotes meanwhile grows the old generation: most of the peak
// memory at 10,000 molecules (docs/decisions.md). Held from the first molecule on, before it has
// grown; loading `node:v8` then costs ~1 ms, and a run answered from the caches never pays it.

let held = false;

/** Stops V8 growing the young generation for the rest of this process (a growth factor of 1). */
export function holdYoungGeneration(): void {
  if (held) return;
  held = true;
  (process.getBuiltinModule('node:v8') as typeof import('node:v8')).setFlagsFromString(
    '--semi-space-growth-factor=1',
  );
}
