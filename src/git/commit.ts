// Commits exactly a given set of paths, leaving whatever else the user has staged staged and
// uncommitted. The commit's tree is HEAD's with those paths replaced (git/tree.ts), built
// without any index, so the user's index is never part of it and a crash while it is built
// leaves the user's index as it was; then HEAD
// moves with a compare-and-swap, so a commit racing ours fails loudly instead of being lost, and
// only then are the user's index entries for those paths brought up to the new HEAD. A journal
// in the git directory spans the ref move and that last step: a run that died in between is
// finished by the next one (finishInterruptedCommit). `commit-tree` runs no hooks: an engine
// commit can never re-trigger the hooks that caused it.
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GastownError } from '../errors.js';
import { commandEnv } from '../scope.js';
import { writeFileAtomic } from '../store/atomic.js';
import { faultPoint } from '../testing/fault.js';
import { algorithmOf, type HashAlgorithm } from './blob-id.js';
import { git } from './exec.js';
import { type Operation, operationInProgress } from './states.js';
import { type FileEntry, treeWithFiles, writeObject } from './tree.js';

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
  /** This worktree's git directory (for the journal). */
  gitDir: string;
  /** The common git directory (where the objects are); read from `gitDir` when absent. */
  commonDir?: string;
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
  /** The ref moved but the user's index could not be brought up to it (left to the next run). */
  indexBehind?: string;
}

/** What the journal records while HEAD moves and the user's index follows. */
interface Journal {
  parent: string | null;
  commit: string;
  paths: string[];
}

const JOURNAL = 'gastown-commit';

/** The journal of an engine commit in progress (or interrupted), in this worktree's git dir. */
export function commitJournalPath(gitDir: string): string {
  return join(gitDir, JOURNAL);
}

export async function commitFiles(opts: CommitFilesOptions): Promise<CommitFilesResult> {
  const op = operationInProgress(opts.gitDir);
  if (op && op !== opts.allowOperation)
    throw new GastownError('git.busy', `not committing: a ${op} is in progress`);
  if (opts.paths.length === 0) return {};
  const { root } = opts;
  const [parent, parentTree] = opts.head ? [opts.head.commit, opts.head.tree] : await readHead(root);
  const algorithm = parent ? algorithmOf(parent) : await objectFormat(root);
  const { tree, files } = await treeWithFiles({
    root,
    objectsDir: objectsDir(opts.gitDir, opts.commonDir),
    base: parentTree,
    paths: opts.paths,
    algorithm,
  });
  if (parent && parentTree === tree) return { parent };
  const commit =
    writeCommitObject({ ...opts, tree, parent, algorithm }) ??
    (
      await git(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-'], {
        cwd: root,
        env: {
          ...opts.env,
          GIT_AUTHOR_NAME: opts.identity.name,
          GIT_AUTHOR_EMAIL: opts.identity.email,
          GIT_COMMITTER_NAME: opts.identity.name,
          GIT_COMMITTER_EMAIL: opts.identity.email,
        },
        input: opts.message,
      })
    ).stdout.trim();
  // Tests kill the process here: the commit's objects are written, HEAD has not moved.
  faultPoint('commit-index');
  const journal = commitJournalPath(opts.gitDir);
  const entry: Journal = { parent: parent ?? null, commit, paths: [...opts.paths] };
  // Guards against a killed process, not a power cut: no fsync on the hot path.
  writeFileAtomic(journal, `${JSON.stringify(entry)}\n`, { durable: false });
  const subject = opts.message.split('\n', 1)[0] ?? '';
  // Compare-and-swap: fails if HEAD moved since we read it.
  const moved = await git(
    ['update-ref', '-m', `commit: ${subject}`, 'HEAD', commit, parent ?? '0'.repeat(40)],
    { cwd: root, allowFailure: true },
  );
  if (moved.exitCode !== 0) {
    rmSync(journal, { force: true });
    throw new GastownError(
      'git.failed',
      `HEAD moved while the engine committed; nothing committed (${moved.stderr.trim()})`,
    );
  }
  // And here: HEAD has moved, the user's index has not followed yet.
  faultPoint('commit-ref');
  const behind = await setIndexEntries(root, files, opts.env);
  if (behind === undefined) rmSync(journal, { force: true });
  return { commit, ...(parent ? { parent } : {}), ...(behind ? { indexBehind: behind } : {}) };
}

/**
 * The commit object `git commit-tree` would make (same bytes, so the same id), written as a loose
 * object from here: one git process fewer per engine commit. Undefined when git's own rules are
 * needed: an identity git would clean up (a `<`, `>` or line break inside, punctuation or blanks
 * at either end) or a GIT_AUTHOR_DATE / GIT_COMMITTER_DATE in a form other than `@<seconds>
 * <+hhmm>` or an ISO 8601 time with its zone. Dates otherwise come from the environment git would
 * see, else now in the local zone, as git's do.
 */
export function writeCommitObject(o: {
  gitDir: string;
  commonDir?: string | undefined;
  tree: string;
  parent?: string | undefined;
  message: string;
  identity: Identity;
  env?: Record<string, string> | undefined;
  algorithm: HashAlgorithm;
}): string | undefined {
  const { name, email } = o.identity;
  if (!plainIdent(name) || !plainIdent(email)) return undefined;
  const env = { ...commandEnv(), ...o.env };
  const author = gitDate(env.GIT_AUTHOR_DATE);
  const committer = gitDate(env.GIT_COMMITTER_DATE);
  if (!author || !committer) return undefined;
  const text =
    `tree ${o.tree}\n${o.parent ? `parent ${o.parent}\n` : ''}` +
    `author ${name} <${email}> ${author}\ncommitter ${name} <${email}> ${committer}\n\n${o.message}`;
  return writeObject(
    objectsDir(o.gitDir, o.commonDir),
    'commit',
    Buffer.from(text, 'utf8'),
    o.algorithm,
  ).toString('hex');
}

