// advance: reconcile every molecule once (and apply a commit's trailers first). Idempotent:
// a second run in a row writes nothing.
import { type Dirent, existsSync, mkdirSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { GastownError } from '../errors.js';
import { createFileExclusive } from '../store/atomic.js';
import {
  configStamp,
  eventsKey,
  gitOperationInProgress,
  hashKey,
  type KeyScope,
  moleculeKeyLines,
  moleculeKeyLinesOf,
  moleculeStamp,
  readSummaries,
  type SummaryFile,
  stampIsSettled,
  statFolder,
  writeSummaries,
} from '../store/cache.js';
import { identityForEmail, loadConfig } from '../store/config.js';
import { isMoleculeId } from '../store/ids.js';
import { DIGEST_FILE, EVENTS, findRoot, moleculesDir, parseEventName } from '../store/layout.js';
import { checkBeadsPath } from '../store/links.js';
import { markUnfinishedRun, withLock } from '../store/lock.js';
import type { GastownConfig } from '../store/types.js';
import type { Problem } from './apply.js';
import { CommitView } from './atcommit.js';
import {
  alreadyRecorded,
  commitsToCatchUp,
  commitTime,
  ignoredTrailerPath,
  mustRecordVerdict,
  NO_MOLECULE,
  notApplicableNow,
  renderIgnoredTrailer,
  type TrailerCommit,
} from './catchup.js';
import { formulaNeedsPlugins, registrySignature } from './gates.js';
import {
  COMPLETED_EVENT_NAME,
  fileMoleculeStatus,
  isMoleculeCompleted,
  listEvents,
  listMoleculeIds,
  moleculeExists,
  moleculeFolderProblem,
  moleculeRelDir,
  readMoleculeFiles,
} from './io.js';
import { recordStepLocked, type StepAction } from './molecules.js';
import { type ReconcileOutcome, reconcileMolecule } from './reconcile.js';
import { type Shape, SharedVerdicts } from './shapes.js';
import { isStopped, safePoint } from './stop.js';
import { formatTrailer, parseTrailers, type Trailer } from './trailers.js';
import type { MoleculeState, MoleculeStatus, Transition } from './types.js';

export interface AdvanceOptions {
  root: string;
  now: Date;
  dryRun?: boolean;
  fromCommit?: string;
  /**
   * `fromCommit` as the caller already read it (the post-commit hook reads HEAD once for its
   * scope); used only when its `sha` is the full id given as `fromCommit`.
   */
  commitRecord?: TrailerCommit | undefined;
  molecules?: string[];
  lockWaitMs?: number;
  onTransition?: (t: Transition) => void;
  /**
   * Let molecules of one shape share a verdict on a cold start (shapes.ts). Default true; tests
   * turn it off to check that both ways give the same result.
   */
  shareVerdicts?: boolean;
  /** How old a folder's last change must be for its stamp to be recorded (store/cache.ts). */
  stampWindowMs?: number;
  /**
   * Also apply the trailers of commits since this clone's last catch-up that no fact records
   * (catchup.ts): commits no hook saw. Plain `advance` and `advance --ci` set it; hooks do not.
   */
  catchUp?: boolean;
  /**
   * `fromCommit` is a commit seen before in another form (merged in, rewritten by a rebase):
   * its trailers are applied only where catchup.ts `alreadyHandled` says nothing handled them.
   */
  replayed?: boolean;
  /** With `replayed`: the commit `fromCommit` was rewritten from (a rebase's old id)… */
  replayedFrom?: string;
  /** …and every commit that rebase rewrote, new id → old id. */
  rewrites?: ReadonlyMap<string, string>;
  /**
   * Molecules the caller folded from their files (and wrote to, both on disk and in the state's
   * files): reconciled from that state, not read and folded again (`checkpoint approve`).
   */
  folded?: ReadonlyMap<string, MoleculeState> | undefined;
  /** Each molecule's outcome once it is reconciled in this run. */
  onOutcome?(id: string, outcome: ReconcileOutcome): void;
  /**
   * Stop at the next safe point once aborted (`watch` on SIGINT/SIGTERM): the run throws
   * stop.ts's error, and what it applied so far is whole facts the next run builds on.
   */
  signal?: AbortSignal;
}

export interface AdvanceResult {
  transitions: Transition[];
  written: string[];
  problems: { molecule?: string; file?: string; message: string }[];
  /**
   * Trailers of commits seen again (a catch-up, a merge, a rebase) that did not apply, and why;
   * absent when there are none. Trailers already applied are not listed.
   */
  skippedTrailers?: SkippedTrailer[];
  /**
   * How many molecules the cache answered for without reading them: by their `events/` folder's
   * stamp (one stat) or by their content key (a listing). Absent on a dry run (no cache).
   */
  unchanged?: { stamp: number; key: number };
}

export interface SkippedTrailer {
  commit: string;
  /** As written: `Gastown-Done: m1/merge`. */
  trailer: string;
  reason: string;
}

export async function advance(opts: AdvanceOptions): Promise<AdvanceResult> {
  const root = findRoot(opts.root);
  checkMoleculeIds(opts);
  const run = () => advanceIn(root, opts);
  if (opts.dryRun) return run();
  return withLock(root, opts.lockWaitMs, async () => {
    try {
      return await run();
    } catch (err) {
      // Facts a stopped run wrote go into the next engine commit, as a dead run's do.
      if (isStopped(err)) markUnfinishedRun(root);
      throw err;
    }
  });
}

/** advance for a caller that already holds the lock (the lock is not reentrant). */
export async function advanceLocked(opts: AdvanceOptions): Promise<AdvanceResult> {
  const root = findRoot(opts.root);
  checkMoleculeIds(opts);
  return advanceIn(root, opts);
}

async function advanceIn(root: string, opts: AdvanceOptions): Promise<AdvanceResult> {
  // Before any stat of this run (see stampIsSettled); the real clock, as file times are.
  const runStartMs = Date.now();
  // Stat before read: a change in between leaves a stamp that will not match.
  const configStamped = configStamp(root, runStartMs, opts.stampWindowMs);
  const config = loadConfig(root);
  const result: AdvanceResult = { transitions: [], written: [], problems: [] };
  const read = opts.fromCommit !== undefined ? await readCommitRecord(root, opts) : undefined;
  const given =
    read && opts.replayedFrom
      ? { ...read, origin: opts.replayedFrom, ...(opts.rewrites ? { rewrites: opts.rewrites } : {}) }
      : read;
  const catchUp = opts.catchUp ? await commitsToCatchUp(root) : undefined;
  const simulated: Simulated = new Map();
  // Molecules a trailer reconciled in this run: reconcileAll takes their outcome as it is.
  const reconciled: Reconciled = new Map();
  if (catchUp) {
    const folded = new Map<string, MoleculeState>();
    for (const c of catchUp.commits) {
      if (opts.signal) await safePoint(opts.signal);
      if (c.sha !== given?.sha)
        await applyTrailersOf(root, c, opts, config, result, { simulated, reconciled }, folded);
    }
  }
  if (given)
    await applyTrailersOf(
      root,
      given,
      opts,
      config,
      result,
      { simulated, reconciled },
      opts.replayed ? new Map() : undefined,
    );
  await reconcileAll(
    root,
    opts,
    config,
    result,
    { runStartMs, config: configStamped },
    { simulated, reconciled },
  );
  if (!opts.dryRun) catchUp?.done();
  return result;
}

function checkMoleculeIds(opts: AdvanceOptions): void {
  for (const id of opts.molecules ?? []) {
    if (!isMoleculeId(id))
      throw new GastownError('usage', `invalid molecule id ${JSON.stringify(id)}`, { exitCode: 2 });
  }
}

/** `fromCommit` as git has it (or as the hook already read it). */
async function readCommitRecord(root: string, opts: AdvanceOptions): Promise<TrailerCommit> {
  const sha = opts.fromCommit as string;
  if (!/^[0-9a-zA-Z_./~^@{}-]+$/.test(sha) || sha.startsWith('-'))
    throw new GastownError('usage', `invalid commit ${JSON.stringify(sha)}`, { exitCode: 2 });
  const known = opts.commitRecord?.sha === sha ? opts.commitRecord : undefined;
  if (known) return known;
  const { git } = await import('../git/exec.js');
  const log = await git(['log', '-1', '--format=%H%n%an%n%ae%n%ct%n%B', sha, '--'], {
    cwd: root,
    allowFailure: true,
  });
  if (log.exitCode !== 0)
    throw new GastownError('git.commit', `cannot read commit ${sha}: ${log.stderr.trim()}`);
  const [c = '', n = '', e = '', ct = '', ...body] = log.stdout.split('\n');
  return { sha: c, authorName: n, authorEmail: e, time: commitTime(ct), message: body.join('\n') };
}

/**
 * Applies one commit's action trailers. Each is judged as of its commit first (atcommit.ts), so
 * every clone gives it the same verdict. Given `caughtUp` (the molecules folded so far), the
 * commit is one seen again (a catch-up, a merge, a rebase): trailers already recorded are
 * passed over quietly, and one that cannot apply is skipped and listed in `skippedTrailers`;
 * otherwise every trailer that cannot apply is a problem.
 */
async function applyTrailersOf(
  root: string,
  c: TrailerCommit,
  opts: AdvanceOptions,
  config: GastownConfig,
  result: AdvanceResult,
  { simulated, reconciled }: RunMemory,
  caughtUp?: Map<string, MoleculeState>,
): Promise<void> {
  const by = identityForEmail(config, c.authorEmail) ?? (c.authorName || c.authorEmail);
  const actions: Record<string, StepAction> = { done: 'done', fail: 'fail', start: 'start' };
  const trailers = parseTrailers(c.message);
  const view = new CommitView({
    root,
    commit: c.sha,
    time: c.time ?? opts.now,
    config,
    current: (id) =>
      simulated.get(id)?.files ?? (moleculeExists(root, id) ? readMoleculeFiles(root, id) : undefined),
  });
  // Why each trailer that does not apply does not, reported in the order they are written.
  const failures = new Map<Trailer, string>();
  const judged: Trailer[] = [];
  for (const t of trailers) {
    if (caughtUp) {
      const why = alreadyRecorded(root, c, t, caughtUp);
      if (why !== undefined && mustRecordVerdict(why) && !opts.dryRun)
        result.written.push(...recordIgnoredTrailer(root, c, t, why));
      // A molecule removed since (burned) had its trailers applied back then: quiet.
      if (why === NO_MOLECULE && !(await view.files(t.molecule)))
        failures.set(t, `no molecule ${t.molecule}`);
      if (why !== undefined) continue;
    } else if (!isMoleculeId(t.molecule) || !moleculeExists(root, t.molecule)) {
      failures.set(t, `no molecule ${t.molecule}`);
      continue;
    }
    if (opts.molecules && !opts.molecules.includes(t.molecule)) continue;
    judged.push(t);
  }
  const refused = judged.length > 0 ? await view.refused(judged, by) : new Map<Trailer, string>();
  // Trailers the view left to this run (their molecule is as it was at the commit): refused
  // here, they are refused as of their commit, and said so.
  const asOfCommit = (t: Trailer, why: string) => (view.leftToRun.has(t) ? `as of that commit, ${why}` : why);
  let pending: Trailer[] = [];
  for (const t of judged) {
    const why = refused.get(t) ?? (caughtUp ? await notApplicableNow(root, c, t, caughtUp) : undefined);
    if (why === undefined) pending.push(t);
    else {
      failures.set(t, why);
      if (mustRecordVerdict(why) && !opts.dryRun)
        result.written.push(...recordIgnoredTrailer(root, c, t, why));
    }
  }
  // One commit may name steps in any order (`Done: implement` above `Done: design`): a trailer
  // that cannot apply yet is tried again after the others, as long as some trailer applied.
  for (let progress = true; progress && pending.length > 0; ) {
    progress = false;
    const later: Trailer[] = [];
    for (const t of pending) {
      try {
        const earlier = simulated.get(t.molecule);
        const r = await recordStepLocked(
          root,
          t.molecule,
          t.step,
          actions[t.kind] as StepAction,
          {
            as: by,
            commit: c.sha,
            now: opts.now,
            ...(opts.dryRun
              ? { dryRun: true, files: earlier?.files ?? readMoleculeFiles(root, t.molecule) }
              : {}),
          },
          config,
        );
        // A dry run goes on from the simulated files; reconcileAll leaves this molecule alone.
        if (opts.dryRun) simulated.set(t.molecule, { files: r.files, status: r.status });
        else reconciled.set(t.molecule, r.outcome);
        caughtUp?.delete(t.molecule); // its files changed
        for (const tr of r.transitions) opts.onTransition?.(tr);
        result.transitions.push(...r.transitions);
        result.written.push(...r.written);
        if (r.transitions.length > 0) progress = true;
        failures.delete(t);
      } catch (err) {
        if (!(err instanceof GastownError)) throw err;
        failures.set(t, asOfCommit(t, err.message));
        later.push(t);
      }
    }
    pending = later;
  }
  for (const t of trailers) {
    const why = failures.get(t);
    if (why === undefined) continue;
    if (caughtUp)
      (result.skippedTrailers ??= []).push({ commit: c.sha, trailer: formatTrailer(t), reason: why });
    else
      result.problems.push({
        ...(moleculeExists(root, t.molecule) ? { molecule: t.molecule } : {}),
        message: `trailer ${formatTrailer(t)} in ${c.sha.slice(0, 12)}: ${why}`,
      });
  }
}

/** Writes `trailers/<commit>.toml` once; returns the repo-relative path when it wrote it. */
function recordIgnoredTrailer(root: string, c: TrailerCommit, t: Trailer, why: string): string[] {
  const rel = ignoredTrailerPath(c.sha);
  const path = checkBeadsPath(root, join(moleculesDir(root), t.molecule, rel));
  mkdirSync(dirname(path), { recursive: true });
  const outcome = createFileExclusive(path, renderIgnoredTrailer(c, t, why));
  return outcome === 'written' ? [`${moleculeRelDir(t.molecule)}/${rel}`] : [];
}

/**
 * Reconciles each molecule once; a molecule blocked on one (`after`) that completed during
 * this run is reconciled again, so a chain settles in one run.
 */
async function reconcileAll(
  root: string,
  opts: AdvanceOptions,
  config: GastownConfig,
  result: AdvanceResult,
  stamps: RunStamps,
  { simulated, reconciled }: RunMemory,
): Promise<void> {
  const notFolders = new Map<string, string>();
  const ids = opts.molecules ?? listMoleculeIds(root, notFolders);
  const finalStatus = new Map<string, MoleculeStatus>();
  const fromFiles = fileMoleculeStatus(root);
  const moleculeStatus = (id: string) => finalStatus.get(id) ?? fromFiles(id);
  const waitingOn = new Map<string, string>();
  const cache = openCache(root, config, opts, stamps);
  const base = `${moleculesDir(root)}/`;
  const nowMs = opts.now.getTime();
  const share = cache !== undefined && opts.shareVerdicts !== false;
  // Made on the first molecule a warm cache cannot answer for.
  let verdicts: SharedVerdicts | undefined;
  const reconcileOne = async (id: string, listedEvents?: Dirent[], shape?: Shape) => {
    const folded = opts.folded?.get(id);
    const r = await reconcileMolecule(
      id,
      {
        root,
        now: opts.now,
        config,
        dryRun: opts.dryRun ?? false,
        moleculeStatus,
        trustSettledFacts: !folded && (cache?.neverSeen(id) ?? false),
        listedEvents,
        signal: opts.signal,
        onTransition: opts.onTransition,
      },
      folded?.files as Map<string, string> | undefined,
      { state: folded },
    );
    return settle(id, r, shape);
  };
  /** Takes one molecule's outcome: its status for the others, its summary, its problems. */
  const settle = (id: string, r: ReconcileOutcome, shape?: Shape, seen = false) => {
    opts.onOutcome?.(id, r);
    finalStatus.set(id, r.plan.status);
    const after = r.state.meta?.after;
    if (r.plan.waitingFor) waitingOn.set(id, r.plan.waitingFor);
    else waitingOn.delete(id);
    // What a trailer's reconcile wrote is in the result already.
    if (!seen) {
      result.transitions.push(...r.transitions);
      result.written.push(...r.written);
    }
    cache?.record(id, r, after ? moleculeStatus(after) === 'completed' : undefined);
    if (shape) verdicts?.learn(shape, r, cache?.summaryOf(id));
    return r.problems;
  };
  const problems: Problem[] = [];
  for (const id of ids) {
    if (opts.signal) await safePoint(opts.signal);
    const done = simulated.get(id);
    if (done) {
      finalStatus.set(id, done.status);
      continue;
    }
    // Reconciled to its fixpoint after its trailer, in this run: not folded again.
    const outcome = reconciled.get(id);
    if (outcome) {
      problems.push(...settle(id, outcome, undefined, true));
      continue;
    }
    if (opts.molecules && !moleculeExists(root, id)) {
      problems.push({ molecule: id, message: `no molecule ${id}` });
      continue;
    }
    // Folded by the caller, who changed it: reconciled from that state, whatever the cache says.
    if (opts.folded?.has(id)) {
      problems.push(...(await reconcileOne(id)));
      continue;
    }
    // A link in the molecule's place is never followed: reported, and nothing is written.
    const odd = opts.molecules ? moleculeFolderProblem(root, id) : notFolders.get(id);
    if (odd !== undefined) {
      finalStatus.set(id, 'invalid');
      problems.push({ molecule: id, file: moleculeRelDir(id), message: odd });
      continue;
    }
    const hit = cache?.lookup(id, nowMs, moleculeStatus);
    if (hit) {
      finalStatus.set(id, hit as MoleculeStatus);
      continue;
    }
    // A molecule this clone never saw (a cold start): one listing of events/ says whether it
    // completed and is reused to read it, instead of two stats and a second listing.
    // No stat for a stamp here: 1,000 of them are ~8 ms of a cold run, and the next run, which
    // lists each folder anyway to check its key, records the stamps.
    const listed = cache?.neverSeen(id) ? listEvents(root, id) : undefined;
    const completed = listed
      ? listed.some((e) => e.name === COMPLETED_EVENT_NAME) || existsSync(`${base}${id}/${DIGEST_FILE}`)
      : isMoleculeCompleted(root, id);
    // A completed molecule never gets another effect: with no cache entry, check only that its
    // fact names do not contradict each other instead of reading every file.
    if (completed && cache?.recordCompleted(id, listed)) {
      finalStatus.set(id, 'completed');
      continue;
    }
    finalStatus.set(id, completed ? 'completed' : 'active');
    const shape =
      listed && !completed && share ? (verdicts ??= new SharedVerdicts(root)).shapeOf(id, listed) : undefined;
    const shared = shape && verdicts?.reuse(id, shape);
    if (shared && cache?.adopt(id, shared)) {
      finalStatus.set(id, shared.state as MoleculeStatus);
      continue;
    }
    problems.push(...(await reconcileOne(id, listed, shape)));
  }
  // A molecule is planned again once, when the molecule it waits for completed in this run: a
  // chain settles in one run, and a block its `after` did not cause never loops.
  const replanned = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [id, other] of waitingOn) {
      if (finalStatus.get(other) !== 'completed') continue;
      waitingOn.delete(id);
      if (replanned.has(id)) continue;
      replanned.add(id);
      changed = true;
      // Only problems of the final pass are reported for this molecule.
      for (let i = problems.length - 1; i >= 0; i--) if (problems[i]?.molecule === id) problems.splice(i, 1);
      problems.push(...(await reconcileOne(id)));
    }
  }
  result.problems.push(...problems);
  if (cache) result.unchanged = cache.counts;
  cache?.save();
}

