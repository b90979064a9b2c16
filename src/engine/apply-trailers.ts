// Applies one commit's action trailers (`Gastown-Done: m1/build`) inside an advance run: each is
// judged as of its commit first (atcommit.ts), so every clone gives it the same verdict, then
// recorded as a step fact and its molecule reconciled.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GastownError } from '../errors.js';
import { createFileExclusive } from '../store/atomic.js';
import { identityForEmail } from '../store/config.js';
import { isMoleculeId } from '../store/ids.js';
import { moleculesDir } from '../store/layout.js';
import { checkBeadsPath } from '../store/links.js';
import type { GastownConfig } from '../store/types.js';
import { CommitView } from './atcommit.js';
import {
  alreadyRecorded,
  ignoredTrailerPath,
  mustRecordVerdict,
  NO_MOLECULE,
  notApplicableNow,
  renderIgnoredTrailer,
  type TrailerCommit,
} from './catchup.js';
import { moleculeExists, moleculeRelDir, readMoleculeFiles } from './io.js';
import { recordStepLocked, type StepAction } from './molecules.js';
import type { ReconcileOutcome } from './reconcile.js';
import { formatTrailer, parseTrailers, type Trailer } from './trailers.js';
import type { MoleculeState, MoleculeStatus, Transition } from './types.js';

/** A dry run's molecules that trailers changed in memory: their files and status after it. */
export type Simulated = Map<string, { files: Map<string, string>; status: MoleculeStatus }>;
/** A real run's molecules that trailers reconciled, by id: their outcome after the last one. */
export type Reconciled = Map<string, ReconcileOutcome>;
export interface RunMemory {
  simulated: Simulated;
  reconciled: Reconciled;
}

export interface SkippedTrailer {
  commit: string;
  /** As written: `Gastown-Done: m1/merge`. */
  trailer: string;
  reason: string;
}

/** The part of an advance run's options that trailers read. */
export interface TrailerRunOptions {
  now: Date;
  dryRun?: boolean;
  molecules?: string[];
  onTransition?: (t: Transition) => void;
}

/** The part of an advance run's result that trailers add to. */
export interface TrailerRunResult {
  transitions: Transition[];
  written: string[];
  problems: { molecule?: string; file?: string; message: string }[];
  skippedTrailers?: SkippedTrailer[];
}

/** One commit's trailers on their way through a run. */
interface Batch {
  root: string;
  c: TrailerCommit;
  opts: TrailerRunOptions;
  result: TrailerRunResult;
  memory: RunMemory;
  /** Given: the commit is seen again (catch-up, merge, rebase), with the molecules folded so far. */
  caughtUp: Map<string, MoleculeState> | undefined;
  /** Why each trailer that does not apply does not. */
  failures: Map<Trailer, string>;
}

const ACTIONS: Record<string, StepAction> = { done: 'done', fail: 'fail', start: 'start' };

/**
 * Applies one commit's action trailers. Given `caughtUp` (the molecules folded so far), the
 * commit is one seen again (a catch-up, a merge, a rebase): trailers already recorded are
 * passed over quietly, and one that cannot apply is skipped and listed in `skippedTrailers`;
 * otherwise every trailer that cannot apply is a problem.
 */
export async function applyTrailersOf(
  root: string,
  c: TrailerCommit,
  opts: TrailerRunOptions,
  config: GastownConfig,
  result: TrailerRunResult,
  memory: RunMemory,
  caughtUp?: Map<string, MoleculeState>,
): Promise<void> {
  const b: Batch = { root, c, opts, result, memory, caughtUp, failures: new Map() };
  const by = identityForEmail(config, c.authorEmail) ?? (c.authorName || c.authorEmail);
  const view = new CommitView({
    root,
    commit: c.sha,
    time: c.time ?? opts.now,
    config,
    current: (id) =>
      memory.simulated.get(id)?.files ?? (moleculeExists(root, id) ? readMoleculeFiles(root, id) : undefined),
  });
  const trailers = parseTrailers(c.message);
  const judged = await admitted(b, trailers, view);
  const pending = await notRefused(b, judged, await refusedAtCommit(judged, view, by));
  await applyInAnyOrder(b, pending, config, by, view);
  report(b, trailers);
}

/** The trailers this run judges: those naming a molecule it has and covers, not applied before. */
async function admitted(b: Batch, trailers: Trailer[], view: CommitView): Promise<Trailer[]> {
  const judged: Trailer[] = [];
  for (const t of trailers) {
    if (b.caughtUp) {
      const why = alreadyRecorded(b.root, b.c, t, b.caughtUp);
      if (why !== undefined && mustRecordVerdict(why)) recordIgnoredTrailer(b, t, why);
      // A molecule removed since (burned) had its trailers applied back then: quiet.
      if (why === NO_MOLECULE && !(await view.files(t.molecule)))
        b.failures.set(t, `no molecule ${t.molecule}`);
      if (why !== undefined) continue;
    } else if (!isMoleculeId(t.molecule) || !moleculeExists(b.root, t.molecule)) {
      b.failures.set(t, `no molecule ${t.molecule}`);
      continue;
    }
    if (b.opts.molecules && !b.opts.molecules.includes(t.molecule)) continue;
    judged.push(t);
  }
  return judged;
}

