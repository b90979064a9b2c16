// advance: reconcile every molecule once (and apply a commit's trailers first). Idempotent:
// a second run in a row writes nothing.
import { type Dirent, existsSync } from 'node:fs';
import { GastownError } from '../errors.js';
import type { RewriteMap } from '../git/head.js';
import { configStamp } from '../store/cache.js';
import { loadConfig } from '../store/config.js';
import { isMoleculeId } from '../store/ids.js';
import { syncJournal } from '../store/journal.js';
import { DIGEST_FILE, findRoot, moleculesDir } from '../store/layout.js';
import { markUnfinishedRun, withLock } from '../store/lock.js';
import type { GastownConfig } from '../store/types.js';
import type { Problem } from './apply.js';
import {
  applyTrailersOf,
  type Reconciled,
  type RunMemory,
  type Simulated,
  type SkippedTrailer,
} from './apply-trailers.js';
import { commitsToCatchUp, commitTime, type TrailerCommit } from './catchup.js';
import { prefetchFacts } from './gates.js';
import {
  COMPLETED_EVENT_NAME,
  fileMoleculeStatus,
  isMoleculeCompleted,
  listEvents,
  listMoleculeIds,
  moleculeExists,
  moleculeFolderProblem,
  moleculeRelDir,
} from './io.js';
import { type ReconcileOutcome, reconcileMolecule } from './reconcile.js';
import { type Shape, SharedVerdicts } from './shapes.js';
import { isStopped, safePoint } from './stop.js';
import { openSummaries, type RunStamps, type SummaryStore } from './summaries.js';
import type { MoleculeState, MoleculeStatus, Transition } from './types.js';

export type { SkippedTrailer };

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
  /** With `replayed`: the rebase that rewrote `fromCommit`, if one did (every commit it rewrote). */
  rewrites?: RewriteMap;
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
  // Asked before any stat, so every change the answer misses comes after this run's stats.
  const journal = opts.dryRun ? undefined : await syncJournal(root);
  // Before any stat of this run (see stampIsSettled); the real clock, as file times are.
  const runStartMs = Date.now();
  // Stat before read: a change in between leaves a stamp that will not match.
  const configStamped = configStamp(root, runStartMs, opts.stampWindowMs);
  const config = loadConfig(root);
  const result: AdvanceResult = { transitions: [], written: [], problems: [] };
  const read = opts.fromCommit !== undefined ? await readCommitRecord(root, opts) : undefined;
  const given = read && opts.rewrites?.has(read.sha) ? { ...read, rewrites: opts.rewrites } : read;
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
    { runStartMs, config: configStamped, journal },
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
 * Reconciles each molecule once; a molecule blocked on one (`after`) that completed during
 * this run is reconciled again, so a chain settles in one run.
 */
async function reconcileAll(
  root: string,
  opts: AdvanceOptions,
  config: GastownConfig,
  result: AdvanceResult,
  stamps: RunStamps,
  memory: RunMemory,
): Promise<void> {
  const notFolders = new Map<string, string>();
  const ids = opts.molecules ?? listMoleculeIds(root, notFolders);
  const run = new ReconcileRun(root, opts, config, result, stamps, memory, notFolders);
  // A cold start: the facts of many molecules are read from git in one batch, begun now.
  if (run.cache && manyNeverSeen(ids, run.cache)) void prefetchFacts(root);
  for (const id of ids) {
    if (opts.signal) await safePoint(opts.signal);
    // Undefined when the molecule was settled without a reconcile: no promise per cache hit.
    const pending = run.take(id);
    if (pending) run.problems.push(...(await pending));
  }
  await run.replanAfterCompleted();
  result.problems.push(...run.problems);
  if (run.cache) result.unchanged = run.cache.counts;
  run.cache?.save();
}

// More molecules than this that the cache never saw: a cold start (gates/facts.ts then walks the
// history once instead of asking git per file).
const COLD_START = 32;
function manyNeverSeen(ids: readonly string[], cache: SummaryStore): boolean {
  let n = 0;
  for (const id of ids) if (cache.neverSeen(id) && ++n > COLD_START) return true;
  return false;
}

/** One reconcileAll run: the statuses, waits, summaries and shared verdicts it builds up. */
class ReconcileRun {
  readonly problems: Problem[] = [];
  readonly cache: SummaryStore | undefined;
  private readonly finalStatus = new Map<string, MoleculeStatus>();
  private readonly waitingOn = new Map<string, string>();
  private readonly fromFiles: (id: string) => MoleculeStatus | undefined;
  private readonly base: string;
  private readonly nowMs: number;
  private readonly share: boolean;
  private readonly simulated: Simulated;
  private readonly reconciled: Reconciled;
  // Made on the first molecule a warm cache cannot answer for.
  private verdicts: SharedVerdicts | undefined;

  constructor(
    private readonly root: string,
    private readonly opts: AdvanceOptions,
    private readonly config: GastownConfig,
    private readonly result: AdvanceResult,
    stamps: RunStamps,
    { simulated, reconciled }: RunMemory,
    private readonly notFolders: Map<string, string>,
  ) {
    this.simulated = simulated;
    this.reconciled = reconciled;
    this.fromFiles = fileMoleculeStatus(root);
    this.cache = openSummaries(root, config, opts, stamps);
    this.base = `${moleculesDir(root)}/`;
    this.nowMs = opts.now.getTime();
    this.share = this.cache !== undefined && opts.shareVerdicts !== false;
  }

  /** A bound arrow, made once: reconcile and the cache call it for every molecule. */
  readonly moleculeStatus = (id: string): MoleculeStatus | undefined =>
    this.finalStatus.get(id) ?? this.fromFiles(id);

