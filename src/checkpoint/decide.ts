// The rules of a decision on a checkpoint (`checkpoint approve|reject`): taken under the engine
// lock from the first read, refused before anything is written when it would not count or is
// already recorded, written as the same edit a person makes by hand (the request's `decision:`
// line, or an approval file of their own when the request already carries a decision), then
// reconciled with the molecule folded once. Who made it comes from git.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AdvanceResult } from '../engine/advance.js';
import { readMoleculeFiles } from '../engine/io.js';
import { foldFiles, type ReconcileOutcome } from '../engine/reconcile.js';
import type { MoleculeState } from '../engine/types.js';
import { judgeState } from '../engine/verdict.js';
import { GastownError, isGastownError } from '../errors.js';
import { judgeCheckpointVote } from '../gates/human.js';
import { createFileExclusive, readSmallFile, writeFileAtomic } from '../store/atomic.js';
import { loadConfig } from '../store/config.js';
import { assertMoleculeId } from '../store/ids.js';
import { findRoot, moleculeDir, moleculeRel } from '../store/layout.js';
import { checkBeadsPath } from '../store/links.js';
import { withLock } from '../store/lock.js';
import { reconcileAndCommit } from '../triggers/service.js';
import { decisionAuthor, localIdentity } from './authors.js';
import {
  type Checkpoint,
  checkpointPaths,
  parseApproval,
  parseCheckpoint,
  parseCheckpointId,
  renderApproval,
  setDecision,
  type Vote,
} from './file.js';

export interface Located {
  root: string;
  molecule: string;
  /** Molecule-relative path of the request file. */
  rel: string;
  /** Repo-relative path. */
  file: string;
  text: string;
  id: string;
}

/** The request files of a molecule (not approval folders, not other files). */
export function requestIds(root: string, molecule: string): string[] {
  const dir = join(moleculeDir(root, molecule), 'checkpoints');
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.md') && !e.name.startsWith('.'))
      .map((e) => e.name.slice(0, -3))
      .sort();
  } catch {
    return [];
  }
}

/** `plan-checkpoint` names the latest attempt of that step; `plan-checkpoint.attempt-2` exactly that file. */
export function locate(cwd: string, molecule: string, name: string): Located {
  const root = findRoot(cwd);
  assertMoleculeId(molecule);
  if (!existsSync(moleculeDir(root, molecule)))
    throw new GastownError('molecule.unknown', `no molecule ${molecule}`);
  const ids = requestIds(root, molecule);
  let id = ids.includes(name) && /\.attempt-\d+$/.test(name) ? name : undefined;
  if (!id) {
    const step = parseCheckpointId(name).step;
    const attempts = ids.map((i) => ({ i, ...parseCheckpointId(i) })).filter((c) => c.step === step);
    attempts.sort((a, b) => b.attempt - a.attempt);
    id = attempts[0]?.i;
  }
  if (!id) {
    const known = ids.length > 0 ? ids.join(', ') : 'none yet';
    throw new GastownError(
      'checkpoint.unknown',
      `molecule ${molecule} has no checkpoint ${JSON.stringify(name)} (checkpoints: ${known})`,
    );
  }
  const rel = checkpointPaths.request(id);
  const file = moleculeRel(molecule, rel);
  return { root, molecule, rel, file, text: readSmallFile(join(root, file)), id };
}

function emailSlug(email: string): string {
  return (
    email
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '') || 'someone'
  );
}

/** What the engine already recorded for a checkpoint's attempt; undefined while it is open. */
interface Recorded {
  outcome: 'approved' | 'rejected' | 'skipped' | 'superseded';
  by?: string;
  /** The step's current attempt. */
  attempt: number;
}

const by = (who: string | undefined) => (who ? { by: who } : {});

export function recordedOutcome(state: MoleculeState, cp: Checkpoint, id: string): Recorded | undefined {
  const s = state.stepById.get(cp.step);
  if (!s || s.attempt < cp.attempt) return undefined;
  const facts = s.attempt === cp.attempt ? s.facts : (s.history[cp.attempt] ?? {});
  const at = { attempt: s.attempt };
  if (facts.done) return { outcome: 'approved', ...by(facts.done.by), ...at };
  if (facts.failed) return { outcome: 'rejected', ...by(facts.failed.by), ...at };
  if (facts.skipped) return { outcome: 'skipped', ...at };
  if (s.attempt === cp.attempt) return undefined;
  // A rejection re-opens `on_reject` with this request as the cause.
  const rel = checkpointPaths.request(id);
  for (const other of state.steps)
    for (const f of [other.facts, ...Object.values(other.history)])
      if (f.reopened?.cause === rel) return { outcome: 'rejected', ...by(f.reopened.by), ...at };
  return { outcome: 'superseded', ...at };
}

