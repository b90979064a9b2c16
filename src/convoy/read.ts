// Reading convoys without the engine: a convoy's file, each molecule's membership, and a view
// answered wholly from `.beads/.cache/convoys.json` when every member's stamp still holds
// (cache.ts). Anything the stamps cannot vouch for goes to store.ts, which judges with the engine.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { saltOf } from '../engine/gates.js';
import { fileMoleculeStatus, isMoleculeCompleted, listMoleculeIds, moleculeRelDir } from '../engine/io.js';
import { GastownError } from '../errors.js';
import { readIfExists, readSmallFile } from '../store/atomic.js';
import { configStamp, stampIsSettled, stampWindow, statStamp, watchStampNow } from '../store/cache.js';
import { FieldError } from '../store/check.js';
import { assertMoleculeId } from '../store/ids.js';
import { MOLECULE_FILE, moleculesDir } from '../store/layout.js';
import { type StampFields, stampStat } from '../store/stat.js';
import { parseWrittenToml, type TomlTable } from '../store/toml.js';
import { type ConvoyCacheFile, readConvoyCache, writeConvoyCache } from './cache.js';
import type { ViewInputs } from './kept.js';
import { CLOSED_FILE, CONVOYS_DIR, type ConvoyMeta, checkConvoy, convoyRel, LANDED_FILE } from './model.js';
import { type ConvoyView, convoyView, type MemberInfo } from './plan.js';

const abs = (root: string, rel: string) => join(root, rel);

export function convoyExists(root: string, id: string): boolean {
  return existsSync(abs(root, convoyRel(id)));
}

