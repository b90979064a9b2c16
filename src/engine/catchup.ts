// Catching up commit trailers that no hook applied: a pull request merged with the web UI's
// button, `--no-verify`, a clone without hooks. A plain `advance` (and `advance --ci`) reads the
// trailers of every commit since the last catch-up of this clone and applies the ones no fact
// records yet, oldest first. The mark (HEAD at the last catch-up) lives in the git directory,
// per worktree: it is about this clone's history, and deleting `.beads/.cache` must not make
// every later run walk the whole history again.
import { join } from 'node:path';
import {
  CATCH_UP_MARK,
  type RewriteMap,
  readHead,
  readCatchUpMark as readMark,
  readRewrites,
  writtenAs,
} from '../git/head.js';
import { writeFileAtomic } from '../store/atomic.js';
import { gitOperationInProgress } from '../store/cache.js';
import { isMoleculeId } from '../store/ids.js';
import { stepEventPath } from '../store/layout.js';
import { stringifyToml } from '../store/toml.js';
import { moleculeExists, moleculeRelDir, readMoleculeFiles } from './io.js';
import { foldFiles } from './reconcile.js';
import { ACTION_TRAILER_GREP, type Trailer } from './trailers.js';
import type { MoleculeState } from './types.js';

export interface TrailerCommit {
  sha: string;
  authorName: string;
  authorEmail: string;
  message: string;
  /** Committer time: its trailers are judged as of then (atcommit.ts). */
  time?: Date;
  /**
   * Set when a rebase rewrote this commit: every commit of that rewrite. Where `sha` was written
   * (`writtenAs`) decides whether it saw a re-open (a rebase puts every commit on top of
   * everything), and a re-open may have been rewritten too.
   */
  rewrites?: RewriteMap;
}

export interface CatchUpPlan {
  /** Commits with action trailers, oldest first. */
  commits: TrailerCommit[];
  /** Records that these commits are caught up (call after applying them). */
  done(): void;
}

/**
 * The commits since the last catch-up that carry action trailers, or undefined when there is
 * nothing to look at (HEAD unchanged, no commits, git mid-operation: the hooks handle those).
 */
export async function commitsToCatchUp(root: string): Promise<CatchUpPlan | undefined> {
  if (gitOperationInProgress(root)) return undefined;
  let head = readHead(root);
  let mark = head && readMark(head.gitDir);
  if (head && mark === head.sha) return undefined;
  // Loaded here: most runs stop at the mark and never start git.
  const { git } = await import('../git/exec.js');
  if (!head) {
    const r = await git(['rev-parse', 'HEAD', '--absolute-git-dir'], { cwd: root, allowFailure: true });
    const [sha, dir] = r.stdout.split('\n');
    if (r.exitCode !== 0 || !sha || !dir) return undefined;
    head = { sha, gitDir: dir };
    mark = readMark(dir);
    if (mark === sha) return undefined;
  }
  const gitDir = head.gitDir;
  const log = (range: string) =>
    git(
      [
        'log',
        '--reverse',
        '--format=%x1e%H%x1f%an%x1f%ae%x1f%ct%x1f%B',
        '-i',
        '-E',
        `--grep=${ACTION_TRAILER_GREP}`,
        range,
        '--',
      ],
      { cwd: root, allowFailure: true },
    );
  // A mark this clone's history no longer has (a rewritten branch, objects pruned): look at all.
  let r = mark ? await log(`${mark}..${head.sha}`) : await log(head.sha);
  if (r.exitCode !== 0 && mark) r = await log(head.sha);
  const commits: TrailerCommit[] = [];
  if (r.exitCode === 0) {
    // A commit a rebase rewrote is judged where it was written (TrailerCommit.rewrites).
    const rewrites = readRewrites(gitDir);
    for (const entry of r.stdout.split('\x1e').slice(1)) {
      const [sha = '', authorName = '', authorEmail = '', ct = '', message = ''] = entry.split('\x1f');
      const time = commitTime(ct);
      const commit: TrailerCommit = { sha, authorName, authorEmail, message, time };
      if (rewrites.has(sha)) commit.rewrites = rewrites;
      commits.push(commit);
    }
  }
  const sha = head.sha;
  return {
    commits,
    done: () => {
      try {
        writeFileAtomic(join(gitDir, CATCH_UP_MARK), `${sha}\n`, { durable: false });
      } catch {
        // Losing the mark costs one longer look next time, nothing else.
      }
    },
  };
}

/** `%ct` (seconds since the epoch) as a Date; undefined when git printed none. */
export function commitTime(ct: string): Date | undefined {
  const seconds = Number(ct.trim());
  return ct.trim() !== '' && Number.isInteger(seconds) ? new Date(seconds * 1000) : undefined;
}