/** Why a decision on a recorded checkpoint cannot be made, and what to do instead. */
function recordedError(
  molecule: string,
  cp: Checkpoint,
  id: string,
  file: string,
  r: Recorded,
): GastownError {
  const who = r.by ? ` by ${r.by}` : '';
  const reopen = `gastown step reopen ${molecule} ${cp.step} --reason "..."`;
  const message =
    r.outcome === 'superseded'
      ? `checkpoint ${id} of ${molecule} belongs to attempt ${cp.attempt} of ${cp.step}, which was re-opened (now attempt ${r.attempt}); nothing was changed. Its new checkpoint opens when the steps under review are done again (gastown checkpoint list --pending)`
      : r.outcome === 'skipped'
        ? `step ${cp.step} of ${molecule} was skipped; checkpoint ${id} has nothing to decide`
        : r.outcome === 'approved' && r.attempt > cp.attempt
          ? `checkpoint ${id} of ${molecule} is already approved and recorded${who}, and ${cp.step} was re-opened since (now attempt ${r.attempt}); nothing was changed. Its new checkpoint opens when the steps under review are done again (gastown checkpoint list --pending)`
          : r.outcome === 'approved'
            ? `checkpoint ${id} of ${molecule} is already approved and recorded (step ${cp.step} is done${who}); nothing was changed. To revisit it, re-open the step: ${reopen}`
            : r.attempt > cp.attempt
              ? `checkpoint ${id} of ${molecule} is already rejected and recorded${who}: the work under review was re-opened, and ${cp.step} gets a new checkpoint when it is done again (gastown checkpoint list --pending); nothing was changed`
              : `checkpoint ${id} of ${molecule} is already rejected and recorded (step ${cp.step} failed${who}); nothing was changed. To revisit it, re-open the step: ${reopen}`;
  return new GastownError('checkpoint.decided', message, { location: { file } });
}

export interface DecisionRequest {
  cwd: string;
  molecule: string;
  /** A checkpoint id, or a step's name for its latest checkpoint. */
  name: string;
  decision: Vote;
  reason: string;
  now: Date;
}

export type DecisionOutcome =
  /** Nothing written: the same decision stands already, and why. */
  | { checkpoint: string; unchanged: string }
  | {
      checkpoint: string;
      /** Repo-relative path of the file written. */
      file: string;
      result: AdvanceResult;
      /** The molecule as reconciled after the decision, its step and plan judged again. */
      state: MoleculeState;
      status: Awaited<ReturnType<typeof judgeState>>;
    };

/** Records a decision on a checkpoint and reconciles its molecule; throws when it cannot count. */
export async function decideCheckpoint(req: DecisionRequest): Promise<DecisionOutcome> {
  const { molecule, decision, reason } = req;
  const root = findRoot(req.cwd);
  assertMoleculeId(molecule);
  // Under the lock from the first read: nothing is written when another process holds it, and
  // no engine run changes the molecule between the checks below and the write.
  return withLock(root, undefined, async () => {
    const at = locate(req.cwd, molecule, req.name);
    const cp = parseCheckpoint(at.file, at.text);
    const config = loadConfig(at.root);
    const ctx = { root: at.root, config, now: req.now };
    // Folded once: the decision is written into these files and the same state is reconciled.
    const files = readMoleculeFiles(at.root, molecule);
    const judged = await judgeState(foldFiles(molecule, files), ctx);
    const standing = standingDecision(judged, cp, at, decision);
    if (standing !== undefined) return { checkpoint: at.id, unchanged: standing };
    const email = await countedVoter(judged.state, cp, at, config, decision);
    const written =
      cp.decision === 'pending'
        ? writeDecisionLine(at, decision, reason)
        : await writeApprovalFile(at, cp, email, decision, reason);
    if ('unchanged' in written) return { checkpoint: at.id, unchanged: written.unchanged };
    files.set(written.rel, written.content);
    const { result, state } = await reconcileDecision(at, judged.state, req.now);
    return {
      checkpoint: at.id,
      file: written.file,
      result,
      state,
      status: await judgeState(state, ctx),
    };
  });
}

type Judged = Awaited<ReturnType<typeof judgeState>>;
type Written = { file: string; rel: string; content: string } | { unchanged: string };

/**
 * Why nothing is to be written because the engine recorded this very decision already, or
 * undefined when the decision may go ahead; throws when another outcome is recorded.
 */
function standingDecision(judged: Judged, cp: Checkpoint, at: Located, decision: Vote): string | undefined {
  const { state, plan } = judged;
  let recorded = recordedOutcome(state, cp, at.id);
  // A recorded approval that no counted vote backs (it was committed by someone else: a shared
  // working tree, a squash merge) stops the molecule; an approver's own vote is the way back.
  const done = `/events/${cp.step}.${cp.attempt}.done.toml`;
  if (
    recorded?.outcome === 'approved' &&
    decision === 'approved' &&
    recorded.attempt === cp.attempt &&
    plan.status === 'invalid' &&
    plan.problems?.some((p) => p.file?.endsWith(done))
  )
    recorded = undefined;
  if (recorded?.outcome === decision)
    return `checkpoint ${at.id} of ${at.molecule} is already ${decision} and recorded${recorded.by ? ` (by ${recorded.by})` : ''}`;
  if (recorded) throw recordedError(at.molecule, cp, at.id, at.file, recorded);
  return undefined;
}

