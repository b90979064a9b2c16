// Convoys on disk: create, add, close, read a view, and land (docs/convoys.md). Planning is in
// plan.ts; this module reads and writes the files. A write holds the engine lock.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseCheckpoint } from '../checkpoint/file.js';
import { formulaNeedsPlugins, saltOf } from '../engine/gates.js';
import { moleculeExists, moleculeRelDir } from '../engine/io.js';
import { statusOf } from '../engine/molecules.js';
import { judgeMolecule } from '../engine/verdict.js';
import { GastownError, UsageError } from '../errors.js';
import { readGateReport } from '../gates/report.js';
import { git } from '../git/exec.js';
import { assertAddress } from '../mail/address.js';
import { writeMailFiles } from '../mail/send.js';
import { createFileExclusive, readSmallFile, writeFileAtomic } from '../store/atomic.js';
import {
  configStamp,
  hashKey,
  moleculeKeyLines,
  newWatched,
  settledWatchStamp,
  stampWindow,
} from '../store/cache.js';
import { loadConfig } from '../store/config.js';
import { assertMoleculeId } from '../store/ids.js';
import { EVENTS, MOLECULE_FILE, MOLECULE_KEY_ORDER, moleculesDir } from '../store/layout.js';
import { checkBeadsPath } from '../store/links.js';
import { withLock } from '../store/lock.js';
import type { StampFields } from '../store/stat.js';
import { parseWrittenToml, stringifyToml, type TomlTable } from '../store/toml.js';
import type { GastownConfig } from '../store/types.js';
import { type ConvoyCacheFile, type ConvoyInfoEntry, readConvoyCache, writeConvoyCache } from './cache.js';
import { planLanding } from './landing.js';
import {
  CLOSED_FILE,
  CONVOYS_DIR,
  type ConvoyMeta,
  convoyRel,
  LANDED_FILE,
  renderClosed,
  renderConvoy,
} from './model.js';
import { afterCycle, type ConvoyView, convoyView, type MemberInfo } from './plan.js';
import {
  afterStateOf,
  convoyExists,
  convoyMembers,
  type LandingCandidates,
  landingCandidates,
  listConvoyIds,
  type Membership,
  readConvoy,
  readMemberships,
} from './read.js';

export { convoyExists, convoyMembers, listConvoyIds, type Membership, readConvoy, readMemberships };

const abs = (root: string, rel: string) => join(root, rel);

export interface CreateConvoyOptions {
  id: string;
  name: string;
  owner: string;
  teams?: string[];
  description?: string;
}

export async function createConvoy(root: string, opts: CreateConvoyOptions): Promise<string> {
  const id = assertMoleculeId(opts.id, 'convoy id');
  const config = loadConfig(root);
  assertAddress(config, opts.owner, '--owner');
  const teams = opts.teams ?? [];
  for (const t of teams)
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(t))
      throw new UsageError(`--teams: invalid team name ${JSON.stringify(t)}`);
  if (opts.name.trim() === '' || /[\r\n]/.test(opts.name))
    throw new UsageError('--name must be one non-empty line');
  const meta: ConvoyMeta = {
    id,
    name: opts.name,
    owner: opts.owner,
    teams,
    ...(opts.description ? { description: opts.description } : {}),
    external: [],
  };
  const rel = convoyRel(id);
  return withLock(root, undefined, async () => {
    if (convoyExists(root, id))
      throw new GastownError('convoy.exists', `convoy ${id} already exists (${rel})`);
    const dir = abs(root, `${CONVOYS_DIR}/${id}`);
    checkBeadsPath(root, dir);
    mkdirSync(dir, { recursive: true });
    createFileExclusive(abs(root, rel), renderConvoy(meta));
    return rel;
  });
}

/**
 * Records `molecule` as a member of `convoy` (in the molecule's own molecule.toml, so no shared
 * file changes), optionally ordered after another member. Refuses, writing nothing: an unknown
 * convoy or molecule, a molecule already in another convoy, an `after` outside the convoy, an
 * `after` that closes a cycle, or an `after` for a molecule that has begun work.
 */
