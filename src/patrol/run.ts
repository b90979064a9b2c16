// `gastown patrol`: every time-based check once, then exit (docs/patrol.md). Under the engine
// lock: advance (timeouts, timers, catch-up), convoy landing, the engine's own escalations and
// re-escalations, releasing steps claimed by dead agents; then the engine commits; then, outside
// the lock, notifications are delivered. Each part is idempotent, so cron, CI and `watch` may
// all run it, at any rate.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LandingOutcome } from '../convoy/store.js';
import type { advanceLocked } from '../engine/advance.js';
import { type QuietVerdict, quietCheck, quietSurroundings } from '../engine/quiet.js';
import { countPatrolHead } from '../engine/trace.js';
import { ESCALATIONS_DIR, escalationSettings } from '../escalation/model.js';
import type { BlockedMolecule } from '../escalation/plan.js';
import type { PatrolEscalations } from '../escalation/store.js';
import { notificationEndpoints } from '../notify/config.js';
import type { DeliverResult } from '../notify/deliver.js';
import { commandEnv } from '../scope.js';
import { STAMP_WINDOW_MS, stampWindow } from '../store/cache.js';
import { loadConfig } from '../store/config.js';
import { newestCtime } from '../store/exact-stats.js';
import { EVENTS, moleculesDir } from '../store/layout.js';
import { withLock } from '../store/lock.js';
import { type StampStat, stampStat } from '../store/stat.js';
import type { GastownConfig } from '../store/types.js';
import { type AgentState, agentState, openClaims, patrolSettings } from './agents.js';
import {
  entryStamp,
  type PatrolCacheFile,
  type PatrolEntry,
  readPatrolCache,
  writePatrolCache,
} from './cache.js';
import {
  type KnownHead,
  type PatrolHead,
  type Probe,
  plannersNow,
  probe,
  readPatrolHead,
  sameProbe,
  writePatrolHead,
} from './head.js';
import { readHeartbeats } from './heartbeat.js';

export interface PatrolOptions {
  root: string;
  now: Date;
  commit: boolean;
  env?: NodeJS.ProcessEnv;
  lockWaitMs?: number;
}

export interface AgentReport {
  agent: string;
  state: AgentState;
  last_heartbeat?: string;
  claims: { molecule: string; step: string; attempt: number }[];
}

export interface PatrolResult {
  transitions: { molecule: string; step?: string; kind: string; summary: string }[];
  convoys_landed: string[];
  escalations_raised: string[];
  reescalated: { id: string; level: number; severity: string }[];
  released: { molecule: string; step: string; attempt: number; agent: string }[];
  agents: AgentReport[];
  deliveries?: Pick<DeliverResult, 'delivered' | 'failed' | 'retrying'>;
  written: string[];
  commits: string[];
  problems: { molecule?: string; file?: string; message: string }[];
}

/** Molecules worth judging for the engine's own escalations: a timed-out fact, or gate reports. */
function escalationCandidates(root: string, id: string, names: readonly string[]): boolean {
  if (names.includes('molecule.completed.toml') || names.includes('molecule.cancelled.toml')) return false;
  if (names.some((n) => n.endsWith('.timed-out.toml'))) return true;
  try {
    return readdirSync(join(moleculesDir(root), id, 'reports')).length > 0;
  } catch {
    return false;
  }
}

type Claim = { molecule: string; step: string; attempt: number };

interface MoleculeScan {
  /** Every molecule folder's id, as listMoleculeIds gives them. */
  ids: string[];
  blocked: BlockedMolecule[];
  claims: Claim[];
  /** The molecules judged for escalations. */
  candidates: string[];
  folderStats: Map<string, StampStat>;
}

/** The molecules among `candidates` that are blocked, each judged in full. */
async function blockedAmong(
  opts: PatrolOptions,
  config: GastownConfig,
  candidates: readonly string[],
): Promise<BlockedMolecule[]> {
  const { root, now } = opts;
  const blocked: BlockedMolecule[] = [];
  for (const id of candidates) {
    const { judgeMolecule } = await import('../engine/verdict.js');
    const { plan } = await judgeMolecule(id, { root, config, now });
    if (plan.status === 'blocked' && plan.blocks) blocked.push({ molecule: id, blocks: plan.blocks });
  }
  return blocked;
}

/**
 * One listing of every molecule's facts serves escalations and claims: open claims and whether
 * each is blocked, reusing the patrol cache's entry for a folder whose stamp has not moved.
 */
