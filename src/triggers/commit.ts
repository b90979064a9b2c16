// Engine commits: after a trigger's reconcile writes files, commit exactly those files in a
// commit of the engine's own, so `git log` tells agents' and people's commits apart from the
// engine's, and `git log -- .beads/molecules/<id>` reads as the molecule's history.
import { type CommitHead, commitFiles, type Identity } from '../git/commit.js';
import { git } from '../git/exec.js';
import { operationInProgress, type RepoPaths, repoPaths } from '../git/repo.js';
import { clearUnfinishedRun, unfinishedRunMarked } from '../store/lock.js';

/** The parts of the engine's Transition an engine commit records (structurally the engine's type). */
export interface TransitionLike {
  molecule: string;
  step?: string;
  attempt?: number;
  kind: string;
  summary: string;
}

/** The parts of the engine's AdvanceResult a commit needs. */
export interface ReconcileOutcome {
  transitions: TransitionLike[];
  /** Repo-relative paths reconcile wrote. */
  written: string[];
  problems: { molecule?: string; file?: string; message: string }[];
}

export interface EngineCommitSettings {
  /** `[engine] commit` in .beads/config.toml. */
  commit: boolean;
  identity: Identity;
}

export interface EngineCommit {
  /** The new commit's id; absent when nothing was committed (see `skipped`). */
  commit?: string;
  message?: string;
  /** Why nothing was committed. */
  skipped?: 'disabled' | 'nothing-written' | 'operation-in-progress' | 'unchanged';
  /** Files committed (or that would have been). */
  paths: string[];
}

const SUBJECT_MAX = 72;

/** `m1/implement ready`, or `m1 completed` for a molecule-level transition. */
export function transitionTrailer(t: TransitionLike): string {
  return `${t.step ? `${t.molecule}/${t.step}` : t.molecule} ${t.kind}`;
}

/**
 * The engine commit message: a subject `gastown: <summary>`, then one `Gastown-Molecule` trailer
 * per molecule touched and one `Gastown-Transition` trailer per transition, in order.
 * Pure: the same transitions always give the same message.
 */
export function engineCommitMessage(
  transitions: readonly TransitionLike[],
  written: readonly string[],
): string {
  const molecules = uniq([
    ...transitions.map((t) => t.molecule),
    ...written.map(moleculeOfPath).filter(isString),
  ]);
  let summary: string;
  if (transitions.length === 1) summary = transitions[0]!.summary || transitionTrailer(transitions[0]!);
  else if (transitions.length > 1) {
    const joined = transitions.map(transitionTrailer).join(', ');
    summary =
      joined.length <= SUBJECT_MAX - 'gastown: '.length
        ? joined
        : `${transitions.length} transitions in ${molecules.join(', ')}`;
  } else summary = `record state of ${molecules.join(', ') || '.beads'}`;
  if (`gastown: ${summary}`.length > SUBJECT_MAX)
    summary = `${summary.slice(0, SUBJECT_MAX - 'gastown: '.length - 3)}...`;
  const trailers = [
    ...molecules.map((m) => `Gastown-Molecule: ${m}`),
    ...transitions.map((t) => `Gastown-Transition: ${transitionTrailer(t)}`),
  ];
  return `gastown: ${summary}\n\n${trailers.join('\n')}\n`;
}

/** `.beads/molecules/<id>/...` → `<id>`. */
export function moleculeOfPath(path: string): string | undefined {
  const m = /^\.beads\/molecules\/([^/]+)\//.exec(path);
  return m?.[1];
}

/**
 * Commits the files `result.written` names, and only those, as the engine (identity from
 * config, no hooks). Does nothing when `[engine] commit` is off, nothing was written, or git is
 * in the middle of a rebase, merge, cherry-pick or revert.
 */
export async function commitTransitions(
  root: string,
  result: ReconcileOutcome,
  settings: EngineCommitSettings,
  env?: Record<string, string>,
  options: { finishingRebase?: boolean; finishingMerge?: boolean; paths?: RepoPaths; head?: CommitHead } = {},
): Promise<EngineCommit> {
  let paths = uniq(result.written);
  if (!settings.commit) return { skipped: 'disabled', paths };
  // After a run that died holding the lock, its files too (they are in no commit otherwise).
  const unfinished = unfinishedRunMarked(root);
  if (unfinished) paths = uniq([...paths, ...(await leftByUnfinishedRun(root))]);
  if (paths.length === 0) {
    if (unfinished) clearUnfinishedRun(root);
    return { skipped: 'nothing-written', paths };
  }
  const where = options.paths ?? (await repoPaths(root));
  const op = operationInProgress(where.gitDir);
  // A finishing rebase (post-rewrite) has already pointed the branch at its result once HEAD
  // is symbolic again; committing on top of it is safe. Anything else in progress: wait.
  const finishing =
    (op === 'rebase' && options.finishingRebase === true && (await headIsSymbolic(where.root))) ||
    // post-merge: the merge commit is made; MERGE_HEAD is what git has not cleaned up yet.
    (op === 'merge' && options.finishingMerge === true);
  if (op && !finishing) return { skipped: 'operation-in-progress', paths };
  const message = engineCommitMessage(result.transitions, paths);
  const made = await commitFiles({
    root: where.root,
    gitDir: where.gitDir,
    paths,
    message,
    identity: settings.identity,
    ...(env ? { env } : {}),
    ...(finishing && op ? { allowOperation: op } : {}),
    ...(options.head ? { head: options.head } : {}),
  });
  if (unfinished) clearUnfinishedRun(root);
  if (!made.commit) return { skipped: 'unchanged', paths };
  return { commit: made.commit, message, paths };
}

/**
 * Untracked files only the engine makes: facts, gate reports, checkpoint requests. Never a
 * changed tracked file (a person's decision edit) nor an approvals file (a person's vote, which
 * must keep its author).
 */
async function leftByUnfinishedRun(root: string): Promise<string[]> {
  const r = await git(['ls-files', '-z', '--others', '--exclude-standard', '--', '.beads/molecules'], {
    cwd: root,
    allowFailure: true,
  });
  if (r.exitCode !== 0) return [];
  return r.stdout
    .split('\0')
    .filter((p) =>
      /^\.beads\/molecules\/[^/]+\/(events\/[^/]+|reports\/[^/]+|checkpoints\/[^/]+\.md)$/.test(p),
    );
}

async function headIsSymbolic(root: string): Promise<boolean> {
  const r = await git(['symbolic-ref', '-q', 'HEAD'], { cwd: root, allowFailure: true });
  return r.exitCode === 0;
}

function uniq<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

function isString(x: unknown): x is string {
  return typeof x === 'string';
}