/** A name or email git writes as it is (fmt_ident drops `<`, `>`, newlines and trims "crud"). */
function plainIdent(s: string): boolean {
  return s !== '' && !/[<>\n]/.test(s) && !/^[\0- .,:;"\\']|[\0- .,:;"\\']$/.test(s);
}

/** `<seconds> <+hhmm>` as git records a date given in the environment, or now; undefined: ask git. */
function gitDate(value: string | undefined): string | undefined {
  if (value === undefined || value === '') {
    const offset = -new Date().getTimezoneOffset();
    return `${Math.floor(Date.now() / 1000)} ${zone(offset)}`;
  }
  const raw = /^@(\d{1,15}) ([+-]\d{4})$/.exec(value);
  if (raw) return `${raw[1]} ${raw[2]}`;
  const iso = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:?\d{2})$/.exec(value);
  if (!iso) return undefined;
  const [, y, mo, d, h, mi, sec, z] = iso as unknown as string[];
  const offset =
    z === 'Z' ? 0 : (z!.startsWith('-') ? -1 : 1) * (Number(z!.slice(1, 3)) * 60 + Number(z!.slice(-2)));
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  // Out-of-range fields (a 13th month, a 61st second) are git's to judge.
  const check = new Date(utc);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(sec) > 59)
    return undefined;
  return `${utc / 1000 - offset * 60} ${zone(offset)}`;
}

function zone(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
}

/**
 * Finishes an engine commit a dead run left halfway (its journal is still there). Call holding
 * the engine lock. HEAD at the journal's commit: the ref moved, so the user's index is brought up
 * to it for the committed paths. HEAD anywhere else: the ref never moved (or the user has
 * committed since, and their index is theirs), so there is nothing to finish. Returns what it
 * found; throws only when the index could not be updated (the journal then stays).
 */
export async function finishInterruptedCommit(
  root: string,
  gitDir: string,
  env?: Record<string, string>,
): Promise<'none' | 'finished' | 'dropped'> {
  const file = commitJournalPath(gitDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 'none';
  }
  let entry: Journal | undefined;
  try {
    const parsed = JSON.parse(text) as Journal;
    if (typeof parsed.commit === 'string' && Array.isArray(parsed.paths)) entry = parsed;
  } catch {
    /* torn: written atomically, so not ours to act on */
  }
  const [head] = await readHead(root);
  if (!entry || head !== entry.commit) {
    rmSync(file, { force: true });
    return 'dropped';
  }
  const behind = await followInIndex(root, entry.commit, entry.paths, env);
  if (behind !== undefined)
    throw new GastownError('git.failed', `could not bring the index up to HEAD: ${behind}`);
  rmSync(file, { force: true });
  return 'finished';
}

/**
 * After HEAD moved: the user's index lags it for exactly `files`; set just those entries to what
 * the commit holds (mode 0 removes one), so `git status` shows nothing for them and nothing else
 * in the index moves. The entries are known from building the tree, so git reads no tree (half
 * the time of a `git reset` of the same paths). Undefined when done, else why not.
 */
async function setIndexEntries(
  root: string,
  files: readonly FileEntry[],
  env: Record<string, string> | undefined,
): Promise<string | undefined> {
  const r = await git(['update-index', '-z', '--index-info'], {
    cwd: root,
    ...(env ? { env } : {}),
    input: files.map((f) => `${f.mode} ${f.id}\t${f.path}\0`).join(''),
    allowFailure: true,
  });
  return r.exitCode === 0 ? undefined : r.stderr.trim() || `git update-index exited ${r.exitCode}`;
}

/**
 * After HEAD moved to `commit`: the user's index lags it for exactly `paths`; bring just those
 * entries up to HEAD so `git status` shows nothing for them (and nothing else in the index
 * moves). Undefined when done, else why not.
 */
async function followInIndex(
  root: string,
  commit: string,
  paths: readonly string[],
  env: Record<string, string> | undefined,
): Promise<string | undefined> {
  const r = await git(['reset', '-q', commit, '--pathspec-from-file=-', '--pathspec-file-nul'], {
    cwd: root,
    env: { ...env, GIT_LITERAL_PATHSPECS: '1' },
    input: paths.map((p) => `${p}\0`).join(''),
    allowFailure: true,
  });
  return r.exitCode === 0 ? undefined : r.stderr.trim() || `git reset exited ${r.exitCode}`;
}

/**
 * Where this repository's objects go: GIT_OBJECT_DIRECTORY when git set one, else `objects` in
 * the common git directory (a linked worktree's git directory names it in `commondir`).
 */
function objectsDir(gitDir: string, commonDir: string | undefined): string {
  const env = commandEnv().GIT_OBJECT_DIRECTORY;
  if (env) return resolve(env);
  if (commonDir) return join(commonDir, 'objects');
  try {
    return join(resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim()), 'objects');
  } catch {
    return join(gitDir, 'objects');
  }
}

/** The hash of a repository with no commit yet to tell it by. */
async function objectFormat(root: string): Promise<HashAlgorithm> {
  const r = await git(['rev-parse', '--show-object-format'], { cwd: root, allowFailure: true });
  return r.stdout.trim() === 'sha256' ? 'sha256' : 'sha1';
}

async function readHead(root: string): Promise<(string | undefined)[]> {
  const head = await git(['rev-parse', 'HEAD', 'HEAD^{tree}'], { cwd: root, allowFailure: true });
  return head.exitCode === 0 ? head.stdout.trim().split('\n') : [];
}
