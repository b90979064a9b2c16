// Engine commits: after a trigger's reconcile writes files, commit exactly those files in a
// commit of the engine's own, so `git log` tells agents' and people's commits apart from the
// engine's, and `git log -- .beads/molecules/<id>` reads as the molecule's history.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { localIdentity } from '../checkpoint/authors.js';
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
  // An approval the engine acted on but nobody committed goes first, in a commit of its own by
  // whoever made it (the local identity, as the engine judged it); otherwise the engine commit
  // would publish a `done` whose approval no other clone can see.
  const votes = await uncommittedVotesBehind(where.root, paths);
  let head = options.head;
  if (votes.length > 0) {
    const me = await localIdentity(where.root);
    if (me.email) {
      const approval = await commitFiles({
        root: where.root,
        gitDir: where.gitDir,
        paths: votes,
        message: `checkpoint decision in ${votes.map((v) => v.replace(/^\.beads\/molecules\//, '')).join(', ')}\n`,
        identity: { name: me.name ?? me.email, email: me.email },
        ...(env ? { env } : {}),
        ...(finishing && op ? { allowOperation: op } : {}),
        ...(head ? { head } : {}),
      });
      // The engine commit goes on top of it: HEAD as the caller read it is no longer HEAD.
      if (approval.commit) head = undefined;
    }
  }
  const message = engineCommitMessage(result.transitions, paths);
  const made = await commitFiles({
    root: where.root,
    gitDir: where.gitDir,
    paths,
    message,
    identity: settings.identity,
    ...(env ? { env } : {}),
    ...(finishing && op ? { allowOperation: op } : {}),
    ...(head ? { head } : {}),
  });
  if (unfinished) clearUnfinishedRun(root);
  if (!made.commit) return { skipped: 'unchanged', paths };
  return { commit: made.commit, message, paths };
}

/**
 * The checkpoint files (request and approvals) behind a `done` being committed, where they
 * differ from HEAD: the `done` facts name their checkpoint in `cause`.
 */
async function uncommittedVotesBehind(root: string, paths: readonly string[]): Promise<string[]> {
  const behind: string[] = [];
  for (const p of paths) {
    const m = /^(\.beads\/molecules\/[^/]+)\/events\/[^/]+\.\d+\.done\.toml$/.exec(p);
    if (!m) continue;
    let text: string;
    try {
      text = readFileSync(join(root, p), 'utf8');
    } catch {
      continue;
    }
    const cause = /^cause = "(checkpoints\/[^"/]+)\.md"$/m.exec(text)?.[1];
    if (cause) behind.push(`${m[1]}/${cause}.md`, `${m[1]}/${cause}.approvals`);
  }
  if (behind.length === 0) return [];
  const r = await git(['status', '--porcelain', '-z', '--untracked-files=all', '--', ...behind], {
    cwd: root,
    allowFailure: true,
  });
  if (r.exitCode !== 0) return [];
  // `XY path` entries; a rename's second path follows in its own entry and is skipped.
  return r.stdout
    .split('\0')
    .filter((e) => e.length > 3 && e[2] === ' ')
    .map((e) => e.slice(3))
    .filter((f) => behind.some((b) => f === b || f.startsWith(`${b}/`)));
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