async function scanMolecules(
  opts: PatrolOptions,
  config: GastownConfig,
  eventStats: ReadonlyMap<string, StampStat>,
): Promise<MoleculeScan> {
  const { root } = opts;
  const claims: Claim[] = [];
  const candidates: string[] = [];
  const { data: cache, text } = readPatrolCache(root);
  const fresh: PatrolCacheFile['molecules'] = Object.create(null);
  // Wall-clock time, not the injected clock: stamps are about the file system's own times.
  const wall = Date.now();
  const window = stampWindow(opts.env);
  const folderStats = new Map<string, StampStat>();
  let reused = 0;
  // Concatenation, not path.join: this runs for every molecule.
  const base = `${moleculesDir(root)}/`;
  const { listMoleculeIds } = await import('../engine/io.js');
  const ids = listMoleculeIds(root);
  for (const id of ids) {
    const dir = base + id;
    const folder = stampStat(dir);
    const events = eventStats.get(id) ?? stampStat(`${dir}/${EVENTS}`);
    if (!folder || !events?.dir) continue;
    folderStats.set(id, folder);
    const stamp = entryStamp(folder, events, wall, window);
    const hit = stamp !== undefined ? cache.molecules[id] : undefined;
    const reuse = hit !== undefined && hit.stamp === stamp;
    const entry = reuse ? hit : readEntry(root, id, dir, stamp);
    if (reuse) reused++;
    if (!entry) continue;
    if (stamp !== undefined) fresh[id] = entry;
    claims.push(...entry.claims);
    if (entry.candidate) candidates.push(id);
  }
  // Every entry reused and none gone: the file holds this already, so it is not serialised.
  const kept = Object.keys(fresh).length;
  const unchanged = text !== undefined && reused === kept && kept === Object.keys(cache.molecules).length;
  cache.molecules = fresh;
  if (!unchanged) writePatrolCache(root, cache, text);
  return { ids, blocked: await blockedAmong(opts, config, candidates), claims, candidates, folderStats };
}

/** A molecule's cache entry from its events folder; undefined when the folder cannot be listed. */
function readEntry(
  root: string,
  id: string,
  dir: string,
  stamp: string | undefined,
): PatrolEntry | undefined {
  let names: string[];
  try {
    names = readdirSync(join(dir, EVENTS));
  } catch {
    return undefined;
  }
  return {
    stamp: stamp ?? '',
    claims: openClaims(id, names),
    candidate: escalationCandidates(root, id, names),
  };
}

/**
 * Agents: who holds what, and how long since each was heard from. A zombie's claims are reopened;
 * the files that wrote go to `written`.
 */
async function patrolAgents(
  opts: PatrolOptions,
  config: GastownConfig,
  claims: readonly Claim[],
  out: PatrolResult,
  written: string[],
): Promise<void> {
  const { root, now } = opts;
  const beats = readHeartbeats(root);
  const ps = patrolSettings(config);
  const byAgent = new Map<string, AgentReport>();
  const report = (agent: string): AgentReport => {
    let r = byAgent.get(agent);
    if (!r) {
      const at = beats.get(agent);
      r = {
        agent,
        state: agentState(at, now.getTime(), ps),
        ...(at !== undefined ? { last_heartbeat: new Date(at).toISOString() } : {}),
        claims: [],
      };
      byAgent.set(agent, r);
    }
    return r;
  };
  for (const agent of beats.keys()) report(agent);
  const released: typeof out.released = [];
  // The engine loads only when someone holds a step.
  const engine = claims.length > 0 ? await import('../engine/molecules.js') : undefined;
  for (const c of claims) {
    if (!engine) break;
    const { recordStepLocked, stepActor } = engine;
    const agent = stepActor(root, c.molecule, c.step);
    if (agent === undefined) continue;
    const r = report(agent);
    r.claims.push(c);
    if (r.state !== 'zombie') continue;
    const last = r.last_heartbeat as string;
    const reason = `released by patrol: ${agent} holds it and was last heard from at ${last} (zombie after ${ps.zombieAfterMs / 60000}m)`;
    const rec = await recordStepLocked(root, c.molecule, c.step, 'reopen', { reason, now }, config);
    out.transitions.push(...rec.transitions);
    out.problems.push(...rec.problems);
    written.push(...rec.written);
    released.push({ ...c, agent });
  }
  out.released.push(...released);
  out.agents.push(...[...byAgent.values()].sort((a, b) => (a.agent < b.agent ? -1 : 1)));
}

type Advanced = Awaited<ReturnType<typeof advanceLocked>>;

/**
 * The engine's own escalations raised for blocked molecules, and open ones re-escalated when
 * due. The escalation and mail code loads only when a molecule is blocked or an escalation
 * folder exists: with neither there is nothing to raise or re-escalate.
 */
async function escalations(
  root: string,
  config: GastownConfig,
  now: number,
  blocked: readonly BlockedMolecule[],
): Promise<PatrolEscalations> {
  if (blocked.length === 0 && !hasEntries(join(root, ESCALATIONS_DIR)))
    return { raised: [], reescalated: [], written: [] };
  const [{ planAutoEscalations }, { escalateDue }] = await Promise.all([
    import('../escalation/plan.js'),
    import('../escalation/store.js'),
  ]);
  return escalateDue(root, config, now, planAutoEscalations(blocked, escalationSettings(config)));
}

