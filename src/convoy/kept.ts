// A convoy's view kept whole (`.beads/.cache/status/convoy.<id>.view.json`, derived: delete any
// time), with the exact stats (store/exact-stats.ts) of every path the cache's answer
// (read.ts cachedConvoyView) came from: the config, the convoy's folder and convoy.toml, the
// molecules folder and each molecule's folder (which molecules are members), each member's
// watched paths, and the `events/` of each molecule a member waits for. While every stat is the
// same and no member's recheck time has come, the cache would give this very view, so `convoy
// show` prints it without reading convoys.json, convoy.toml or any member. Kept only for a view
// the cache answered, with stats taken before it read anything and older than the stamp window.
import { readdirSync } from 'node:fs';
import { registrySignature } from '../engine/gates.js';
import { readIfExists } from '../store/atomic.js';
import { STAMP_WINDOW_MS, statusCacheFile, writeStatusCacheFile } from '../store/cache.js';
import { exactStats, newestCtime } from '../store/exact-stats.js';
import { isMoleculeId } from '../store/ids.js';
import { CONFIG_FILE, EVENTS, moleculesDir } from '../store/layout.js';
import { CONVOY_FILE, CONVOYS_DIR } from './layout.js';
import type { ConvoyView } from './plan.js';

/** What cachedConvoyView read its answer from, beyond the files every answer depends on. */
export interface ViewInputs {
  /** Each member and the paths its cached view is stamped over (relative to its folder). */
  members: { id: string; watch: string[] }[];
  /** The molecules members wait for (`after`): their state is part of each member's view. */
  after: string[];
  /** The earliest recheck time among the members' views. */
  due?: number;
}

interface KeptView {
  v: 1;
  planners: string;
  /** The stats, base64; absent: taken over other paths than these inputs, so they vouch for nothing. */
  stats?: string;
  inputs: ViewInputs;
  view: ConvoyView;
}

const fileOf = (root: string, id: string) => statusCacheFile(root, `convoy.${id}.view.json`);

export interface ViewProbe {
  kept?: KeptView;
  stats: Buffer;
}

/** The kept view of convoy `id` (if any) and the stats of its paths now, taken before any read of them. */
export function probeConvoyView(root: string, id: string): ViewProbe {
  let kept: KeptView | undefined;
  try {
    const data = JSON.parse(readIfExists(fileOf(root, id)) ?? 'null') as KeptView | null;
    if (data?.v === 1 && data.inputs && Array.isArray(data.inputs.members) && data.view) kept = data;
  } catch {
    /* torn or foreign: nothing kept */
  }
  return { ...(kept ? { kept } : {}), stats: statsOf(root, id, kept?.inputs) };
}

function statsOf(root: string, id: string, inputs: ViewInputs | undefined): Buffer {
  const molecules = moleculesDir(root);
  const convoy = `${root}/${CONVOYS_DIR}/${id}`;
  // Each folder before its listing: the same stats mean the same names, in the same order.
  const head = exactStats([`${root}/${CONFIG_FILE}`, convoy, `${convoy}/${CONVOY_FILE}`, molecules]);
  let ids: string[] = [];
  try {
    ids = readdirSync(molecules).filter(isMoleculeId);
  } catch {
    /* no molecules */
  }
  const paths = ids.map((m) => `${molecules}/${m}`);
  for (const m of inputs?.members ?? [])
    for (const rel of m.watch)
      paths.push(rel === '' ? `${molecules}/${m.id}` : `${molecules}/${m.id}/${rel}`);
  for (const a of inputs?.after ?? []) paths.push(`${molecules}/${a}/${EVENTS}`);
  return Buffer.concat([head, exactStats(paths)]);
}

/** The kept view, when its stats are exactly these and no member's recheck time has come. */
export function keptConvoyView(p: ViewProbe, now: Date): ConvoyView | undefined {
  const kept = p.kept;
  if (kept?.stats === undefined || kept.planners !== registrySignature()) return undefined;
  if (kept.inputs.due !== undefined && now.getTime() >= kept.inputs.due) return undefined;
  return kept.stats === p.stats.toString('base64') ? kept.view : undefined;
}

/**
 * Keeps a view the cache answered. The stats vouch only when they were taken over these very
 * inputs (else the next run takes them over these) and every one is older than the stamp window.
 */
export function keepConvoyView(
  root: string,
  id: string,
  view: ConvoyView,
  inputs: ViewInputs,
  p: ViewProbe,
  windowMs = STAMP_WINDOW_MS,
): void {
  const same =
    JSON.stringify(p.kept?.inputs.members) === JSON.stringify(inputs.members) &&
    JSON.stringify(p.kept?.inputs.after) === JSON.stringify(inputs.after);
  const vouch = same && newestCtime(p.stats) <= Date.now() - windowMs;
  const kept: KeptView = {
    v: 1,
    planners: registrySignature(),
    ...(vouch ? { stats: p.stats.toString('base64') } : {}),
    inputs,
    view,
  };
  writeStatusCacheFile(root, fileOf(root, id), JSON.stringify(kept));
}
