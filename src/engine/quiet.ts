// The quiet check: answers "nothing to do" for a plain `advance` from the summaries and one
// stat per molecule, before the engine is loaded. It says yes only where reconcileAll would hit
// the cache by stamp for every molecule and rewrite nothing; any doubt returns undefined and the
// full path decides (and waits for the lock, reports problems, repairs).
import { lstatSync, readdirSync } from 'node:fs';
import { headMovedSinceCatchUp } from '../git/head.js';
import { hasQueuedCopies } from '../notify/outbox.js';
import {
  configStamp,
  gitOperationInProgress,
  moleculeStamp,
  type QuietHead,
  readSummaries,
  readSummaryHead,
  type SummaryFile,
  watchStampNow,
} from '../store/cache.js';
import { isMoleculeId } from '../store/ids.js';
import { type JournalAnswer, sameMark, untouchedSince } from '../store/journal.js';
import { EVENTS, findRoot, moleculesDir } from '../store/layout.js';
import { beadsTreeProblems } from '../store/links.js';
import { lockPath } from '../store/lock.js';
import { type StampStat, stampStat } from '../store/stat.js';
import { saltOf } from './gates.js';
import { countTrusted } from './trace.js';

export interface QuietVerdict {
  /** Molecules checked, all unchanged by stamp. */
  molecules: number;
  /** The earliest time a summary's plan may change by itself (its recheckAt); absent: none. */
  due?: number;
  /** The molecules checked by a whole-folder stamp, and the paths it is over (patrol/head.ts). */
  watched: Map<string, readonly string[]>;
}

/**
 * What the quiet check needs of the repository besides the molecules' stamps: no lock (another
 * process applying effects, or something that is no lock), no git operation in progress, no linked
 * .beads/ folder, no commit a catch-up has not seen, no mail waiting to be announced. Otherwise
 * the full path decides.
 */
export function quietSurroundings(root: string): boolean {
  // lstat: a dangling link counts.
  if (lstatSync(lockPath(root), { throwIfNoEntry: false }) || gitOperationInProgress(root)) return false;
  // A linked .beads/, molecules/ or .cache/: the full path refuses it, naming the link.
  if (beadsTreeProblems(root).length > 0) return false;
  // New commits may carry trailers no hook applied: the full path catches them up.
  if (headMovedSinceCatchUp(root)) return false;
  // Mail waits to be announced: the full path delivers it.
  return !hasQueuedCopies(root);
}

/**
 * `eventStats`, when given, receives the stat of each `events/` folder checked (patrol reuses
 * them). `journal`: the change journal's answer to a sync made before this call; a molecule it
 * saw untouched since the summaries' mark is not stat'ed.
 */
export function quietCheck(
  start: string,
  nowMs: number,
  eventStats?: Map<string, StampStat>,
  journal?: JournalAnswer,
): QuietVerdict | undefined {
  const root = findRoot(start);
  // The journal saw no molecule touched since the file's mark: the file's head may answer for
  // every entry. When it cannot, every entry is read.
  const head = eventStats ? undefined : headIfUntouched(root, journal);
  if (head) {
    const verdict = check(root, nowMs, eventStats, journal, head);
    if (verdict) return verdict;
  }
  return check(root, nowMs, eventStats, journal, undefined);
}

function check(
  root: string,
  nowMs: number,
  eventStats: Map<string, StampStat> | undefined,
  journal: JournalAnswer | undefined,
  head: ReturnType<typeof headIfUntouched>,
): QuietVerdict | undefined {
  const { data, text } = head ? { data: head, text: '' } : readSummaries(root);
  if (text === undefined || !saltHolds(root, data)) return undefined;
  // Another process is applying effects (or died doing so), and the rest: the full path waits,
  // takes over, catches up or reports it.
  if (!quietSurroundings(root)) return undefined;
  let names: string[];
  try {
    names = readdirSync(moleculesDir(root));
  } catch {
    return undefined;
  }
  const ids = names.filter(isMoleculeId).sort();
  if (head) {
    const q = head.quiet as QuietHead;
    // The same molecules, each quiet, stamped, waiting for none, and none due: as the loop below
    // would find each one the journal vouches for.
    if ((q.next === undefined || nowMs < q.next) && ids.join('\n') === q.ids) {
      countTrusted(ids.length);
      // As the loop below, which stats none of the molecules the journal vouches for.
      return { molecules: ids.length, ...(q.next !== undefined ? { due: q.next } : {}), watched: new Map() };
    }
    return undefined;
  }
  // A summary of a molecule that is gone makes the full path rewrite the file.
  if (ids.length !== Object.keys(data.molecules).length) return undefined;
  const base = `${moleculesDir(root)}/`;
  const seen = new Map<string, string>();
  const untouched = eventStats ? undefined : untouchedSince(journal, data.journal);
  let due: number | undefined;
  const watched = new Map<string, readonly string[]>();
  for (const id of ids) {
    const s = data.molecules[id];
    if (!s?.quiet || s.stamp === undefined || !(s.events || s.watch)) return undefined;
    if (s.recheckAt !== undefined) {
      if (nowMs >= s.recheckAt) return undefined;
      if (due === undefined || s.recheckAt < due) due = s.recheckAt;
    }
    if (s.after === undefined && untouched?.(id)) {
      seen.set(id, s.state);
      continue;
    }
    let afterCompleted: boolean | undefined;
    if (s.after !== undefined) {
      // reconcileAll asks a molecule it already passed for its state, others the files: only
      // the first is known here without reading.
      const state = seen.get(s.after);
      if (state === undefined) return undefined;
      afterCompleted = state === 'completed';
    }
    if (s.events) {
      const st = stampStat(`${base}${id}/${EVENTS}`);
      if (!st?.dir || moleculeStamp(st, afterCompleted) !== s.stamp) return undefined;
      eventStats?.set(id, st);
    } else {
      if (watchStampNow(`${base}${id}`, s.watch as string[], afterCompleted) !== s.stamp) return undefined;
      watched.set(id, s.watch as string[]);
    }
    seen.set(id, s.state);
  }
  return { molecules: ids.length, ...(due !== undefined ? { due } : {}), watched };
}

/**
 * Whether summaries taken under `data`'s salt still hold: the same config (its bytes are what its
 * hash was taken of while its stamp holds) and the same gate registry.
 */
export function saltHolds(root: string, data: Pick<SummaryFile, 'salt' | 'config'>): boolean {
  const config = data.config;
  if (data.salt === undefined || config === undefined) return false;
  if (configStamp(root) !== config.stamp) return false;
  return data.salt === saltOf(config.hash);
}

/**
 * The summaries' head when it can answer for every molecule: it has a QuietHead, and the
 * journal's answer, given against the head's own mark, names no molecule touched since.
 */
export function headIfUntouched(
  root: string,
  journal: JournalAnswer | undefined,
): (Omit<SummaryFile, 'molecules'> & { molecules: SummaryFile['molecules'] }) | undefined {
  if (journal?.touched === undefined || journal.touched.size > 0) return undefined;
  const head = readSummaryHead(root);
  if (!head?.quiet || !sameMark(journal, head.journal)) return undefined;
  return { ...head, molecules: {} };
}
