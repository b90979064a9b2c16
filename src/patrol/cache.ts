// `.beads/.cache/patrol.json`: derived, delete any time. What patrol learnt from each molecule's
// fact names (its open claims, whether it may need an escalation), kept with the stat stamps of
// its folder and its `events/` (store/cache.ts statStamp): while both hold, the names are the
// same, so a patrol with nothing due costs a stat per molecule instead of a listing. A stamp is
// kept only once the folder has been still for the stamp window (store/cache.ts stampIsSettled).

import { readCacheJson, stampIsSettled, statStamp, writeCacheJson } from '../store/cache.js';
import type { StampStat } from '../store/stat.js';
import type { OpenClaim } from './agents.js';

export interface PatrolEntry {
  stamp: string;
  claims: OpenClaim[];
  candidate: boolean;
}

export interface PatrolCacheFile {
  v: 1;
  molecules: Record<string, PatrolEntry>;
}

export function readPatrolCache(root: string): { data: PatrolCacheFile; text?: string } {
  return readCacheJson<PatrolCacheFile>(
    root,
    'patrol.json',
    (d) => d.v === 1 && !!d.molecules,
    () => ({ v: 1, molecules: Object.create(null) }),
  );
}

export function writePatrolCache(root: string, data: PatrolCacheFile, previous?: string): void {
  writeCacheJson(root, 'patrol.json', data, previous);
}

/** The stamp of a molecule (its folder and its events/), or undefined when either is too fresh. */
export function entryStamp(
  folder: StampStat,
  events: StampStat,
  nowMs: number,
  windowMs?: number,
): string | undefined {
  if (!stampIsSettled(folder, nowMs, windowMs) || !stampIsSettled(events, nowMs, windowMs)) return undefined;
  return `${statStamp(folder)}|${statStamp(events)}`;
}