/**
 * Why a trailer of a commit seen again (a catch-up, a merge, a rebase) needs nothing more, or
 * undefined: its molecule is gone or squashed, or a fact already records it (its `commit`, or
 * a recorded verdict `trailers/<commit>.toml`). These skips are quiet: the trailer was handled.
 */
export function alreadyRecorded(
  root: string,
  c: TrailerCommit,
  t: Trailer,
  states: Map<string, MoleculeState>,
): string | undefined {
  if (!isMoleculeId(t.molecule) || !moleculeExists(root, t.molecule)) return NO_MOLECULE;
  const state = foldedState(root, t.molecule, states);
  // A squashed molecule's facts are gone: whatever its trailers did is in its digest.
  if (state.digest) return SQUASHED;
  if (state.files.has(ignoredTrailerPath(c.sha))) return RECORDED;
  const s = state.stepById.get(t.step);
  if (!s) return undefined;
  const facts = [s.facts, ...Object.values(s.history)];
  if (facts.some((byKind) => Object.values(byKind).some((f) => f.commit === c.sha))) return RECORDED;
  // Recorded under the id it had before a rebase: other clones know only the new id.
  const commit = writtenAs(c.sha, c.rewrites);
  if (facts.some((byKind) => Object.values(byKind).some((f) => f.commit === commit))) return REWRITTEN;
  return undefined;
}

/**
 * Why a trailer that could apply as of its commit must not apply now, or undefined when it
 * should: its molecule is settled, or its step's current attempt was re-opened in a commit this
 * one does not descend from (the trailer was about an earlier attempt).
 */
export async function notApplicableNow(
  root: string,
  c: TrailerCommit,
  t: Trailer,
  states: Map<string, MoleculeState>,
): Promise<string | undefined> {
  const state = foldedState(root, t.molecule, states);
  if (state.facts.completed) return `molecule ${t.molecule} is completed`;
  if (state.facts.cancelled) return `molecule ${t.molecule} is cancelled`;
  const s = state.stepById.get(t.step);
  if (!s || s.attempt <= 1) return undefined;
  const { git } = await import('../git/exec.js');
  // The commit that added this attempt's `reopened` fact; the trailer counts only if newer.
  const rel = `${moleculeRelDir(t.molecule)}/${stepEventPath(t.step, s.attempt, 'reopened')}`;
  const added = await git(['log', '-1', '--diff-filter=A', '--format=%H', '--', rel], {
    cwd: root,
    allowFailure: true,
  });
  const reopenCommit = added.stdout.trim();
  if (reopenCommit === '') return STALE;
  // Only a commit made on top of the re-open saw it: one before it, or on a branch that
  // forked before it (merged later, or rewritten by a rebase), was about an earlier attempt.
  const reopenWritten = writtenAs(reopenCommit, c.rewrites);
  const after = await git(['merge-base', '--is-ancestor', reopenWritten, writtenAs(c.sha, c.rewrites)], {
    cwd: root,
    allowFailure: true,
  });
  return after.exitCode === 0 ? undefined : STALE;
}

function foldedState(root: string, id: string, states: Map<string, MoleculeState>): MoleculeState {
  let state = states.get(id);
  if (!state) {
    state = foldFiles(id, readMoleculeFiles(root, id));
    states.set(id, state);
  }
  return state;
}

export const NO_MOLECULE = 'no such molecule';
const RECORDED = 'recorded';
const SQUASHED = 'molecule squashed';
const REWRITTEN = 'recorded before a rebase';
const STALE = 'the step was re-opened after it';

/**
 * Verdicts only this clone can reach (it alone knows what a rebase rewrote, or saw the
 * trailer before it was rebased): recorded as a file (`trailers/<commit>.toml`) that goes into
 * the engine commit, so every clone skips the trailer too. Others (a fact names the commit, the
 * molecule is gone) every clone reaches by itself.
 */
export const mustRecordVerdict = (why: string) => why === REWRITTEN || why === STALE;

/** A trailer judged not to apply, kept in the molecule folder. */
export function ignoredTrailerPath(sha: string): string {
  return `trailers/${sha}.toml`;
}

const IGNORED_KEY_ORDER = ['commit', 'step', 'kind', 'reason', 'written_as'];

export function renderIgnoredTrailer(c: TrailerCommit, t: Trailer, why: string): string {
  return stringifyToml(
    { commit: c.sha, step: t.step, kind: t.kind, reason: why, written_as: c.rewrites?.get(c.sha) },
    IGNORED_KEY_ORDER,
  );
}