export async function addToConvoy(
  root: string,
  convoy: string,
  molecule: string,
  after: string | undefined,
): Promise<{ file: string; changed: boolean }> {
  readConvoy(root, convoy);
  assertMoleculeId(molecule);
  if (after !== undefined) assertMoleculeId(after, '--after molecule');
  return withLock(root, undefined, async () => {
    if (!moleculeExists(root, molecule))
      throw new GastownError(
        'molecule.unknown',
        `no molecule ${molecule} (looked in ${moleculeRelDir(molecule)})`,
      );
    const rel = `${moleculeRelDir(molecule)}/${MOLECULE_FILE}`;
    const meta = parseWrittenToml(readSmallFile(abs(root, rel)), rel);
    const members = readMemberships(root);
    if (typeof meta.convoy === 'string' && meta.convoy !== convoy)
      throw new GastownError(
        'convoy.member',
        `molecule ${molecule} is already in convoy ${meta.convoy} (${rel}); a molecule belongs to one convoy`,
        { location: { file: rel, path: 'convoy' } },
      );
    if (after !== undefined) {
      if (after === molecule) throw new UsageError('a molecule cannot wait for itself (--after)');
      if (members.get(after)?.convoy !== convoy)
        throw new GastownError(
          'convoy.member',
          `--after ${after}: ${moleculeExists(root, after) ? `molecule ${after} is not in convoy ${convoy}` : `no molecule ${after}`}`,
        );
      if (typeof meta.after === 'string' && meta.after !== after)
        throw new GastownError(
          'convoy.after',
          `molecule ${molecule} already waits for ${meta.after} (${rel})`,
          {
            location: { file: rel, path: 'after' },
          },
        );
      const cycle = afterCycle(molecule, after, (id) => members.get(id)?.after);
      if (cycle)
        throw new GastownError('convoy.cycle', `--after ${after} makes a cycle: ${cycle.join(' -> ')}`);
      if (hasBegun(root, molecule))
        throw new GastownError(
          'convoy.after',
          `molecule ${molecule} has begun work; --after can only order a molecule no step of which has started`,
        );
    }
    if (meta.convoy === convoy && (after === undefined || meta.after === after))
      return { file: rel, changed: false };
    const next: TomlTable = { ...meta, convoy, ...(after !== undefined ? { after } : {}) };
    checkBeadsPath(root, abs(root, rel));
    writeFileAtomic(abs(root, rel), stringifyToml(next, MOLECULE_KEY_ORDER));
    return { file: rel, changed: true };
  });
}

/** Any fact beyond `ready` (a step started, finished, failed or skipped). */
function hasBegun(root: string, molecule: string): boolean {
  try {
    return readdirSync(join(moleculesDir(root), molecule, EVENTS)).some(
      (n) => n.endsWith('.toml') && !n.endsWith('.ready.toml'),
    );
  } catch {
    return false;
  }
}

export async function closeConvoy(
  root: string,
  id: string,
  reason?: string,
): Promise<{ file: string; changed: boolean }> {
  readConvoy(root, id);
  const rel = convoyRel(id, CLOSED_FILE);
  return withLock(root, undefined, async () => {
    checkBeadsPath(root, abs(root, rel));
    const outcome = createFileExclusive(abs(root, rel), renderClosed(id, reason));
    if (outcome === 'conflict')
      throw new GastownError('convoy.closed', `convoy ${id} is already closed (${rel})`, {
        location: { file: rel },
      });
    return { file: rel, changed: outcome === 'written' };
  });
}

/**
 * memberInfo through the cache: reused while the molecule's files, the config, the plugins and
 * its `after` molecule's state are what they were, and no recheck time has passed. Kept with the
 * stats the key was read from, once they are settled (read.ts answers from those alone).
 */
async function cachedMemberInfo(
  root: string,
  config: GastownConfig,
  id: string,
  after: string | undefined,
  now: Date,
  cache: ConvoyCacheFile,
  infos: ConvoyCacheFile['infos'],
): Promise<MemberInfo> {
  const wall = Date.now();
  const watched = newWatched();
  const lines = moleculeKeyLines(join(moleculesDir(root), id), 'all', watched);
  const afterState = afterStateOf(root, after);
  const salt = saltOf(config.hash);
  const key = lines && hashKey(lines, `${salt}|${afterState}`);
  const stamp = settledWatchStamp(watched, undefined, wall, stampWindow());
  const stamped = (e: ConvoyInfoEntry): ConvoyInfoEntry => {
    const { watch: _, ...rest } = e;
    return stamp !== undefined ? { ...rest, salt, afterState, watch: { paths: watched.paths, stamp } } : rest;
  };
  const hit = key !== undefined ? cache.infos[id] : undefined;
  if (hit && hit.key === key && (hit.recheckAt === undefined || hit.recheckAt > now.getTime())) {
    infos[id] = stamped(hit);
    return hit.info;
  }
  const { info, cacheable, recheckAt } = await memberInfo(root, config, id, now);
  if (key !== undefined && cacheable)
    infos[id] = stamped({ key, ...(recheckAt !== undefined ? { recheckAt } : {}), info });
  return info;
}

