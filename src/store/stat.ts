// The one stat of a watched path: device, inode, ctime and whether it is a folder, which is all a
// stamp is made of (store/cache.ts). Readers, the quiet check, advance's summaries and patrol take
// thousands of these per run, so they go to node's own stat binding (the call fs.statSync makes)
// and skip the fs.Stats object and the four Dates node 20 builds for each: ~10 µs a stat in a
// process too young for the JIT (docs/decisions.md, "Stats through node's binding").

import type { Stats } from 'node:fs';
import { statSync } from 'node:fs';

/** The fields of a stat a stamp is made of. */
export type StampFields = Pick<Stats, 'dev' | 'ino' | 'ctimeMs'>;

export interface StampStat extends StampFields {
  dir: boolean;
}

type RawStat = (path: string) => ArrayLike<number> | undefined;

/** undefined: not decided yet; null: use fs.statSync. */
let rawStat: RawStat | null | undefined;

/** ctimeMs as fs.Stats computes it from the binding's seconds and nanoseconds. */
const ctimeOf = (a: ArrayLike<number>): number => (a[14] as number) * 1000 + (a[15] as number) / 1_000_000;

/**
 * The binding, taken only when reaching it cannot print a deprecation warning
 * (--pending-deprecation reports DEP0111) and it agrees with fs.statSync on `probe`, a path that
 * exists; null: fs.statSync.
 */
function rawStatAgreeingOn(probe: string, st: Stats): RawStat | null {
  const pending = /--pending-deprecation/;
  if (
    process.env.NODE_PENDING_DEPRECATION === '1' ||
    pending.test(process.env.NODE_OPTIONS ?? '') ||
    process.execArgv.some((a) => pending.test(a))
  )
    return null;
  try {
    const binding = (process as unknown as { binding?: (name: string) => { stat?: unknown } }).binding?.(
      'fs',
    );
    const stat = binding?.stat;
    if (typeof stat !== 'function') return null;
    const candidate: RawStat = (path) => stat.call(binding, path, false, undefined, false);
    const a = candidate(probe);
    return a &&
      a.length >= 16 &&
      a[0] === st.dev &&
      a[1] === st.mode &&
      a[7] === st.ino &&
      ctimeOf(a) === st.ctimeMs
      ? candidate
      : null;
  } catch {
    return null;
  }
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

// One options object for every stat: these run once per watched path of every molecule.
const NO_THROW = { throwIfNoEntry: false } as const;

/**
 * Reads `path`'s stamp fields into `into`; false when it is gone or cannot be stat'ed (a name with
 * a NUL byte included, which the binding would cut short).
 */
export function statInto(path: string, into: StampStat): boolean {
  if (path.includes('\0')) return false;
  try {
    if (rawStat) {
      const a = rawStat(path);
      if (a === undefined) return false;
      into.dev = a[0] as number;
      into.ino = a[7] as number;
      into.ctimeMs = ctimeOf(a);
      into.dir = ((a[1] as number) & S_IFMT) === S_IFDIR;
      return true;
    }
    const st = statSync(path, NO_THROW);
    if (st === undefined) return false;
    // The first path that exists decides whether the binding is used from here on.
    if (rawStat === undefined) rawStat = rawStatAgreeingOn(path, st);
    into.dev = st.dev;
    into.ino = st.ino;
    into.ctimeMs = st.ctimeMs;
    into.dir = st.isDirectory();
    return true;
  } catch {
    return false;
  }
}

/** `path`'s stamp fields, or undefined when it is gone or cannot be stat'ed. */
export function stampStat(path: string): StampStat | undefined {
  const st: StampStat = { dev: 0, ino: 0, ctimeMs: 0, dir: false };
  return statInto(path, st) ? st : undefined;
}