/**
 * The local identity's email, once its vote is known to count. A vote the engine would not count
 * is refused before anything is written: it would leave a file that reads `approved` while the
 * checkpoint stays pending.
 */
async function countedVoter(
  state: MoleculeState,
  cp: Checkpoint,
  at: Located,
  config: ReturnType<typeof loadConfig>,
  decision: Vote,
): Promise<string> {
  const me = await localIdentity(at.root);
  if (!me.email)
    throw new GastownError(
      'checkpoint.identity',
      'no git identity here: set user.email so your decision can be attributed',
    );
  const mine = judgeCheckpointVote(state, cp.step, config, {
    decision,
    source: at.file,
    committed: false,
    email: me.email,
  });
  if (mine && !mine.counts)
    throw new GastownError(
      'checkpoint.not-counted',
      `your ${decision === 'approved' ? 'approval' : 'rejection'} would not count: ${mine.why}; nothing was written (an allowed approver decides, as their own git identity)`,
      { location: { file: at.file } },
    );
  return me.email;
}

/** A pending request: its `decision:` line set, as a person edits it by hand. */
function writeDecisionLine(at: Located, decision: Vote, reason: string): Written {
  const content = setDecision(at.text, decision, reason, at.file);
  writeFileAtomic(checkBeadsPath(at.root, join(at.root, at.file)), content);
  return { file: at.file, rel: at.rel, content };
}

/**
 * The request already carries a decision (someone else's, or one that did not count): a person
 * adds their own approval file instead of rewriting another's decision.
 */
async function writeApprovalFile(
  at: Located,
  cp: Checkpoint,
  email: string,
  decision: Vote,
  reason: string,
): Promise<Written> {
  const rel = checkpointPaths.approval(at.id, emailSlug(email));
  const path = checkBeadsPath(at.root, join(moleculeDir(at.root, at.molecule), rel));
  const file = moleculeRel(at.molecule, rel);
  const mine = existsSync(path) ? readSmallFile(path) : undefined;
  // The same vote by the same person again would only add a file that counts for nothing.
  if (mine !== undefined) {
    if (sameVote(file, mine, decision))
      return { unchanged: `you (${email}) already ${decision} ${at.id} of ${at.molecule} in ${file}` };
  } else if (cp.decision === decision) {
    const already = await alreadyYours(at, email, decision);
    if (already) return { unchanged: already };
  }
  mkdirSync(dirname(path), { recursive: true });
  const content = renderApproval({ checkpoint: at.id, decision, text: reason });
  if (mine !== undefined) writeFileAtomic(path, content);
  else createFileExclusive(path, content);
  return { file, rel, content };
}

/**
 * Why the request's own decision, the same as this one, already counts as `email`'s; an
 * uncommitted decision counts as the local identity's, as the engine judges it.
 */
async function alreadyYours(at: Located, email: string, decision: Vote): Promise<string | undefined> {
  const author = await decisionAuthor(at.root, at.file, at.text);
  if (!author.committed)
    return `${at.file} already says ${decision} and is not committed, so it counts as yours (${email}); commit it as whoever decided before another person approves`;
  if (author.email?.toLowerCase() === email.toLowerCase())
    return `you (${email}) already ${decision} ${at.id} of ${at.molecule} in ${at.file}${author.commit ? ` (commit ${author.commit.slice(0, 12)})` : ''}`;
  return undefined;
}

/** The molecule reconciled from the state folded before the write, and committed. */
async function reconcileDecision(
  at: Located,
  state: MoleculeState,
  now: Date,
): Promise<{ result: AdvanceResult; state: MoleculeState }> {
  const molecule = at.molecule;
  let outcome: ReconcileOutcome | undefined;
  const { result } = await reconcileAndCommit({
    root: at.root,
    locked: true,
    runs: [
      {
        root: at.root,
        now,
        molecules: [molecule],
        folded: new Map([[molecule, state]]),
        onOutcome: (id, r) => {
          if (id === molecule) outcome = r;
        },
      },
    ],
  });
  return { result, state: outcome?.state ?? foldFiles(molecule, readMoleculeFiles(at.root, molecule)) };
}

function sameVote(file: string, text: string, decision: Vote): boolean {
  try {
    return parseApproval(file, text).decision === decision;
  } catch (err) {
    if (isGastownError(err)) return false;
    throw err;
  }
}
