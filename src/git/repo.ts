// Reads about a repository that gastown needs: where things are, what HEAD is, what is
// staged, whether git is in the middle of something. All through the git binary (exec.ts).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GastownError } from '../errors.js';
import { git, gitBytes } from './exec.js';

export interface RepoPaths {
  /** Top of the working tree this command runs in (a linked worktree has its own). */
  root: string;
  /** This worktree's git directory (`.git`, or `.git/worktrees/<name>` for a linked worktree). */
  gitDir: string;
  /** The directory shared by every worktree (refs, objects, config, hooks). */
  commonDir: string;
  /** Where git looks for hooks: `core.hooksPath` when set, else `<commonDir>/hooks`. */
  hooksDir: string;
}

/** One `git rev-parse` for every location; paths git prints relative are relative to `cwd`. */
export async function repoPaths(cwd: string): Promise<RepoPaths> {
  const r = await git(
    ['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir', '--git-path', 'hooks'],
    {
      cwd,
      allowFailure: true,
    },
  );
  const lines = r.stdout.split('\n');
  if (r.exitCode !== 0 || lines.length < 4 || !lines[0]) {
    throw new GastownError(
      'git.not-a-repo',
      `not inside a git working tree: ${cwd} (run \`git init\` first)`,
    );
  }
  const [root, gitDir, commonDir, hooksDir] = lines as [string, string, string, string];
  return { root, gitDir, commonDir: resolve(cwd, commonDir), hooksDir: resolve(cwd, hooksDir) };
}

/** The repository root for `cwd`, or undefined outside a working tree. */
export async function findRoot(cwd: string): Promise<string | undefined> {
  const r = await git(['rev-parse', '--show-toplevel'], { cwd, allowFailure: true });
  return r.exitCode === 0 ? r.stdout.trim() || undefined : undefined;
}

export type Operation = 'rebase' | 'merge' | 'cherry-pick' | 'revert' | 'sequence';

/**
 * What git is in the middle of in this worktree, from the state files it keeps in its git
 * directory. During any of these, gastown neither reconciles from a hook nor commits.
 */
export function operationInProgress(gitDir: string): Operation | undefined {
  const probes: [string, Operation][] = [
    ['rebase-merge', 'rebase'],
    ['rebase-apply', 'rebase'],
    ['MERGE_HEAD', 'merge'],
    ['CHERRY_PICK_HEAD', 'cherry-pick'],
    ['REVERT_HEAD', 'revert'],
    ['sequencer', 'sequence'],
  ];
  for (const [file, op] of probes) if (existsSync(join(gitDir, file))) return op;
  return undefined;
}

/** The commit HEAD points to, or undefined on an unborn branch. */
export async function headCommit(cwd: string): Promise<string | undefined> {
  const r = await git(['rev-parse', '--verify', '-q', 'HEAD^{commit}'], { cwd, allowFailure: true });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** The full message of a commit. */
export async function commitMessage(cwd: string, rev: string): Promise<string> {
  const r = await git(['log', '-1', '--format=%B', rev, '--'], { cwd });
  return r.stdout;
}

/** Paths (repo-relative) a commit changed against its first parent, under `prefix` when given. */
export async function commitPaths(cwd: string, rev: string, prefix?: string): Promise<string[]> {
  const args = ['log', '-1', '-m', '--first-parent', '--format=', '--name-only', '-z', rev, '--'];
  if (prefix) args.push(`:(top)${prefix}`);
  const r = await git(args, { cwd });
  return r.stdout
    .split('\0')
    .filter((p) => p.trim() !== '')
    .map((p) => p.replace(/^\n+/, ''));
}

/** Staged paths (added, copied, modified, renamed) under `prefix`, repo-relative. */
export async function stagedPaths(cwd: string, prefix: string): Promise<string[]> {
  const r = await git(
    ['diff', '--cached', '--name-only', '-z', '--diff-filter=ACMR', '--', `:(top)${prefix}`],
    { cwd },
  );
  return r.stdout.split('\0').filter(Boolean);
}

/**
 * The staged content of each path (what a commit would store), read in one `git cat-file --batch`.
 * Text is decoded as UTF-8.
 */
export async function readStaged(cwd: string, paths: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (paths.length === 0) return out;
  const buf = await gitBytes(['cat-file', '--batch'], {
    cwd,
    input: paths.map((p) => `:${p}`).join('\n') + '\n',
  });
  let at = 0;
  for (const path of paths) {
    const nl = buf.indexOf(0x0a, at);
    if (nl < 0) break;
    const header = buf.subarray(at, nl).toString('utf8');
    at = nl + 1;
    const m = /^[0-9a-f]+ \w+ (\d+)$/.exec(header);
    if (!m) continue; // "<path> missing": not staged after all
    const size = Number(m[1]);
    out.set(path, buf.subarray(at, at + size).toString('utf8'));
    at += size + 1;
  }
  return out;
}

export async function configGet(cwd: string, key: string): Promise<string | undefined> {
  const r = await git(['config', '--get', key], { cwd, allowFailure: true });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

export async function isShallow(cwd: string): Promise<boolean> {
  const r = await git(['rev-parse', '--is-shallow-repository'], { cwd, allowFailure: true });
  return r.stdout.trim() === 'true';
}

/** `git --version` as numbers, e.g. [2, 39, 5]. */
export async function gitVersion(cwd: string): Promise<{ text: string; parts: number[] }> {
  const r = await git(['--version'], { cwd });
  const text = r.stdout.trim();
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return { text, parts: m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [] };
}

/** Is `path` (repo-relative) ignored by the repository's ignore rules? */
export async function isIgnored(cwd: string, path: string): Promise<boolean> {
  const r = await git(['check-ignore', '-q', '--no-index', '--', path], { cwd, allowFailure: true });
  return r.exitCode === 0;
}
