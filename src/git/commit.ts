// Commits exactly a given set of paths, leaving whatever else the user has staged staged and
// uncommitted. Works on a temporary index built from HEAD, so the user's index is never read
// into the commit; then moves HEAD with a compare-and-swap, so a commit racing ours fails
// loudly instead of being lost. `commit-tree` runs no hooks: an engine commit can never
// re-trigger the hooks that caused it.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { GastownError } from '../errors.js';
import { git } from './exec.js';
import { type Operation, operationInProgress } from './repo.js';

export interface Identity {
  name: string;
  email: string;
}

/** A commit and its tree, as read by whoever called (the hook runner's `git log`). */
export interface CommitHead {
  commit: string;
  tree: string;
}

export interface CommitFilesOptions {
  root: string;
  /** This worktree's git directory (for the temporary index). */
  gitDir: string;
  /** Repo-relative paths to commit as they are in the working tree (a missing file is a deletion). */
  paths: readonly string[];
  message: string;
  identity: Identity;
  /** Extra environment for the git calls (tests pin dates). */
  env?: Record<string, string>;
  /**
   * Commit even though this operation's state is on disk: post-rewrite runs after a rebase has
   * already moved the branch but before git removes `rebase-merge/`.
   */
  allowOperation?: Operation;
  /**
   * HEAD as the caller already read it: the parent, and its tree. If HEAD has moved since, the
   * compare-and-swap at the end refuses the commit, as it would for any race.
   */
  head?: CommitHead;
}

export interface CommitFilesResult {
  /** The new commit, or undefined when the paths matched HEAD already (nothing to commit). */
  commit?: string;
  parent?: string;
}

export async function commitFiles(opts: CommitFilesOptions): Promise<CommitFilesResult> {
  const op = operationInProgress(opts.gitDir);
  if (op && op !== opts.allowOperation)
    throw new GastownError('git.busy', `not committing: a ${op} is in progress`);
  if (opts.paths.length === 0) return {};
  const { root } = opts;
  const [parent, parentTree] = opts.head ? [opts.head.commit, opts.head.tree] : await readHead(root);
  // Common case (a hook right after a commit): nothing staged beyond HEAD, so the user's own
  // index can take the paths directly — one index write instead of a temporary index plus a
  // second write to bring the user's index up to date.
  const indexClean =
    parent !== undefined &&
    (
      await git(['diff-index', '--cached', '--quiet', 'HEAD', '--'], {
        cwd: root,
        env: opts.env ?? {},
        allowFailure: true,
      })
    ).exitCode === 0;
  const tmpIndex = join(opts.gitDir, `gastown-index.${process.pid}`);
  const indexEnv = indexClean ? { ...opts.env } : { ...opts.env, GIT_INDEX_FILE: tmpIndex };
  try {
    if (!indexClean) {
      if (parent) await git(['read-tree', parent], { cwd: root, env: indexEnv });
      else await git(['read-tree', '--empty'], { cwd: root, env: indexEnv });
    }
    await git(['update-index', '--add', '--remove', '-z', '--stdin'], {
      cwd: root,
      env: indexEnv,
      input: opts.paths.map((p) => `${p}\0`).join(''),
    });
    const tree = (await git(['write-tree'], { cwd: root, env: indexEnv })).stdout.trim();
    if (parent && parentTree === tree) return { parent };
    const identityEnv = {
      ...opts.env,
      GIT_AUTHOR_NAME: opts.identity.name,
      GIT_AUTHOR_EMAIL: opts.identity.email,
      GIT_COMMITTER_NAME: opts.identity.name,
      GIT_COMMITTER_EMAIL: opts.identity.email,
    };
    const commit = (
      await git(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-'], {
        cwd: root,
        env: identityEnv,
        input: opts.message,
      })
    ).stdout.trim();
    const subject = opts.message.split('\n', 1)[0] ?? '';
    // Compare-and-swap: fails if HEAD moved since we read it.
    await git(['update-ref', '-m', `commit: ${subject}`, 'HEAD', commit, parent ?? '0'.repeat(40)], {
      cwd: root,
    });
    if (!indexClean) {
      // The user's index now lags HEAD for exactly these paths; bring just them up to HEAD so
      // `git status` shows nothing for them (and nothing else in the index moves).
      await git(['reset', '-q', commit, '--', ...opts.paths.map((p) => `:(top,literal)${p}`)], {
        cwd: root,
        env: opts.env ?? {},
        allowFailure: true,
      });
    }
    return { commit, ...(parent ? { parent } : {}) };
  } finally {
    if (!indexClean) rmSync(tmpIndex, { force: true });
  }
}

async function readHead(root: string): Promise<(string | undefined)[]> {
  const head = await git(['rev-parse', 'HEAD', 'HEAD^{tree}'], { cwd: root, allowFailure: true });
  return head.exitCode === 0 ? head.stdout.trim().split('\n') : [];
}