/** The state of a local member for the view: its verdict, attempts, pass rate and checkpoint. */
async function memberInfo(
  root: string,
  config: GastownConfig,
  id: string,
  now: Date,
): Promise<{ info: MemberInfo; cacheable: boolean; recheckAt?: number }> {
  const { state, plan } = await judgeMolecule(id, { root, config, now });
  // A verdict that reads git (checkpoint authors, the audit of a settled gated molecule) is never kept.
  const cacheable = !plan.volatile && !(state.formula && formulaNeedsPlugins(state.formula));
  const s = statusOf(state, plan);
  const info: MemberInfo = {
    id,
    state: s.state,
    progress: s.progress,
    attempts: s.steps.filter((x) => x.state !== 'pending').reduce((n, x) => n + x.attempt, 0),
  };
  if (s.after) info.after = s.after;
  if (s.blocked_reason) info.blocked_reason = s.blocked_reason;
  // The latest report: the highest attempt, then the last step in file order.
  let latest: { attempt: number; text: string } | undefined;
  for (const [path, text] of state.files) {
    const m = /^reports\/.+\.(\d+)\.md$/.exec(path);
    if (m && (!latest || Number(m[1]) >= latest.attempt)) latest = { attempt: Number(m[1]), text };
  }
  if (latest) {
    try {
      const r = readGateReport(latest.text);
      if (r.pass_rate !== undefined) info.pass_rate = r.pass_rate;
      else info.pass_rate = r.verdict === 'pass' ? 100 : 0;
    } catch {
      /* an unreadable report is the molecule's problem, shown by `molecule status` */
    }
  }
  // The first checkpoint still waiting: its file says pending and its step's attempt is open.
  const open = new Map(
    s.steps.filter((x) => x.state !== 'done' && x.state !== 'skipped').map((x) => [x.id, x]),
  );
  for (const [path, text] of [...state.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!/^checkpoints\/[^/]+\.md$/.test(path)) continue;
    try {
      const cp = parseCheckpoint(path, text);
      if (cp.decision === 'pending' && open.get(cp.step)?.attempt === cp.attempt) {
        info.checkpoint = { step: cp.step, path: `${moleculeRelDir(id)}/${path}` };
        break;
      }
    } catch {
      /* a malformed checkpoint is the molecule's problem, shown by `molecule status` */
    }
  }
  return { info, cacheable, ...(plan.recheckAt !== undefined ? { recheckAt: plan.recheckAt } : {}) };
}

/**
 * An external member's state from a fetched ref (`git fetch <remote>` first): completed when
 * the ref's tree has its `molecule.completed.toml`, `missing` when the molecule is not there.
 * Never a network call: it reads what the last fetch brought.
 */
async function externalInfo(
  root: string,
  remote: string,
  molecule: string,
  ref: string,
): Promise<MemberInfo> {
  const dir = `${moleculeRelDir(molecule)}/${EVENTS}/`;
  const r = await git(['ls-tree', '--name-only', ref, '--', dir], { cwd: root, allowFailure: true });
  const names = r.exitCode === 0 ? r.stdout.split('\n').filter(Boolean) : [];
  const digest = await git(['cat-file', '-e', `${ref}:${moleculeRelDir(molecule)}/digest.toml`], {
    cwd: root,
    allowFailure: true,
  });
  const completed = names.some((n) => n.endsWith('/molecule.completed.toml')) || digest.exitCode === 0;
  const state = completed ? 'completed' : names.length > 0 ? 'active' : 'missing';
  return { id: molecule, state, progress: { done: completed ? 1 : 0, total: 1 }, attempts: 0, remote };
}

