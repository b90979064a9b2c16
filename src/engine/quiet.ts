// The quiet check: answers "nothing to do" for a plain `advance` from the summaries and one
// stat per molecule, before the engine is loaded. It says yes only where reconcileAll would hit
// the cache by stamp for every molecule and rewrite nothing; any doubt returns undefined and the
// full path decides (and waits for the lock, reports problems, repairs).
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { headMovedSinceCatchUp } from '../git/head.js';
import { hasQueuedCopies } from '../notify/outbox.js';
import {
  configStamp,
  gitOperationInProgress,
  moleculeStamp,
  readSummaries,
  statStamp,
  watchedStamp,
} from '../store/cache.js';
import { isMoleculeId } from '../store/ids.js';
import { EVENTS, findRoot, moleculesDir } from '../store/layout.js';
import { beadsTreeProblems } from '../store/links.js';
import { lockPath } from '../store/lock.js';
import { registrySignature } from './gates.js';

/** What a stamp is taken from (store/cache.ts statStamp), and whether the path is a folder. */
export interface StampStat {
  dev: number;
  ino: number;
  ctimeMs: number;
  dir: boolean;
}

type RawStat = (path: string) => ArrayLike<number> | undefined;

let rawStat: RawStat | null | undefined;

/** ctimeMs as fs.Stats computes it from the binding's seconds and nanoseconds. */
const ctimeOf = (a: ArrayLike<number>): number => (a[14] as number) * 1000 + (a[15] as number) / 1_000_000;

/**
 * node's stat binding, the one fs.statSync calls, without the fs.Stats object and the four Dates
 * node 20 builds for each call: in a process too young for the JIT to have compiled them, that
 * is ~10 µs a stat, most of a no-op `advance` over thousands of watched paths (docs/decisions.md,
 * "Quiet check stats"). Taken only when it agrees with fs.statSync on `probe` and reaching it
 * cannot print a deprecation warning (--pending-deprecation); null: use fs.statSync.
 */
function rawStatFor(probe: string): RawStat | null {
  if (rawStat !== undefined) return rawStat;
  rawStat = null;
  const pending = /--pending-deprecation/;
  if (
    process.env.NODE_PENDING_DEPRECATION === '1' ||
    pending.test(process.env.NODE_OPTIONS ?? '') ||
    process.execArgv.some((a) => pending.test(a))
  )
    return rawStat;
  try {
    const binding = (process as unknown as { binding?: (name: string) => { stat?: unknown } }).binding?.(
      'fs',
    );
    const stat = binding?.stat;
    if (typeof stat !== 'function') return rawStat;
    const candidate: RawStat = (path) => stat.call(binding, path, false, undefined, false);
    const a = candidate(probe);
    const b = statSync(probe);
    if (
      a &&
      a.length >= 16 &&
      a[0] === b.dev &&
      a[1] === b.mode &&
      a[7] === b.ino &&
      ctimeOf(a) === b.ctimeMs
    )
      rawStat = candidate;
  } catch {
    rawStat = null;
  }
  return rawStat;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

/** Reads `path`'s stamp fields into `into`; false when it is gone or cannot be stat'ed. */
function statInto(path: string, probe: string, into: StampStat): boolean {
  try {
    const raw = rawStatFor(probe);
    if (raw) {
      const a = raw(path);
      if (a === undefined) return false;
      into.dev = a[0] as number;
      into.ino = a[7] as number;
      into.ctimeMs = ctimeOf(a);
      into.dir = ((a[1] as number) & S_IFMT) === S_IFDIR;
      return true;
    }
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) return false;
    into.dev = st.dev;
    into.ino = st.ino;
    into.ctimeMs = st.ctimeMs;
    into.dir = st.isDirectory();
    return true;
  } catch {
    return false;
  }
}

/**
 * `path`'s stamp fields, or undefined when it is gone or cannot be stat'ed (the full path then
 * decides, and reports what it finds). `probe`: a path known to exist, to check the binding on.
 */
export function stampStat(path: string, probe: string): StampStat | undefined {
  const st: StampStat = { dev: 0, ino: 0, ctimeMs: 0, dir: false };
  return statInto(path, probe, st) ? st : undefined;
}

export interface QuietVerdict {
  /** Molecules checked, all unchanged by stamp. */
  molecules: number;
}

/** `eventStats`, when given, receives the stat of each `events/` folder checked (patrol reuses them). */
export function quietCheck(
  start: string,
  nowMs: number,
  eventStats?: Map<string, StampStat>,
): QuietVerdict | undefined {
  const root = findRoot(start);
  const { data, text } = readSummaries(root);
  const config = data.config;
  if (text === undefined || data.salt === undefined || config === undefined) return undefined;
  // The config's bytes are what its hash was taken of while its stamp holds.
  if (configStamp(root) !== config.stamp) return undefined;
  if (data.salt !== `${config.hash}|${registrySignature()}`) return undefined;
  // Another process is applying effects (or died doing so), or something that is no lock is
  // there (lstat: a dangling link counts): the full path waits, takes over or reports it.
  if (lstatSync(lockPath(root), { throwIfNoEntry: false }) || gitOperationInProgress(root)) return undefined;
  // A linked .beads/, molecules/ or .cache/: the full path refuses it, naming the link.
  if (beadsTreeProblems(root).length > 0) return undefined;
  // New commits may carry trailers no hook applied: the full path catches them up.
  if (headMovedSinceCatchUp(root)) return undefined;
  // Mail waits to be announced: the full path delivers it.
  if (hasQueuedCopies(root)) return undefined;
  let names: string[];
  try {
    names = readdirSync(moleculesDir(root));
  } catch {
    return undefined;
  }
  const ids = names.filter(isMoleculeId).sort();
  // A summary of a molecule that is gone makes the full path rewrite the file.
  if (ids.length !== Object.keys(data.molecules).length) return undefined;
  const base = `${moleculesDir(root)}/`;
  const seen = new Map<string, string>();
  const scratch: StampStat = { dev: 0, ino: 0, ctimeMs: 0, dir: false };
  for (const id of ids) {
    const s = data.molecules[id];
    if (!s?.quiet || s.stamp === undefined || !(s.events || s.watch)) return undefined;
    if (s.recheckAt !== undefined && nowMs >= s.recheckAt) return undefined;
    let afterCompleted: boolean | undefined;
    if (s.after !== undefined) {
      // reconcileAll asks a molecule it already passed for its state, others the files: only
      // the first is known here without reading.
      const state = seen.get(s.after);
      if (state === undefined) return undefined;
      afterCompleted = state === 'completed';
    }
    if (s.events) {
      const st = stampStat(`${base}${id}/${EVENTS}`, root);
      if (!st?.dir || moleculeStamp(st, afterCompleted) !== s.stamp) return undefined;
      eventStats?.set(id, st);
    } else {
      // store/cache.ts watchStampNow, over statInto (one scratch object for every path).
      const dir = `${base}${id}`;
      const paths = s.watch as string[];
      const stamps: string[] = new Array(paths.length);
      for (let i = 0; i < paths.length; i++) {
        const rel = paths[i] as string;
        if (!statInto(rel === '' ? dir : `${dir}/${rel}`, root, scratch)) return undefined;
        stamps[i] = statStamp(scratch);
      }
      if (watchedStamp(stamps, afterCompleted) !== s.stamp) return undefined;
    }
    seen.set(id, s.state);
  }
  return { molecules: ids.length };
}
