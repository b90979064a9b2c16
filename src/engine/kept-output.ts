// What a reader over every molecule printed (`molecule list`), kept under `.cache/status/` with the
// stat of the summaries.json it was rendered from, and printed again while the change journal
// vouches for every summary in that very file: nothing touched since its mark, its quiet head
// (every summary quiet, stamped, waiting for none, none due) and the same molecules on disk, the
// same salt, no git operation. Those are the conditions under which the reader would take every
// molecule from its summary without a stat, so it would render the same text from the same file;
// any doubt and the reader runs in full (docs/state.md, "Readers").
import { readdirSync } from 'node:fs';
import { readIfExists } from '../store/atomic.js';
import {
  gitOperationInProgress,
  stampIsSettled,
  statStamp,
  statusCacheFile,
  summariesPath,
  writeStatusCacheFile,
} from '../store/cache.js';
import { isMoleculeId } from '../store/ids.js';
import type { JournalAnswer } from '../store/journal.js';
import { moleculesDir } from '../store/layout.js';
import { type StampStat, stampStat } from '../store/stat.js';
import { VERSION } from '../version.js';
import { headIfUntouched, saltHolds } from './quiet.js';
import { countTrusted } from './trace.js';

const FORMAT = 1;
// Files named `_reader.<kind>.json`: no molecule id starts with `_`, so no kept status is named so.

interface Kept {
  v: number;
  gastown: string;
  /** statStamp of summaries.json, taken before the run that rendered `text` read it. */
  summaries: string;
  /** Whether colour was on, when the text has any; absent: it has none. */
  color?: boolean;
  text: string;
}

/** Whether an agent's name can be part of a kept text's file name; else that text is never kept. */
export function keepableName(name: string): boolean {
  return /^@?[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(name);
}

/** summaries.json's stat, to be taken before a reader reads it. */
export function summariesStat(root: string): StampStat | undefined {
  return stampStat(summariesPath(root));
}

/**
 * The journal vouches for every summary in summaries.json as a reader over every molecule would
 * take it (engine/summaries.ts lookup with the journal): true only when each condition holds.
 */
function vouchedForAll(root: string, journal: JournalAnswer | undefined, nowMs: number): boolean {
  const head = headIfUntouched(root, journal);
  const q = head?.quiet;
  if (!head || !q || !saltHolds(root, head)) return false;
  if (q.next !== undefined && nowMs >= q.next) return false;
  if (gitOperationInProgress(root)) return false;
  const ids: string[] = [];
  try {
    for (const e of readdirSync(moleculesDir(root), { withFileTypes: true })) {
      if (!isMoleculeId(e.name)) continue;
      // A link or file in a molecule's place is judged (and reported) in full.
      if (!e.isDirectory()) return false;
      ids.push(e.name);
    }
  } catch {
    return false;
  }
  if (ids.sort().join('\n') !== q.ids) return false;
  countTrusted(ids.length);
  return true;
}

/**
 * The text kept for reader `kind` when the journal vouches for every summary in the file it was
 * rendered from, and that file is still the one on disk; undefined otherwise. `colorOn` is asked
 * only when the kept text has colour in it.
 */
export function keptOutput(
  root: string,
  kind: string,
  journal: JournalAnswer | undefined,
  nowMs: number,
  colorOn: () => boolean,
): string | undefined {
  if (journal?.touched === undefined || journal.touched.size > 0) return undefined;
  const text = readIfExists(statusCacheFile(root, `_reader.${kind}.json`));
  if (text === undefined) return undefined;
  let k: Kept;
  try {
    k = JSON.parse(text) as Kept;
  } catch {
    return undefined;
  }
  if (k.v !== FORMAT || k.gastown !== VERSION || typeof k.text !== 'string') return undefined;
  // The same file before and after its head is read: the head vouches for the file kept from.
  const same = () => {
    const st = summariesStat(root);
    return st !== undefined && statStamp(st) === k.summaries;
  };
  if (!same() || !vouchedForAll(root, journal, nowMs) || !same()) return undefined;
  if (k.color !== undefined && k.color !== colorOn()) return undefined;
  return k.text;
}

/**
 * Keeps what reader `kind` printed, when the change journal answered the run's sync, every molecule
 * was answered from its summary (the caller says so) and summaries.json is the file it had before
 * the reader read it, changed a stamp window before the run. `color`: whether colour was on, when
 * the text has any.
 */
export function keepOutput(
  root: string,
  kind: string,
  journal: JournalAnswer | undefined,
  before: StampStat | undefined,
  runStartMs: number,
  windowMs: number | undefined,
  text: string,
  color: boolean | undefined,
): void {
  // Read only while the journal answers (keptOutput): without it, keeping is a write for nothing.
  if (journal?.touched === undefined) return;
  if (!before || !stampIsSettled(before, runStartMs, windowMs)) return;
  const now = summariesStat(root);
  if (!now || statStamp(now) !== statStamp(before)) return;
  const kept: Kept = {
    v: FORMAT,
    gastown: VERSION,
    summaries: statStamp(before),
    ...(color !== undefined ? { color } : {}),
    text,
  };
  writeStatusCacheFile(root, statusCacheFile(root, `_reader.${kind}.json`), JSON.stringify(kept));
}
