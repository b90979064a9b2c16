// HEAD's commit id read from the git directory's files, without starting git: a plain
// `advance` asks whether HEAD moved since its last catch-up on every run, and a git process
// costs more than the whole no-op run may. Anything unusual (an unborn branch, a symbolic ref
// chain, a ref format this does not know) gives undefined and the caller asks git.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface HeadFacts {
  /** This worktree's git directory (HEAD and the catch-up mark live here). */
  gitDir: string;
  sha: string;
}

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

// The gatherers ask for HEAD and the shallow boundary once per molecule on a cold run: files
// that are usually missing (commondir, shallow) or a folder (.git) are checked without opening
// them, since a failed read throws and an exception costs more than the check.
const readIfFile = (path: string): string | undefined => (existsSync(path) ? read(path) : undefined);

/** `<root>/.git` as a directory, or the `gitdir:` a linked worktree's `.git` file names. */
export function gitDirOf(root: string): string | undefined {
  const dotGit = join(root, '.git');
  const st = statSync(dotGit, { throwIfNoEntry: false });
  const text = st && !st.isDirectory() ? read(dotGit) : undefined;
  if (text === undefined) return dotGit; // a directory, nothing, or not readable
  const m = /^gitdir:\s*(.+)$/m.exec(text);
  return m ? resolve(root, (m[1] as string).trim()) : undefined;
}

/** The directory shared by every worktree: `commondir` names it from a linked worktree's git dir. */
function commonDirOf(gitDir: string): string {
  const common = readIfFile(join(gitDir, 'commondir'))?.trim();
  return common ? resolve(gitDir, common) : gitDir;
}

/** A shallow clone (`git clone --depth`): who made a commit past its boundary cannot be told. */
export function isShallowClone(root: string): boolean {
  return shallowBoundary(root).size > 0;
}

/**
 * The commits at a shallow clone's boundary (`<common dir>/shallow`): each seems to add every
 * file it has, so git's answer to "which commit set this line" is wrong there.
 */
export function shallowBoundary(root: string): Set<string> {
  const gitDir = gitDirOf(root);
  const text = gitDir !== undefined ? readIfFile(join(commonDirOf(gitDir), 'shallow')) : undefined;
  return new Set(
    (text ?? '')
      .split('\n')
      .filter((l) => OBJECT_ID.test(l.trim()))
      .map((l) => l.trim()),
  );
}

export function readHead(root: string): HeadFacts | undefined {
  const gitDir = gitDirOf(root);
  if (!gitDir) return undefined;
  const head = read(join(gitDir, 'HEAD'))?.trim();
  if (head === undefined) return undefined;
  if (OBJECT_ID.test(head)) return { gitDir, sha: head };
  const ref = /^ref:\s*(refs\/\S+)$/.exec(head)?.[1];
  if (!ref || ref.includes('..')) return undefined;
  // Branch refs live in the common directory, shared by every worktree.
  const commonDir = commonDirOf(gitDir);
  const loose = read(join(commonDir, ref))?.trim();
  if (loose !== undefined) return OBJECT_ID.test(loose) ? { gitDir, sha: loose } : undefined;
  const packed = read(join(commonDir, 'packed-refs'));
  if (packed === undefined) return undefined;
  for (const line of packed.split('\n')) {
    const [sha, name] = line.split(' ');
    if (name === ref && sha && OBJECT_ID.test(sha)) return { gitDir, sha };
  }
  return undefined;
}

/**
 * The branch HEAD names when it has no commit yet (a new repository before its first commit):
 * `refs/heads/<name>`, found neither as a loose ref nor in packed-refs. Undefined otherwise,
 * including for a ref file that exists but does not hold an object id.
 */
export function unbornBranch(root: string): string | undefined {
  const gitDir = gitDirOf(root);
  if (!gitDir) return undefined;
  const ref = /^ref:\s*(refs\/heads\/\S+)$/.exec(read(join(gitDir, 'HEAD'))?.trim() ?? '')?.[1];
  if (!ref || ref.includes('..')) return undefined;
  const commonDir = commonDirOf(gitDir);
  if (existsSync(join(commonDir, ref))) return undefined;
  const packed = readIfFile(join(commonDir, 'packed-refs'));
  if (packed?.split('\n').some((line) => line.split(' ')[1] === ref)) return undefined;
  return ref;
}

/** HEAD when this clone last caught up commit trailers (engine/catchup.ts), kept per worktree. */
export const CATCH_UP_MARK = 'gastown-trailers-head';

export function readCatchUpMark(gitDir: string): string | undefined {
  return read(join(gitDir, CATCH_UP_MARK))?.trim() || undefined;
}

/** True when HEAD moved since the last catch-up (or none was made): the quiet check must not vouch. */
export function headMovedSinceCatchUp(root: string): boolean {
  const head = readHead(root);
  return head !== undefined && readCatchUpMark(head.gitDir) !== head.sha;
}

/**
 * Rebases remembered (post-rewrite's `<old> <new>` lines, per worktree), so a catch-up that
 * meets a rewritten commit judges it as it was written. Bounded: the newest lines are kept.
 */
export const REWRITES_FILE = 'gastown-rewrites';
const MAX_REWRITES = 10_000;

/** What a rebase rewrote: new commit id → the id it was written as (post-rewrite's stdin). */
export type RewriteMap = ReadonlyMap<string, string>;

/** The commit `sha` was written as: its id before a rebase, else itself. */
export function writtenAs(sha: string, rewrites: RewriteMap | undefined): string {
  return rewrites?.get(sha) ?? sha;
}

export function readRewrites(gitDir: string): RewriteMap {
  const out = new Map<string, string>();
  for (const line of (read(join(gitDir, REWRITES_FILE)) ?? '').split('\n')) {
    const [from, to] = line.split(' ');
    if (from && to && OBJECT_ID.test(from) && OBJECT_ID.test(to)) out.set(to, out.get(from) ?? from);
  }
  return out;
}

export function rememberRewrites(gitDir: string, pairs: RewriteMap): void {
  if (pairs.size === 0) return;
  const old = (read(join(gitDir, REWRITES_FILE)) ?? '').split('\n').filter((l) => l !== '');
  const lines = [...old, ...[...pairs].map(([to, from]) => `${from} ${to}`)].slice(-MAX_REWRITES);
  try {
    writeFileSync(join(gitDir, REWRITES_FILE), `${lines.join('\n')}\n`);
  } catch {
    /* best effort: without it a catch-up judges a rebased commit where it now sits */
  }
}