function refusedAtCommit(judged: Trailer[], view: CommitView, by: string): Promise<Map<Trailer, string>> {
  return judged.length > 0 ? view.refused(judged, by) : Promise.resolve(new Map());
}

/** The judged trailers neither refused as of their commit nor, when seen again, inapplicable now. */
async function notRefused(b: Batch, judged: Trailer[], refused: Map<Trailer, string>): Promise<Trailer[]> {
  const pending: Trailer[] = [];
  for (const t of judged) {
    const why =
      refused.get(t) ?? (b.caughtUp ? await notApplicableNow(b.root, b.c, t, b.caughtUp) : undefined);
    if (why === undefined) pending.push(t);
    else {
      b.failures.set(t, why);
      if (mustRecordVerdict(why)) recordIgnoredTrailer(b, t, why);
    }
  }
  return pending;
}

/**
 * One commit may name steps in any order (`Done: implement` above `Done: design`): a trailer
 * that cannot apply yet is tried again after the others, as long as some trailer applied.
 */
async function applyInAnyOrder(
  b: Batch,
  trailers: Trailer[],
  config: GastownConfig,
  by: string,
  view: CommitView,
): Promise<void> {
  // Trailers the view left to this run (their molecule is as it was at the commit): refused
  // here, they are refused as of their commit, and said so.
  const asOfCommit = (t: Trailer, why: string) => (view.leftToRun.has(t) ? `as of that commit, ${why}` : why);
  let pending = trailers;
  for (let progress = true; progress && pending.length > 0; ) {
    progress = false;
    const later: Trailer[] = [];
    for (const t of pending) {
      try {
        if (await applyOne(b, t, config, by)) progress = true;
        b.failures.delete(t);
      } catch (err) {
        if (!(err instanceof GastownError)) throw err;
        b.failures.set(t, asOfCommit(t, err.message));
        later.push(t);
      }
    }
    pending = later;
  }
}

/** Records one trailer's step fact and reconciles its molecule; true when anything moved. */
async function applyOne(b: Batch, t: Trailer, config: GastownConfig, by: string): Promise<boolean> {
  const { root, opts, result, memory } = b;
  const earlier = memory.simulated.get(t.molecule);
  const r = await recordStepLocked(
    root,
    t.molecule,
    t.step,
    ACTIONS[t.kind] as StepAction,
    {
      as: by,
      commit: b.c.sha,
      now: opts.now,
      ...(opts.dryRun ? { dryRun: true, files: earlier?.files ?? readMoleculeFiles(root, t.molecule) } : {}),
    },
    config,
  );
  // A dry run goes on from the simulated files; reconcileAll leaves this molecule alone.
  if (opts.dryRun) memory.simulated.set(t.molecule, { files: r.files, status: r.status });
  else memory.reconciled.set(t.molecule, r.outcome);
  b.caughtUp?.delete(t.molecule); // its files changed
  for (const tr of r.transitions) opts.onTransition?.(tr);
  result.transitions.push(...r.transitions);
  result.written.push(...r.written);
  return r.transitions.length > 0;
}

/** Each trailer that did not apply, in the order written: skipped when seen again, else a problem. */
function report(b: Batch, trailers: Trailer[]): void {
  for (const t of trailers) {
    const why = b.failures.get(t);
    if (why === undefined) continue;
    if (b.caughtUp)
      (b.result.skippedTrailers ??= []).push({ commit: b.c.sha, trailer: formatTrailer(t), reason: why });
    else
      b.result.problems.push({
        ...(moleculeExists(b.root, t.molecule) ? { molecule: t.molecule } : {}),
        message: `trailer ${formatTrailer(t)} in ${b.c.sha.slice(0, 12)}: ${why}`,
      });
  }
}

/** Writes `trailers/<commit>.toml` once (not on a dry run) and lists it as written. */
function recordIgnoredTrailer(b: Batch, t: Trailer, why: string): void {
  if (b.opts.dryRun) return;
  const rel = ignoredTrailerPath(b.c.sha);
  const path = checkBeadsPath(b.root, join(moleculesDir(b.root), t.molecule, rel));
  mkdirSync(dirname(path), { recursive: true });
  if (createFileExclusive(path, renderIgnoredTrailer(b.c, t, why)) === 'written')
    b.result.written.push(`${moleculeRelDir(t.molecule)}/${rel}`);
}