function hasEntries(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

/** The engine's commit of what advance and released claims wrote to molecules. */
async function commitMolecules(
  root: string,
  config: GastownConfig,
  adv: Advanced,
  written: string[],
  out: PatrolResult,
): Promise<void> {
  const { commitTransitions } = await import('../triggers/commit.js');
  const { triggerSettings } = await import('../triggers/settings.js');
  const made = await commitTransitions(
    root,
    { ...adv, transitions: out.transitions as never, written },
    {
      ...triggerSettings(config),
      commit: true,
    },
  );
  if (made.commit) out.commits.push(made.commit);
  for (const h of made.held ?? [])
    out.problems.push({ molecule: h.molecule, message: `not committed: ${h.reason}` });
}

/** Patrol's own commit: convoys landed and escalations raised or re-escalated, one trailer each. */
async function commitPatrolOwn(
  root: string,
  config: GastownConfig,
  own: string[],
  out: PatrolResult,
): Promise<void> {
  const lines = [
    ...out.convoys_landed.map((id) => `Gastown-Convoy: ${id} landed`),
    ...out.escalations_raised.map((id) => `Gastown-Escalation: ${id} raised`),
    ...out.reescalated.map((r) => `Gastown-Escalation: ${r.id} re-escalated ${r.level} ${r.severity}`),
  ];
  const subject = `gastown: patrol: ${[
    out.convoys_landed.length ? `${out.convoys_landed.length} convoy(s) landed` : '',
    out.escalations_raised.length ? `${out.escalations_raised.length} escalation(s) raised` : '',
    out.reescalated.length ? `${out.reescalated.length} re-escalated` : '',
  ]
    .filter(Boolean)
    .join(', ')}`;
  const { commitOwn } = await import('./commit.js');
  const made = await commitOwn(root, config, own, `${subject}\n\n${lines.join('\n')}\n`, 'engine');
  if (made.commit) out.commits.push(made.commit);
}

/** How this run looked before the lock: the quiet check's verdict, or the head that stands for it. */
interface Before {
  /** The quiet check's verdict, taken before the lock. */
  quiet?: QuietVerdict;
  /** The quiet check's stats of each events/ folder. */
  eventStats?: ReadonlyMap<string, StampStat>;
  /** The head whose stats the probe matched: it answers for the quiet check, scan and landing. */
  head?: PatrolHead;
  /** The probe taken before anything was read, and the head it was taken with. */
  probe: Probe;
  probedWith?: PatrolHead;
}

/** The molecules scanned and the convoys that may land, from the files or from the head. */
async function scanAndLand(
  opts: PatrolOptions,
  config: GastownConfig,
  before: Before,
): Promise<{ blocked: BlockedMolecule[]; claims: Claim[]; landing: LandingOutcome }> {
  const { root } = opts;
  const nothing: LandingOutcome = { landed: [], written: [], problems: [] };
  if (before.head) {
    const { claims, candidates } = before.head;
    return { blocked: await blockedAmong(opts, config, candidates), claims, landing: nothing };
  }
  // With nothing to advance, the quiet check's stats of each events/ folder are still current.
  const scan = await scanMolecules(opts, config, before.eventStats ?? new Map());
  // The engine (convoy/store.ts) loads only when a convoy may land.
  const statOf = (id: string) => scan.folderStats.get(id);
  const { landingCandidates } = await import('../convoy/read.js');
  const found = landingCandidates(root, statOf, scan.ids);
  const landing: LandingOutcome =
    found.candidates.length > 0
      ? await (await import('../convoy/store.js')).landConvoysLocked(root, config, statOf, found)
      : { ...nothing, problems: found.problems };
  if (before.quiet && found.candidates.length === 0 && found.problems.length === 0)
    recordHead(opts, before, before.quiet, scan);
  return { blocked: scan.blocked, claims: scan.claims, landing };
}

/**
 * Keeps what a quiet run found under the probe taken before it read anything, when every stat of
 * it is older than the stamp window. A probe taken over other whole-folder paths than the
 * summaries watch now vouches for nothing: the head then keeps the new paths only, for the next
 * run's probe.
 */
function recordHead(opts: PatrolOptions, before: Before, quiet: QuietVerdict, scan: MoleculeScan): void {
  const watched: Record<string, string[]> = Object.create(null);
  for (const [id, paths] of quiet.watched) watched[id] = [...paths];
  const sameWatch = sameWatched(before.probedWith?.watched ?? {}, watched);
  const settled = newestCtime(before.probe.bytes) <= Date.now() - (stampWindow(opts.env) ?? STAMP_WINDOW_MS);
  const vouches = sameWatch && settled;
  writePatrolHead(
    opts.root,
    {
      v: 1,
      planners: plannersNow(),
      ...(vouches ? { stats: before.probe.count } : {}),
      ...(quiet.due !== undefined ? { due: quiet.due } : {}),
      watched,
      claims: scan.claims,
      candidates: scan.candidates,
    },
    vouches ? before.probe : undefined,
  );
}

function sameWatched(
  a: Readonly<Record<string, readonly string[]>>,
  b: Readonly<Record<string, string[]>>,
): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const id of ka) {
    const pa = a[id] as readonly string[];
    const pb = b[id];
    if (!pb || pa.length !== pb.length || pa.some((p, i) => p !== pb[i])) return false;
  }
  return true;
}

