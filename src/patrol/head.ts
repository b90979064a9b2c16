// `.beads/.cache/patrol-head`: derived, delete any time. What a patrol that found nothing due
// learnt (the open claims, the molecules to judge for escalations, when a summary's plan may next
// change by itself), kept with the stats of every path the run's answer came from, each taken
// before the run read anything: the config, summaries.json, the molecules folder and, for each
// molecule, its folder, its `events/` and the paths its whole-folder summary watches; the convoys
// folder and each convoy's folder and convoy.toml. While every one of those stats is the same
// (device, inode and ctime, compared exactly) and the due time has not come, the full path would
// read the same files and find nothing due again, so patrol skips the quiet check's summaries, the
// scan's patrol.json and the landing's convoys.json (run.ts). Written only when every one of those
// stats is older than the stamp window (a change within one tick of the file system's clock leaves
// ctime as it was). The file is one JSON line, then the stats (store/exact-stats.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONVOY_FILE, CONVOYS_DIR } from '../convoy/layout.js';
import { registrySignature } from '../engine/gates.js';
import { writeFileAtomic } from '../store/atomic.js';
import { exactStats } from '../store/exact-stats.js';
import { isMoleculeId } from '../store/ids.js';
import { CONFIG_FILE, cacheDir, EVENTS, moleculesDir } from '../store/layout.js';
import { ensureCacheDir } from '../store/links.js';
import type { OpenClaim } from './agents.js';

const HEAD_FILE = 'patrol-head';
const VERSION = 1;

export interface PatrolHead {
  v: typeof VERSION;
  /** The gate planners, part of every summary's salt (engine/gates.ts registrySignature). */
  planners: string;
  /** How many stats follow the JSON line; absent: they vouch for nothing yet (probe again first). */
  stats?: number;
  /** The earliest recheck time among the summaries (quiet.ts QuietVerdict.due). */
  due?: number;
  /** Molecules with a whole-folder summary → the paths it watches (relative to the folder). */
  watched: Record<string, string[]>;
  claims: OpenClaim[];
  /** Molecules worth judging for the engine's own escalations (judged on every run). */
  candidates: string[];
}

export interface KnownHead {
  head: PatrolHead;
  /** The stats the head was recorded with (stats × device, inode, ctime), as bytes. */
  stats: Buffer;
}

export function readPatrolHead(root: string): KnownHead | undefined {
  try {
    const bytes = readFileSync(join(cacheDir(root), HEAD_FILE));
    const nl = bytes.indexOf(10);
    if (nl < 0) return undefined;
    const head = JSON.parse(bytes.toString('utf8', 0, nl)) as PatrolHead;
    if (
      head?.v !== VERSION ||
      !head.watched ||
      !Array.isArray(head.claims) ||
      !Array.isArray(head.candidates)
    )
      return undefined;
    return { head, stats: bytes.subarray(nl + 1) };
  } catch {
    return undefined; // missing, torn or foreign: the full path
  }
}

/** Saves the head; one that cannot be written costs the next run the full path only. */
export function writePatrolHead(root: string, head: PatrolHead, stats: Probe | undefined): void {
  const line = Buffer.from(`${JSON.stringify(head)}\n`);
  try {
    ensureCacheDir(root);
    writeFileAtomic(join(cacheDir(root), HEAD_FILE), stats ? Buffer.concat([line, stats.bytes]) : line, {
      durable: false,
    });
  } catch {
    /* a read-only checkout: nothing kept */
  }
}

export interface Probe {
  /** Device, inode and ctime of each path, in order, as raw 64-bit floats. */
  bytes: Buffer;
  count: number;
}

/**
 * The stats of every path a quiet patrol's answer depends on, `watched` giving the paths of the
 * whole-folder summaries. Take it before reading anything it vouches for.
 */
export function probe(root: string, watched: Readonly<Record<string, readonly string[]>>): Probe {
  const molecules = moleculesDir(root);
  const convoys = `${root}/${CONVOYS_DIR}`;
  const paths: string[] = [`${root}/${CONFIG_FILE}`, `${cacheDir(root)}/summaries.json`, molecules];
  // Each folder before its listing: an entry added, removed or renamed moves its ctime, so the
  // same stats mean the same names (in the same order: one listing of an unchanged folder).
  const pending = exactStats(paths);
  let ids: string[] = [];
  try {
    ids = readdirSync(molecules).filter(isMoleculeId);
  } catch {
    /* no molecules */
  }
  const more: string[] = [];
  for (const id of ids) {
    const dir = `${molecules}/${id}`;
    more.push(dir, `${dir}/${EVENTS}`);
    const w = watched[id];
    if (w) for (const rel of w) more.push(rel === '' ? dir : `${dir}/${rel}`);
  }
  more.push(convoys);
  const first = exactStats(more);
  let names: string[] = [];
  try {
    names = readdirSync(convoys).sort();
  } catch {
    /* no convoys */
  }
  const last = exactStats(names.flatMap((n) => [`${convoys}/${n}`, `${convoys}/${n}/${CONVOY_FILE}`]));
  const bytes = Buffer.concat([pending, first, last]);
  return { bytes, count: bytes.length / 24 };
}

/** The head's stats are the probe's, exactly, and it was kept by this build's planners. */
export function sameProbe(known: KnownHead, p: Probe): boolean {
  return (
    known.head.stats === p.count &&
    known.head.planners === registrySignature() &&
    known.stats.length === p.bytes.length &&
    known.stats.equals(p.bytes)
  );
}

export const plannersNow = (): string => registrySignature();