export async function readConvoyView(
  root: string,
  id: string,
  now: Date,
  opts: { config?: GastownConfig; memberships?: ReadonlyMap<string, Membership> } = {},
): Promise<ConvoyView> {
  const meta = readConvoy(root, id);
  // The config's stamp before its bytes are read: while it holds, so does the hash recorded with it.
  const stamp = opts.config ? undefined : configStamp(root, Date.now(), stampWindow());
  const config = opts.config ?? loadConfig(root);
  const { data: cache, text } = readConvoyCache(root);
  if (stamp !== undefined) cache.config = { stamp, hash: config.hash };
  const memberships = opts.memberships ?? readMemberships(root, cache);
  const members: MemberInfo[] = [];
  // Entries of other convoys' members stay; this convoy's are replaced by what was used now.
  const infos: ConvoyCacheFile['infos'] = { ...cache.infos };
  const mine = convoyMembers(memberships, id);
  for (const mol of mine) delete infos[mol];
  for (const mol of mine)
    members.push(await cachedMemberInfo(root, config, mol, memberships.get(mol)?.after, now, cache, infos));
  for (const gone of Object.keys(infos)) if (!memberships.has(gone)) delete infos[gone];
  cache.infos = infos;
  writeConvoyCache(root, cache, text);
  for (const e of meta.external)
    members.push(await externalInfo(root, e.remote, e.molecule, e.ref ?? `refs/remotes/${e.remote}/main`));
  return convoyView(meta, members, {
    landed: existsSync(abs(root, convoyRel(id, LANDED_FILE))),
    closed: existsSync(abs(root, convoyRel(id, CLOSED_FILE))),
  });
}

export interface LandingOutcome {
  /** Convoys that landed in this run. */
  landed: string[];
  /** Repo-relative paths written. */
  written: string[];
  problems: { file?: string; message: string }[];
}

/**
 * Lands every open convoy whose members have all completed: the owner's summary mail first, then
 * `landed.toml`, both with deterministic names and bytes (a crash in between writes the same mail
 * again, a no-op; a second run or a second clone writes nothing new). Call holding the lock.
 * Only a member's completed fact is read, so a convoy with a member still working costs one stat.
 */
export async function landConvoysLocked(
  root: string,
  config: GastownConfig,
  statOf?: (id: string) => StampFields | undefined,
  found: LandingCandidates = landingCandidates(root, statOf),
): Promise<LandingOutcome> {
  const out: LandingOutcome = { landed: [], written: [], problems: [...found.problems] };
  const { memberships } = found;
  for (const { id, meta, local } of found.candidates) {
    const members: MemberInfo[] = local.map((m) => ({
      id: m,
      state: 'completed',
      progress: { done: 0, total: 0 },
      attempts: 0,
      ...(memberships.get(m)?.after ? { after: memberships.get(m)?.after as string } : {}),
    }));
    for (const e of meta.external)
      members.push(await externalInfo(root, e.remote, e.molecule, e.ref ?? `refs/remotes/${e.remote}/main`));
    const plan = planLanding(convoyView(meta, members, { landed: false, closed: false }));
    if (!plan) continue;
    for (const w of writeMailFiles(root, config, plan.mail)) {
      if (w.outcome === 'conflict')
        out.problems.push({ file: w.path, message: 'exists with other content; left as it is' });
      if (w.outcome === 'written') out.written.push(w.path);
    }
    const outcome = createFileExclusive(abs(root, plan.landed.path), plan.landed.content);
    if (outcome === 'written') out.written.push(plan.landed.path);
    out.landed.push(id);
  }
  return out;
}

/** landConvoysLocked under the engine lock. */
export async function landConvoys(
  root: string,
  config: GastownConfig,
  lockWaitMs?: number,
): Promise<LandingOutcome> {
  if (listConvoyIds(root).length === 0) return { landed: [], written: [], problems: [] };
  return withLock(root, lockWaitMs, () => landConvoysLocked(root, config));
}

/**
 * After an `advance`: lands what completed and adds its files to the run's result, so an engine
 * commit takes them and `--json` lists `convoys_landed`.
 */
export async function landAfterAdvance(
  root: string,
  result: { written: string[]; problems: { file?: string; message: string }[] },
  locked: boolean,
  lockWaitMs?: number,
): Promise<string[]> {
  const config = loadConfig(root);
  const r = locked ? await landConvoysLocked(root, config) : await landConvoys(root, config, lockWaitMs);
  result.written.push(...r.written);
  result.problems.push(...r.problems);
  if (r.landed.length > 0) Object.assign(result, { convoys_landed: r.landed });
  return r.landed;
}

export { stampWindow };