async function locked(
  opts: PatrolOptions,
  before: Before,
  config: GastownConfig,
  out: PatrolResult,
): Promise<void> {
  const { root, now } = opts;
  // Nothing changed since the last reconcile (the quiet check `advance` uses, or the head that
  // stands for it, taken before the lock): advance would do nothing, so it is not loaded.
  const adv: Advanced =
    before.quiet || before.head
      ? { transitions: [], written: [], problems: [] }
      : await (await import('../engine/advance.js')).advanceLocked({
          root,
          now,
          catchUp: true,
          // The stamp window `advance` takes from the same environment.
          ...(stampWindow(opts.env) !== undefined ? { stampWindowMs: stampWindow(opts.env) } : {}),
        });
  out.transitions.push(...adv.transitions);
  out.problems.push(...adv.problems);
  const written = [...adv.written];

  const { blocked, claims, landing } = await scanAndLand(opts, config, before);
  out.convoys_landed.push(...landing.landed);
  out.problems.push(...landing.problems);
  const own = [...landing.written];
  const esc = await escalations(root, config, now.getTime(), blocked);
  out.escalations_raised.push(...esc.raised.map((r) => r.id));
  out.reescalated.push(...esc.reescalated.map((r) => ({ id: r.id, level: r.level, severity: r.severity })));
  own.push(...esc.written);

  await patrolAgents(opts, config, claims, out, written);

  out.written.push(...written, ...own);
  if (!opts.commit) return;
  if (written.length > 0 || adv.transitions.length > 0)
    await commitMolecules(root, config, adv, written, out);
  if (own.length > 0) await commitPatrolOwn(root, config, own, out);
}

/**
 * The head answers for the quiet check, the scan and the landing when the probe, taken before
 * anything was read, matches its stats, its due time has not come, and the repository is as the
 * quiet check needs it (no lock, no git operation, nothing to catch up or announce).
 */
function headAnswers(opts: PatrolOptions, known: KnownHead | undefined, p: Probe): PatrolHead | undefined {
  if (!known || !sameProbe(known, p)) return undefined;
  const { head } = known;
  if (head.due !== undefined && opts.now.getTime() >= head.due) return undefined;
  return quietSurroundings(opts.root) ? head : undefined;
}

export async function patrol(opts: PatrolOptions): Promise<PatrolResult> {
  const config = loadConfig(opts.root);
  // Settings first: a malformed section stops the run before anything is written.
  escalationSettings(config);
  patrolSettings(config);
  const out: PatrolResult = {
    transitions: [],
    convoys_landed: [],
    escalations_raised: [],
    reescalated: [],
    released: [],
    agents: [],
    written: [],
    commits: [],
    problems: [],
  };
  // The probe first: every stat the head vouches with is taken before anything is read.
  const known = readPatrolHead(opts.root);
  const p = probe(opts.root, known?.head.watched ?? {});
  const head = headAnswers(opts, known, p);
  if (head) countPatrolHead();
  let before: Before = { head, probe: p, ...(known ? { probedWith: known.head } : {}) };
  if (!head) {
    const eventStats = new Map<string, StampStat>();
    const quiet = quietCheck(opts.root, opts.now.getTime(), eventStats);
    before = { ...before, ...(quiet ? { quiet, eventStats } : {}) };
  }
  // With nobody's step held, nothing to judge for escalations and no escalation open, the run
  // from the head writes nothing: the lock (which the probe found free) guards nothing then.
  if (
    head &&
    head.claims.length === 0 &&
    head.candidates.length === 0 &&
    !hasEntries(join(opts.root, ESCALATIONS_DIR))
  )
    await locked(opts, before, config, out);
  else await withLock(opts.root, opts.lockWaitMs, () => locked(opts, before, config, out));
  if (notificationEndpoints(config).length > 0) {
    const { deliverPending } = await import('../notify/deliver.js');
    const r = await deliverPending(opts.root, config, { env: opts.env ?? commandEnv() });
    out.deliveries = { delivered: r.delivered, failed: r.failed, retrying: r.retrying };
  }
  return out;
}
