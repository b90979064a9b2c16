// Reads about a repository that gastown needs: where things are, what HEAD is, what is
// staged. All through the git binary (exec.ts).
import { resolve } from 'node:path';
import { GastownError } from '../errors.js';
import { notRegularMessage, tooLargeError } from '../store/atomic.js';
import { catFileBatch } from './cat-file.js';
import { git } from './exec.js';
import { SUBMODULE_MODE, SYMLINK_MODE } from './modes.js';

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

/** Where the repository is, without where its hooks are (what a hook run needs). */
export type RepoDirs = Omit<RepoPaths, 'hooksDir'>;

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

/** A staged change: its repo-relative path and the mode the index now holds (`000000` once deleted). */
export interface StagedChange {
  path: string;
  mode: string;
}

/**
 * Every staged change under `prefix` (added, modified, deleted; a rename as a deletion and an
 * addition), with its new mode, from one `git diff --raw`.
 */
export async function stagedChanges(cwd: string, prefix: string): Promise<StagedChange[]> {
  const r = await git(['diff', '--cached', '--raw', '-z', '--no-renames', '--', `:(top)${prefix}`], { cwd });
  // -z --raw: ":<old mode> <new mode> <old id> <new id> <status>\0<path>\0" per entry.
  const parts = r.stdout.split('\0');
  const out: StagedChange[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const mode = (parts[i] as string).split(' ')[1];
    if (mode !== undefined) out.push({ mode, path: parts[i + 1] as string });
  }
  return out;
}

/** A file as the index holds it: its text, or why it is not read (not a regular file, too large). */
export type IndexFile = { text: string } | { unreadable: string };

/**
 * The staged files under the given repo-relative paths (files or folders), read from the index
 * without ever loading a blob over `limit` bytes: sizes come first (`cat-file --batch-check`),
 * then only the blobs within the limit are read. Symbolic links and submodules are listed as
 * unreadable, never read. Three git calls whatever the number of files.
 */
export async function readIndexFiles(
  cwd: string,
  paths: readonly string[],
  limit: number,
): Promise<Map<string, IndexFile>> {
  const out = new Map<string, IndexFile>();
  if (paths.length === 0) return out;
  // Past a few thousand pathspecs the command line gets long: list the common folder instead.
  const many = paths.length > 2000;
  const specs = many ? [':(top).beads'] : paths.map((p) => `:(top,literal)${p}`);
  const wanted = many ? new Set(paths) : undefined;
  const listed = await git(['ls-files', '-s', '-z', '--', ...specs], { cwd });
  const blobs: { path: string; oid: string }[] = [];
  for (const entry of listed.stdout.split('\0')) {
    const m = /^(\d{6}) ([0-9a-f]+) (\d)\t(.+)$/s.exec(entry);
    if (m?.[3] !== '0') continue; // unmerged entries: git refuses such a commit itself
    const [, mode, oid, , path] = m as unknown as [string, string, string, string, string];
    if (wanted && !underAny(wanted, path)) continue;
    if (mode === SYMLINK_MODE) out.set(path, { unreadable: notRegularMessage('a symbolic link') });
    else if (mode === SUBMODULE_MODE) out.set(path, { unreadable: notRegularMessage('a submodule') });
    else blobs.push({ path, oid });
  }
  if (blobs.length === 0) return out;
  const sizes = (
    await git(['cat-file', '--batch-check=%(objectsize)'], {
      cwd,
      input: `${blobs.map((b) => b.oid).join('\n')}\n`,
    })
  ).stdout.split('\n');
  const small: { path: string; oid: string; size: number }[] = [];
  blobs.forEach((b, i) => {
    const size = Number(sizes[i]);
    if (!Number.isInteger(size)) out.set(b.path, { unreadable: `cannot read the staged blob ${b.oid}` });
    else if (size > limit) out.set(b.path, { unreadable: tooLargeError(b.path, size, limit).message });
    else small.push({ ...b, size });
  });
  if (small.length === 0) return out;
  const objects = await catFileBatch(
    cwd,
    small.map((b) => b.oid),
    true,
  );
  small.forEach((b, i) => {
    const o = objects[i];
    out.set(
      b.path,
      o ? { text: o.bytes.toString('utf8') } : { unreadable: `cannot read the staged blob ${b.oid}` },
    );
  });
  return out;
}

/** Is `path` one of `set`, or inside a folder that is? */
function underAny(set: ReadonlySet<string>, path: string): boolean {
  for (let cut = path.length; cut > 0; cut = path.lastIndexOf('/', cut - 1))
    if (set.has(path.slice(0, cut))) return true;
  return false;
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