  /**
   * Settles one molecule from what this run already knows (a simulation, a trailer's reconcile,
   * its summary, a completed listing, a shared verdict), else starts its reconcile.
   */
  take(id: string): Promise<Problem[]> | undefined {
    const { opts, root, cache, finalStatus, problems } = this;
    const done = this.simulated.get(id);
    if (done) {
      finalStatus.set(id, done.status);
      return undefined;
    }
    // Reconciled to its fixpoint after its trailer, in this run: not folded again.
    const outcome = this.reconciled.get(id);
    if (outcome) {
      problems.push(...this.settle(id, outcome, undefined, true));
      return undefined;
    }
    if (opts.molecules && !moleculeExists(root, id)) {
      problems.push({ molecule: id, message: `no molecule ${id}` });
      return undefined;
    }
    // Folded by the caller, who changed it: reconciled from that state, whatever the cache says.
    if (opts.folded?.has(id)) return this.reconcileOne(id);
    // A link in the molecule's place is never followed: reported, and nothing is written.
    const odd = opts.molecules ? moleculeFolderProblem(root, id) : this.notFolders.get(id);
    if (odd !== undefined) {
      finalStatus.set(id, 'invalid');
      problems.push({ molecule: id, file: moleculeRelDir(id), message: odd });
      return undefined;
    }
    const hit = cache?.lookup(id, this.nowMs, this.moleculeStatus);
    if (hit) {
      finalStatus.set(id, hit.state as MoleculeStatus);
      return undefined;
    }
    return this.takeUncached(id);
  }

  /** A molecule its summary does not vouch for: completed, shared or reconciled. */
  private takeUncached(id: string): Promise<Problem[]> | undefined {
    const { cache, finalStatus } = this;
    // A molecule this clone never saw (a cold start): one listing of events/ says whether it
    // completed and is reused to read it, instead of two stats and a second listing.
    // No stat for a stamp here: 1,000 of them are ~8 ms of a cold run, and the next run, which
    // lists each folder anyway to check its key, records the stamps.
    const listed = cache?.neverSeen(id) ? listEvents(this.root, id) : undefined;
    const completed = listed
      ? listed.some((e) => e.name === COMPLETED_EVENT_NAME) || existsSync(`${this.base}${id}/${DIGEST_FILE}`)
      : isMoleculeCompleted(this.root, id);
    // A completed molecule never gets another effect: with no cache entry, check only that its
    // fact names do not contradict each other instead of reading every file.
    if (completed && cache?.recordCompleted(id, listed)) {
      finalStatus.set(id, 'completed');
      return undefined;
    }
    finalStatus.set(id, completed ? 'completed' : 'active');
    const shape =
      listed && !completed && this.share
        ? (this.verdicts ??= new SharedVerdicts(this.root)).shapeOf(id, listed)
        : undefined;
    const shared = shape && this.verdicts?.reuse(id, shape);
    if (shared && cache?.adopt(id, shared)) {
      finalStatus.set(id, shared.state as MoleculeStatus);
      return undefined;
    }
    return this.reconcileOne(id, listed, shape);
  }

  /**
   * A molecule is planned again once, when the molecule it waits for completed in this run: a
   * chain settles in one run, and a block its `after` did not cause never loops.
   */
  async replanAfterCompleted(): Promise<void> {
    const { waitingOn, problems } = this;
    const replanned = new Set<string>();
    for (let changed = true; changed; ) {
      changed = false;
      for (const [id, other] of waitingOn) {
        if (this.finalStatus.get(other) !== 'completed') continue;
        waitingOn.delete(id);
        if (replanned.has(id)) continue;
        replanned.add(id);
        changed = true;
        // Only problems of the final pass are reported for this molecule.
        for (let i = problems.length - 1; i >= 0; i--)
          if (problems[i]?.molecule === id) problems.splice(i, 1);
        problems.push(...(await this.reconcileOne(id)));
      }
    }
  }

  private async reconcileOne(id: string, listedEvents?: Dirent[], shape?: Shape): Promise<Problem[]> {
    const { opts } = this;
    const folded = opts.folded?.get(id);
    const r = await reconcileMolecule(
      id,
      {
        root: this.root,
        now: opts.now,
        config: this.config,
        dryRun: opts.dryRun ?? false,
        moleculeStatus: this.moleculeStatus,
        trustSettledFacts: !folded && (this.cache?.neverSeen(id) ?? false),
        listedEvents,
        signal: opts.signal,
        onTransition: opts.onTransition,
      },
      folded?.files as Map<string, string> | undefined,
      { state: folded },
    );
    return this.settle(id, r, shape);
  }

  /** Takes one molecule's outcome: its status for the others, its summary, its problems. */
  private settle(id: string, r: ReconcileOutcome, shape?: Shape, seen = false): Problem[] {
    const { opts, cache, result } = this;
    opts.onOutcome?.(id, r);
    this.finalStatus.set(id, r.plan.status);
    const after = r.state.meta?.after;
    if (r.plan.waitingFor) this.waitingOn.set(id, r.plan.waitingFor);
    else this.waitingOn.delete(id);
    // What a trailer's reconcile wrote is in the result already.
    if (!seen) {
      result.transitions.push(...r.transitions);
      result.written.push(...r.written);
    }
    cache?.record(id, r, after ? this.moleculeStatus(after) === 'completed' : undefined);
    if (shape) this.verdicts?.learn(shape, r, cache?.summaryOf(id));
    return r.problems;
  }
}
