// Reconcile, then make the engine commit: the one service the hooks, `advance`, `watch` and
// `checkpoint approve|reject` go through. Callers say what to reconcile (one or more advance
// runs under one lock) and whether and how to commit; they parse flags and print, nothing more.
import type { AdvanceOptions, AdvanceResult } from '../engine/advance.js';
import { isStopped } from '../engine/stop.js';
import { closeSharedCatFiles } from '../git/cat-file.js';
import type { CommitHead } from '../git/commit.js';
import type { RepoDirs } from '../git/repo.js';
import { findRoot } from '../store/layout.js';
import { markUnfinishedRun, withLock } from '../store/lock.js';
import { commitTransitions, type EngineCommit, type EngineCommitSettings } from './commit.js';

/** How to commit what the runs wrote (triggers/commit.ts commitTransitions). */
export interface CommitPlan {
  settings: EngineCommitSettings;
  env?: Record<string, string> | undefined;
  /**
   * Molecules to look at even when nothing of theirs was written (a hook's scope; facts an
   * earlier run left uncommitted), or how to find them once the runs are done, under the lock.
   */
  molecules?: readonly string[] | ((root: string) => Promise<readonly string[]>) | undefined;
  finishingRebase?: boolean;
  finishingMerge?: boolean;
  paths?: RepoDirs | undefined;
  head?: CommitHead | undefined;
}

export interface ReconcileCommitOptions {
  root: string;
  /** The reconciles, in order (a hook: one per commit with trailers). */
  runs: readonly AdvanceOptions[];
  /**
   * When a run over some molecules finished one (`after`, molecule gates may wait for it),
   * reconcile every molecule once more before committing.
   */
  widenOnCompletion?: boolean;
  /** Nothing is committed when absent (a dry run, `advance` without `--commit`). */
  commit?: CommitPlan | undefined;
  lockWaitMs?: number | undefined;
  /** The caller holds the engine lock already (it is not reentrant). */
  locked?: boolean;
  /** Under the lock, after the runs and before the commit (the hook prints there). */
  beforeCommit?(result: AdvanceResult): void | Promise<void>;
  /** advance for a caller that holds the lock; by default the engine's, loaded on first use. */
  advance?(opts: AdvanceOptions): Promise<AdvanceResult>;
}

export interface ReconcileCommitResult {
  result: AdvanceResult;
  made?: EngineCommit;
}

export async function reconcileAndCommit(o: ReconcileCommitOptions): Promise<ReconcileCommitResult> {
  const advance = o.advance ?? (async (opts) => (await import('../engine/advance.js')).advanceLocked(opts));
  const root = findRoot(o.root);
  const body = async (): Promise<ReconcileCommitResult> => {
    try {
      return await reconcileThenCommit();
    } finally {
      // The cat-file the runs and the commit shared ends with them (src/git/cat-file.ts).
      await closeSharedCatFiles();
    }
  };
  const reconcileThenCommit = async (): Promise<ReconcileCommitResult> => {
    const result: AdvanceResult = { transitions: [], written: [], problems: [] };
    const add = (r: AdvanceResult) => {
      result.transitions.push(...r.transitions);
      result.written.push(...r.written);
      result.problems.push(...r.problems);
      if (r.skippedTrailers) (result.skippedTrailers ??= []).push(...r.skippedTrailers);
      if (r.unchanged) result.unchanged = r.unchanged;
    };
    for (const run of o.runs) add(await advance(run));
    const first = o.runs[0];
    if (o.widenOnCompletion && first?.molecules && result.transitions.some((t) => t.step === undefined))
      add(
        await advance({
          root: first.root,
          now: first.now,
          ...(first.signal ? { signal: first.signal } : {}),
        }),
      );
    await o.beforeCommit?.(result);
    if (!o.commit) return { result };
    const c = o.commit;
    const molecules = typeof c.molecules === 'function' ? await c.molecules(root) : c.molecules;
    const made = await commitTransitions(root, result, c.settings, c.env, {
      ...(molecules ? { molecules } : {}),
      finishingRebase: c.finishingRebase === true,
      finishingMerge: c.finishingMerge === true,
      ...(c.paths ? { paths: c.paths } : {}),
      ...(c.head ? { head: c.head } : {}),
    });
    return { result, made };
  };
  // A dry run writes nothing and takes no lock.
  if (o.locked || o.runs.every((r) => r.dryRun)) return body();
  // One lock over every reconcile and the commit, released once HEAD has moved: a run stopped
  // while it commits leaves the lock, and the next run finds what it left (triggers/commit.ts).
  return withLock(root, o.lockWaitMs, async () => {
    try {
      return await body();
    } catch (err) {
      // Facts a stopped run wrote go into the next engine commit, as a dead run's do.
      if (isStopped(err)) markUnfinishedRun(root);
      throw err;
    }
  });
}