/** A dry run's molecules that trailers changed in memory: their files and status after it. */
type Simulated = Map<string, { files: Map<string, string>; status: MoleculeStatus }>;
/** A real run's molecules that trailers reconciled, by id: their outcome after the last one. */
type Reconciled = Map<string, ReconcileOutcome>;
interface RunMemory {
  simulated: Simulated;
  reconciled: Reconciled;
}

interface RunStamps {
  runStartMs: number;
  /** configStamp taken before the config was read; undefined when too recent to record. */
  config: string | undefined;
}

/**
 * Summaries of quiet molecules keyed by content (docs/state.md, ".cache/summaries.json"):
 * a molecule whose files, config, plugins and `after` molecule are unchanged and whose last plan
 * was empty is skipped after one readdir, or one stat when its `events/` folder's stamp is the
 * one recorded with the key (store/cache.ts, statStamp), without parsing anything.
 */
function openCache(root: string, config: GastownConfig, opts: AdvanceOptions, stamps: RunStamps) {
  if (opts.dryRun) return undefined;
  const { data: file, text } = readSummaries(root);
  // What this run learned. A run over some molecules keeps the others' summaries: they are
  // merged into the file's object when saving (copying 1,000 entries up front cost ~5 ms).
  const fresh: SummaryFile = { version: file.version, molecules: {} };
  const dropped = new Set<string>();
  const counts = { stamp: 0, key: 0 };
  // A no-op run over an unchanged cache rewrites nothing; skip even serialising it then.
  let hits = 0;
  let touched = false;
  // Mid-merge, files can change under the same names: look at everything.
  const trustNames = !gitOperationInProgress(root);
  const salt = `${config.hash}|${registrySignature()}`;
  fresh.salt = salt;
  if (stamps.config !== undefined) fresh.config = { stamp: stamps.config, hash: config.hash };
  // Stamps recorded under another config or plugin set vouch for keys salted differently.
  const stampsHold = file.salt === salt;
  const { runStartMs } = stamps;
  // Stats of `events/` taken before a molecule was read, for the summary its reconcile records.
  const taken = new Map<string, Stats>();
  const stampOf = (id: string, afterCompleted: boolean | undefined): string | undefined => {
    const st = taken.get(id);
    taken.delete(id);
    if (!st || !stampIsSettled(st, runStartMs, opts.stampWindowMs)) return undefined;
    return moleculeStamp(st, afterCompleted);
  };
  // Built once: path.join per molecule shows up in the no-op profile.
  const base = `${moleculesDir(root)}/`;
  const saltOf = (scope: KeyScope, afterCompleted: boolean | undefined) =>
    `${scope}|${salt}|${afterCompleted === undefined ? '' : String(afterCompleted)}`;
  const keyOf = (lines: string[], scope: KeyScope, afterCompleted: boolean | undefined) =>
    hashKey(lines, saltOf(scope, afterCompleted));
  return {
    /**
     * No summary of this molecule was ever recorded here (a fresh clone, a deleted cache) and
     * git is not mid-operation: its settled history may be taken by name (reconcile.ts).
     */
    neverSeen(id: string): boolean {
      return trustNames && file.molecules[id] === undefined;
    },
    lookup(
      id: string,
      nowMs: number,
      statusOf: (id: string) => MoleculeStatus | undefined,
    ): string | undefined {
      const s = file.molecules[id];
      if (!trustNames || !s?.quiet || (s.recheckAt !== undefined && nowMs >= s.recheckAt)) return undefined;
      const scope: KeyScope = s.events ? 'events' : 'all';
      const after = s.after;
      const afterCompleted = after === undefined ? undefined : statusOf(after) === 'completed';
      // Stat first, list second: a change after the stat leaves a stamp that will not match.
      const st = scope === 'events' ? statFolder(`${base}${id}/${EVENTS}`) : undefined;
      const stamp = st && moleculeStamp(st, afterCompleted);
      if (stamp !== undefined && stampsHold && s.stamp === stamp) {
        fresh.molecules[id] = s;
        counts.stamp++;
        hits++;
        return s.state;
      }
      let key = scope === 'events' ? eventsKey(base + id, saltOf(scope, afterCompleted)) : undefined;
      if (key === undefined) {
        const lines = moleculeKeyLines(base + id, scope);
        if (lines === undefined) return undefined;
        key = keyOf(lines, scope, afterCompleted);
      }
      if (key !== s.key) {
        if (st) taken.set(id, st);
        return undefined;
      }
      counts.key++;
      const settled = st && stampIsSettled(st, runStartMs, opts.stampWindowMs) ? stamp : undefined;
      if (settled === s.stamp) {
        fresh.molecules[id] = s;
        hits++;
      } else {
        // Record (or drop) the stamp: the summary file changes, the summary does not.
        const { stamp: _old, ...rest } = s;
        fresh.molecules[id] = settled === undefined ? rest : { ...rest, stamp: settled };
        touched = true;
      }
      return s.state;
    },
    record(id: string, r: ReconcileOutcome, afterCompleted: boolean | undefined) {
      touched = true;
      if (r.plan.volatile || r.problems.length > 0) {
        delete fresh.molecules[id];
        dropped.add(id);
        return;
      }
      dropped.delete(id);
      const scope = keyScopeOf(r);
      // Facts written in this run are in r.state.files already, so the key is the folder's
      // content as the next run will see it.
      const summary: CachedSummary = {
        key: keyOf(moleculeKeyLinesOf(r.state.files, scope), scope, afterCompleted),
        state: r.plan.status,
        done: r.state.steps.filter((s) => s.status === 'done' || s.status === 'skipped').length,
        total: r.state.steps.length,
        quiet: r.plan.effects.length === 0,
      };
      if (r.plan.recheckAt !== undefined) summary.recheckAt = r.plan.recheckAt;
      if (r.state.meta?.after) summary.after = r.state.meta.after;
      if (scope === 'events') {
        summary.events = true;
        const stamp = stampOf(id, afterCompleted);
        if (stamp !== undefined) summary.stamp = stamp;
      }
      fresh.molecules[id] = summary;
    },
    /** Records a summary earned by another molecule of the same shape (shapes.ts). */
    adopt(id: string, summary: CachedSummary): boolean {
      if (!trustNames) return false;
      touched = true;
      // The stamp is this molecule's own, never the one of the molecule that earned the verdict.
      const { stamp: _theirs, ...rest } = summary;
      const stamp = stampOf(id, undefined);
      fresh.molecules[id] = stamp === undefined ? rest : { ...rest, stamp };
      return true;
    },
    summaryOf(id: string): CachedSummary | undefined {
      return fresh.molecules[id];
    },
    recordCompleted(id: string, listed?: Dirent[]): boolean {
      if (!trustNames) return false;
      // One readdir of events/ gives both the contradiction check and the key; a squashed
      // molecule (digest, no events/) is keyed by its whole folder.
      let scope: KeyScope = 'events';
      // A listing's lines are regular files only (eventKeyLines); others may mark an entry that is
      // not one (` !a directory`), which reconcile reports, as it does a name that is no fact.
      const fromListing = listed && eventKeyLines(listed);
      let lines = fromListing ?? moleculeKeyLines(base + id, scope);
      if (lines === undefined) {
        scope = 'all';
        lines = moleculeKeyLines(base + id, scope);
        if (lines === undefined) return false;
      }
      if (!fromListing && lines.some((l) => l.includes(' !'))) return false;
      if (hasContradictingNames(lines)) return false;
      touched = true;
      fresh.molecules[id] = {
        key: keyOf(lines, scope, undefined),
        state: 'completed',
        done: 0,
        total: 0,
        quiet: true,
        ...(scope === 'events' ? { events: true as const } : {}),
      };
      const stamp = scope === 'events' ? stampOf(id, undefined) : undefined;
      if (stamp !== undefined) (fresh.molecules[id] as CachedSummary).stamp = stamp;
      return true;
    },
    counts,
    save() {
      const same =
        file.salt === salt &&
        file.config?.stamp === fresh.config?.stamp &&
        file.config?.hash === fresh.config?.hash &&
        (opts.molecules ? !touched : !touched && hits === Object.keys(file.molecules).length);
      if (same && text !== undefined) return;
      let out = fresh;
      if (opts.molecules) {
        const molecules = file.molecules;
        for (const id of dropped) delete molecules[id];
        for (const id of Object.keys(fresh.molecules)) molecules[id] = fresh.molecules[id] as CachedSummary;
        out = { ...fresh, molecules };
      }
      try {
        writeSummaries(root, out, text);
      } catch {
        // The cache is an optimisation; failing to write it must not fail the reconcile.
      }
    },
  };
}