export function listConvoyIds(root: string): string[] {
  try {
    return readdirSync(abs(root, CONVOYS_DIR), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(abs(root, convoyRel(d.name))))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

export function readConvoy(root: string, id: string): ConvoyMeta {
  assertMoleculeId(id, 'convoy id');
  const rel = convoyRel(id);
  const text = readIfExists(abs(root, rel));
  if (text === undefined) throw new GastownError('convoy.unknown', `no convoy ${id} (looked for ${rel})`);
  return checkConvoy(parseWrittenToml(text, rel), rel, id);
}

/** Each molecule's `convoy` and `after` from its molecule.toml (one small read each). */
export interface Membership {
  convoy?: string;
  after?: string;
}

/**
 * Each molecule's membership. With `cache`, a molecule whose folder's stamp is what it was when
 * its molecule.toml was last read is not read again: molecule.toml is only ever replaced whole
 * (`molecule create`, `convoy add`, a checkout), which changes its folder's ctime. `statOf` hands
 * folder stats a caller already took.
 */
export function readMemberships(
  root: string,
  cache?: ConvoyCacheFile,
  statOf?: (id: string) => StampFields | undefined,
): Map<string, Membership> {
  return membershipsOf(root, cache, statOf).memberships;
}

/** Memberships through convoys.json, saved only when an entry changed (no serialising else). */
function cachedMemberships(
  root: string,
  statOf?: (id: string) => StampFields | undefined,
  ids?: readonly string[],
): { memberships: Map<string, Membership>; cache: ConvoyCacheFile } {
  const { data: cache, text } = readConvoyCache(root);
  const { memberships, changed } = membershipsOf(root, cache, statOf, ids);
  if (changed || text === undefined) writeConvoyCache(root, cache, text);
  return { memberships, cache };
}

/** readMemberships, and whether the cache's entries changed; `ids`: the molecules a caller listed. */
function membershipsOf(
  root: string,
  cache?: ConvoyCacheFile,
  statOf?: (id: string) => StampFields | undefined,
  ids: readonly string[] = listMoleculeIds(root),
): { memberships: Map<string, Membership>; changed: boolean } {
  const out = new Map<string, Membership>();
  let reused = 0;
  const fresh: ConvoyCacheFile['members'] = Object.create(null);
  const wall = Date.now();
  const window = stampWindow();
  // Concatenation, not path.join: this runs for every molecule.
  const base = `${moleculesDir(root)}/`;
  for (const id of ids) {
    const st = cache ? (statOf?.(id) ?? stampStat(base + id)) : undefined;
    const stamp = st && stampIsSettled(st, wall, window) ? statStamp(st) : undefined;
    const hit = stamp !== undefined ? cache?.members[id] : undefined;
    if (hit && hit.stamp === stamp) {
      fresh[id] = hit;
      reused++;
      out.set(id, {
        ...(hit.convoy !== undefined ? { convoy: hit.convoy } : {}),
        ...(hit.after !== undefined ? { after: hit.after } : {}),
      });
      continue;
    }
    const rel = `${moleculeRelDir(id)}/${MOLECULE_FILE}`;
    let meta: TomlTable;
    try {
      meta = parseWrittenToml(readSmallFile(abs(root, rel)), rel);
    } catch {
      continue; // an unreadable molecule is reported by `molecule status` and doctor
    }
    const m: Membership = {
      ...(typeof meta.convoy === 'string' ? { convoy: meta.convoy } : {}),
      ...(typeof meta.after === 'string' ? { after: meta.after } : {}),
    };
    if (stamp !== undefined) fresh[id] = { stamp, ...m };
    out.set(id, m);
  }
  const changed =
    cache !== undefined && (reused !== out.size || reused !== Object.keys(cache.members).length);
  if (cache) cache.members = fresh;
  return { memberships: out, changed };
}

/** Member ids of a convoy: local molecules naming it. */
export function convoyMembers(memberships: ReadonlyMap<string, Membership>, id: string): string[] {
  return [...memberships].filter(([, m]) => m.convoy === id).map(([mol]) => mol);
}

/** What a member's view also depends on: the state of the molecule it waits for. */
export function afterStateOf(root: string, after: string | undefined): string {
  return after === undefined ? '' : `${after}:${fileMoleculeStatus(root)(after) ?? 'missing'}`;
}

/**
 * A convoy's view from the cache alone, or undefined when anything needs the engine: a member
 * whose watched stats moved, a recheck time passed, another config (by its stamp), the `after`
 * molecule's state changed, or external members (read from git). Writes the memberships it
 * refreshed, as the full path would. `inputs` receives what the answer was read from (kept.ts).
 */
export function cachedConvoyView(
  root: string,
  id: string,
  now: Date,
  inputs?: ViewInputs,
): ConvoyView | undefined {
  const meta = readConvoy(root, id);
  if (meta.external.length > 0) return undefined;
  const { memberships, cache } = cachedMemberships(root);
  const config = cache.config;
  if (config === undefined || configStamp(root) !== config.stamp) return undefined;
  const salt = saltOf(config.hash);
  const base = `${moleculesDir(root)}/`;
  const members: MemberInfo[] = [];
  for (const [mol, m] of memberships) {
    if (m.convoy !== id) continue;
    const hit = cache.infos[mol];
    if (!hit?.watch || hit.salt !== salt) return undefined;
    if (hit.recheckAt !== undefined && hit.recheckAt <= now.getTime()) return undefined;
    if (hit.afterState !== afterStateOf(root, m.after)) return undefined;
    if (watchStampNow(base + mol, hit.watch.paths, undefined) !== hit.watch.stamp) return undefined;
    members.push(hit.info);
    if (inputs) {
      inputs.members.push({ id: mol, watch: hit.watch.paths });
      if (m.after !== undefined && !inputs.after.includes(m.after)) inputs.after.push(m.after);
      if (hit.recheckAt !== undefined && (inputs.due === undefined || hit.recheckAt < inputs.due))
        inputs.due = hit.recheckAt;
    }
  }
  return convoyView(meta, members, {
    landed: existsSync(abs(root, convoyRel(id, LANDED_FILE))),
    closed: existsSync(abs(root, convoyRel(id, CLOSED_FILE))),
  });
}

/** Open convoys whose local members have all completed, as landing (store.ts) takes them. */
export interface LandingCandidates {
  candidates: { id: string; meta: ConvoyMeta; local: string[] }[];
  memberships: Map<string, Membership>;
  problems: { file?: string; message: string }[];
}

/**
 * The open convoys (no landed.toml, no closed.toml) that may land now: every local member has
 * its completed fact (external ones are read from git by the lander). Only a member's completed
 * fact is read, so a convoy with a member still working costs one stat; memberships are read
 * through the cache, with the molecule list and folder stats a caller already took
 * (`molecules`, `statOf`).
 */
export function landingCandidates(
  root: string,
  statOf?: (id: string) => StampFields | undefined,
  molecules?: readonly string[],
): LandingCandidates {
  const found: LandingCandidates = { candidates: [], memberships: new Map(), problems: [] };
  const ids = listConvoyIds(root).filter(
    (id) =>
      !existsSync(abs(root, convoyRel(id, LANDED_FILE))) &&
      !existsSync(abs(root, convoyRel(id, CLOSED_FILE))),
  );
  if (ids.length === 0) return found;
  found.memberships = cachedMemberships(root, statOf, molecules).memberships;
  for (const id of ids) {
    let meta: ConvoyMeta;
    try {
      meta = readConvoy(root, id);
    } catch (err) {
      const file = err instanceof FieldError || err instanceof GastownError ? err.location.file : undefined;
      found.problems.push({ ...(file ? { file } : {}), message: (err as Error).message });
      continue;
    }
    const local = convoyMembers(found.memberships, id);
    if (local.length + meta.external.length === 0 || !local.every((m) => isMoleculeCompleted(root, m)))
      continue;
    found.candidates.push({ id, meta, local });
  }
  return found;
}