type CachedSummary = SummaryFile['molecules'][string];

/**
 * moleculeKeyLines(dir, 'events') from a listing already made: undefined (list again) when it
 * holds anything but regular files, which moleculeKeyLines would walk into.
 */
function eventKeyLines(listed: Dirent[]): string[] | undefined {
  const lines: string[] = [];
  for (const e of listed) {
    if (e.name.charCodeAt(0) === 46 /* . */) continue;
    if (!e.isFile()) return undefined;
    lines.push(`${EVENTS}/${e.name}`);
  }
  return lines;
}

/**
 * What a molecule's key must cover: only its event names when its plan reads nothing else (a
 * completed or cancelled molecule plans nothing; a formula with no gate, loop, on_complete or
 * condition plans from step states alone), else the whole folder. Problems in files the plan
 * does not read are not a reason to re-plan; `status`, `doctor` and pre-commit report them.
 */
function keyScopeOf(r: ReconcileOutcome): KeyScope {
  const { state, plan } = r;
  // A squashed molecule has no events/ folder to key on.
  if (state.digest) return 'all';
  if (plan.status === 'completed' || plan.status === 'cancelled') return 'events';
  return state.formula && !formulaNeedsPlugins(state.formula) ? 'events' : 'all';
}

/**
 * Judged by file names alone: two terminal facts (done/failed/skipped) for one step attempt, a
 * step whose newest attempt has none (a re-open merged into a completed molecule), or a name
 * that is no fact.
 */
function hasContradictingNames(lines: readonly string[]): boolean {
  const terminal = new Set<string>();
  const newest = new Map<string, number>();
  for (const line of lines) {
    if (!line.startsWith(`${EVENTS}/`)) continue;
    const e = parseEventName(line.slice(EVENTS.length + 1));
    if (e === undefined) return true; // no fact name at all: fold reports it
    if (e.scope !== 'step') continue;
    if ((newest.get(e.step) ?? 0) < e.attempt) newest.set(e.step, e.attempt);
    if (e.kind !== 'done' && e.kind !== 'failed' && e.kind !== 'skipped') continue;
    const key = `${e.step}.${e.attempt}`;
    if (terminal.has(key)) return true;
    terminal.add(key);
  }
  for (const [step, attempt] of newest) if (!terminal.has(`${step}.${attempt}`)) return true;
  return false;
}
