// The Node side of gastown's git hooks (`gastown hook <name>`), reached only when the shell
// runner's fast path found something that matters. Post-* hooks reconcile (applying the
// trailers of the commits that just landed) and commit what reconcile wrote; pre-commit
// validates the staged `.beads/` files and judges each molecule they touch. Nothing here may
// break git: every failure becomes a one-line warning and exit 0, except a pre-commit refusal
// (REFUSE_EXIT).

import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { AdvanceOptions, AdvanceResult } from '../engine/advance.js';
import type { TrailerCommit } from '../engine/catchup.js';
import { hasActionTrailer, isEngineCommit, trailerMolecules } from '../engine/trailers.js';
import { type CommitHead, commitJournalPath, finishInterruptedCommit } from '../git/commit.js';
import { git } from '../git/exec.js';
import { type RewriteMap, rememberRewrites } from '../git/head.js';
import { type RepoDirs, type RepoPaths, readIndexFiles, repoPaths, stagedChanges } from '../git/repo.js';
import { operationInProgress } from '../git/states.js';
import { commandEnv } from '../scope.js';
import { MAX_STATE_FILE_BYTES } from '../store/atomic.js';
import { isMoleculeId } from '../store/ids.js';
import { findRoot } from '../store/layout.js';
import { withLock } from '../store/lock.js';
import { hookTimerOff } from '../testing/fault.js';
import { type EngineCommitSettings, transitionTrailer } from './commit.js';
import { reconcileAndCommit as reconcileAndCommitService } from './service.js';
import { DEFAULT_HOOK_TIMEOUT_MS } from './settings.js';
import { formatProblem, type StagedProblem, type StagedValidators, validateStagedTree } from './validate.js';

/** Exit code the runner turns into "refuse the commit" (sysexits EX_DATAERR). */
export const REFUSE_EXIT = 65;

/** A commit as trailer handling needs it (engine/catchup.ts): full id, author, message. */
export type CommitRecord = TrailerCommit;

export interface HookDeps {
  /** advance for a caller that holds the engine lock (reconcileAndCommit takes it). */
  advance(opts: AdvanceOptions): Promise<AdvanceResult>;
  settings(root: string): EngineCommitSettings & { hookTimeoutMs: number };
  validators(root: string): Promise<StagedValidators>;
  now(): Date;
  /** One line to stderr (git shows hook output to the user). */
  log(line: string): void;
  env?: Record<string, string>;
}

/** How long a stopped hook's reconcile gets to reach a safe point before the hook returns. */
const STOP_GRACE_MS = 1000;

/**
 * Runs a hook within `[engine] hook_timeout`: past it the reconcile is told to stop (a gate
 * command in flight is signalled; every write is atomic and the next run takes what this one
 * left), and the hook returns so git goes on. Node keeps the time itself: no watchdog process.
 */
export async function runHook(
  name: string,
  args: readonly string[],
  stdin: string,
  cwd: string,
  deps: HookDeps,
): Promise<number> {
  const limitMs = hookTimeoutMs(cwd, deps);
  const stop = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const after = (ms: number) =>
    new Promise<'expired'>((resolve) => {
      timers.push(setTimeout(() => resolve('expired'), ms));
    });
  const work = hookBody(name, args, stdin, cwd, deps, stop.signal);
  try {
    const first = await (hookTimerOff() ? work : Promise.race([work, after(limitMs)]));
    if (first !== 'expired') return first;
    stop.abort();
    await Promise.race([work, after(STOP_GRACE_MS)]);
    deps.log(
      `gastown: ${name} stopped after ${limitMs / 1000}s (hook_timeout); git continues, run \`gastown advance\` to catch up`,
    );
    return 0;
  } finally {
    for (const t of timers) clearTimeout(t);
  }
}

function hookTimeoutMs(cwd: string, deps: HookDeps): number {
  try {
    return deps.settings(cwd).hookTimeoutMs;
  } catch {
    return DEFAULT_HOOK_TIMEOUT_MS; // a config the hook cannot read: the hook says why later
  }
}

async function hookBody(
  name: string,
  args: readonly string[],
  stdin: string,
  cwd: string,
  deps: HookDeps,
  signal: AbortSignal,
): Promise<number> {
  try {
    if (name === 'pre-commit') return await preCommit(cwd, deps);
    const paths = pathsFromRunner(cwd, commandEnv().GASTOWN_REPO_PATHS) ?? (await repoPaths(cwd));
    // post-rewrite runs while the finished rebase's state is still on disk; every other hook
    // waits for git to be done.
    // post-merge runs once the merge commit is made, while git still keeps MERGE_HEAD.
    const op = name === 'post-rewrite' ? undefined : operationInProgress(paths.gitDir);
    if (op && !(name === 'post-merge' && op === 'merge')) return 0;
    let commits: string[];
    let scope: string[] | undefined;
    let record: CommitRecord | undefined;
    let head: CommitHead | undefined;
    let rewrites: RewriteMap | undefined;
    if (name === 'post-commit') {
      // One `git log` gives the scope and the commit advance applies (id, author, trailers); the
      // runner's, when it handed it over.
      const given = headFromRunner(commandEnv().GASTOWN_HEAD_LOG);
      delete commandEnv().GASTOWN_HEAD_LOG; // not for the processes this one starts
      const read = given
        ? { record: given.record, scope: scopeOf(paths.root, given.record.message, given.names) }
        : await readCommit(paths.root, 'HEAD');
      commits = [read.record.sha];
      record = read.record;
      scope = read.scope;
      if (given) head = { commit: given.record.sha, tree: given.tree };
    } else if (name === 'post-rewrite') {
      if (args[0] !== 'rebase') return 0;
      rewrites = rewrittenFrom(stdin);
      commits = await withActionTrailers(paths.root, [...rewrites.keys()]);
      // Kept for later catch-ups, which see only the new ids.
      rememberRewrites(paths.gitDir, rewrites);
    } else if (name === 'post-merge') {
      commits = await withActionTrailers(paths.root, await mergedCommits(paths.root));
    } else if (name === 'post-checkout') {
      commits = [];
    } else {
      deps.log(`gastown: unknown hook ${name}; nothing done`);
      return 0;
    }
    await reconcileAndCommit(paths.root, commits, deps, {
      finishingRebase: name === 'post-rewrite',
      finishingMerge: name === 'post-merge',
      replayed: name === 'post-rewrite' || name === 'post-merge',
      rewrites,
      scope,
      paths,
      signal,
      ...(record ? { records: [record] } : {}),
      ...(head ? { head } : {}),
    });
  } catch (err) {
    // Stopped at the time limit: runHook says so.
    if (!signal.aborted)
      deps.log(`gastown: ${name}: ${oneLine(err)}; git continues (run \`gastown advance\` to catch up)`);
  }
  return 0;
}

/**
 * The runner's top level, git dir and common dir (GASTOWN_REPO_PATHS: found by the runner, or its
 * `git rev-parse --show-toplevel --absolute-git-dir --git-common-dir`), saving a git call; used
 * only when it is for this directory.
 */
export function pathsFromRunner(cwd: string, text: string | undefined): RepoDirs | undefined {
  const lines = text?.split('\n');
  if (lines?.length !== 3 || lines.some((l) => l === '')) return undefined;
  const [root, gitDir, commonDir] = lines as [string, string, string];
  if (resolve(cwd) !== root || !isAbsolute(gitDir)) return undefined;
  return { root, gitDir, commonDir: resolve(cwd, commonDir) };
}

/**
 * The runner's post-commit `git log` of HEAD (GASTOWN_HEAD_LOG): id, tree, author name and
 * email, the message, a line holding only \x01, then the names the commit touched. Undefined
 * when it is absent or not in that shape (then Node reads HEAD itself).
 */
export function headFromRunner(
  text: string | undefined,
): { record: CommitRecord; tree: string; names: string } | undefined {
  if (!text) return undefined;
  // The last one: git quotes a control character in a path, a message could hold anything.
  const cut = text.lastIndexOf('\n\x01');
  if (cut < 0) return undefined;
  const lines = text.slice(0, cut).split('\n');
  if (lines.length < 4) return undefined;
  const [sha = '', tree = '', authorName = '', authorEmail = ''] = lines;
  if (!OBJECT_ID.test(sha) || !OBJECT_ID.test(tree)) return undefined;
  return {
    record: { sha, authorName, authorEmail, message: lines.slice(4).join('\n') },
    tree,
    names: text.slice(cut + 2),
  };
}
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * New commit id → the id it was rewritten from, from post-rewrite's stdin (`<old> <new>` per
 * line), in order, once each.
 */
export function rewrittenFrom(stdin: string): RewriteMap {
  const out = new Map<string, string>();
  for (const line of stdin.split('\n')) {
    const [from, to] = line.trim().split(/\s+/);
    if (from && to && /^[0-9a-f]{7,64}$/.test(from) && /^[0-9a-f]{7,64}$/.test(to) && !out.has(to))
      out.set(to, from);
  }
  return out;
}

/** Commits a merge brought in (ORIG_HEAD..HEAD), oldest first; bounded so a huge pull stays quick. */
async function mergedCommits(root: string): Promise<string[]> {
  const r = await git(['rev-list', '--reverse', '--max-count=500', 'ORIG_HEAD..HEAD'], {
    cwd: root,
    allowFailure: true,
  });
  return r.exitCode === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/**
 * The molecules a commit can have changed: those its trailers name and those whose folder it
 * touched. A hook reconciles just these (a repository may hold thousands); undefined means
 * "all of them" (the commit changed formulas or config, or names a molecule that does not
 * exist, which the full run reports). Other molecules are caught up by any later full run.
 */
export async function touchedMolecules(root: string, rev: string): Promise<string[] | undefined> {
  return (await readCommit(root, rev)).scope;
}

/** A commit's record and its scope (touchedMolecules), from one `git log`. */
async function readCommit(
  root: string,
  rev: string,
): Promise<{ record: CommitRecord; scope: string[] | undefined }> {
  const r = await git(
    ['log', '-1', '-m', '--first-parent', '--format=%H%n%an%n%ae%n%B%x00', '--name-only', rev, '--'],
    { cwd: root },
  );
  const [head = '', names = ''] = r.stdout.split('\0');
  const [sha = '', authorName = '', authorEmail = '', ...body] = head.split('\n');
  const message = body.join('\n');
  return {
    record: { sha, authorName, authorEmail, message },
    scope: scopeOf(root, message, names),
  };
}

function scopeOf(root: string, message: string, names: string): string[] | undefined {
  const ids = new Set(trailerMolecules(message));
  for (const line of names.split('\n')) {
    const path = line.trim();
    if (!path.startsWith('.beads/')) continue;
    const m = /^\.beads\/molecules\/([^/]+)\//.exec(path);
    if (!m) return undefined;
    ids.add(m[1] as string);
  }
  if (ids.size === 0) return undefined;
  for (const id of ids)
    if (!isMoleculeId(id) || !existsSync(join(root, '.beads/molecules', id))) return undefined;
  return [...ids];
}

/** Of `commits` (in order), those whose message asks for a transition; one `git log` call. */
async function withActionTrailers(root: string, commits: readonly string[]): Promise<string[]> {
  if (commits.length === 0) return [];
  const r = await git(['log', '--no-walk=unsorted', '--format=%H%x00%B%x1e', ...commits, '--'], {
    cwd: root,
  });
  const keep: string[] = [];
  for (const rec of r.stdout.split('\x1e')) {
    const [sha, msg = ''] = rec.replace(/^\n+/, '').split('\0');
    if (sha && hasActionTrailer(msg) && !isEngineCommit(msg)) keep.push(sha);
  }
  return keep;
}

/**
 * Applies the trailers of each commit given (oldest first; the post-commit hook passes HEAD),
 * reconciles, and commits what was written in one engine commit.
 */
export async function reconcileAndCommit(
  root: string,
  commits: readonly string[],
  deps: HookDeps,
  options: {
    finishingRebase?: boolean;
    finishingMerge?: boolean;
    scope?: string[] | undefined;
    paths?: RepoDirs;
    /** Commits of `commits` already read, by id. */
    records?: CommitRecord[];
    /** HEAD and its tree as already read (the engine commit's parent). */
    head?: CommitHead;
    /** `commits` came in by a merge or a rebase rather than being made just now. */
    replayed?: boolean;
    /** What the rebase that brought `commits` rewrote. */
    rewrites?: RewriteMap | undefined;
    /** Stops the reconcile at its next safe point (the hook's time limit). */
    signal?: AbortSignal;
  } = {},
): Promise<void> {
  const settings = deps.settings(root);
  const lockWaitMs = Math.max(200, Math.min(2000, Math.floor(settings.hookTimeoutMs / 2)));
  const { scope } = options;
  const runs: AdvanceOptions[] = (commits.length > 0 ? commits : [undefined]).map((fromCommit) => {
    const run: AdvanceOptions = {
      root,
      now: deps.now(),
      molecules: scope,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    if (!fromCommit) return run;
    run.fromCommit = fromCommit;
    run.commitRecord = options.records?.find((c) => c.sha === fromCommit);
    // Merged or rebased commits may carry trailers about attempts re-opened since.
    run.replayed = options.replayed === true;
    if (options.rewrites?.has(fromCommit)) run.rewrites = options.rewrites;
    return run;
  });
  const { made } = await reconcileAndCommitService({
    root,
    runs,
    // A molecule finishing can unblock others (`after`, molecule gates): then look at all of them.
    widenOnCompletion: scope !== undefined,
    lockWaitMs,
    advance: deps.advance,
    beforeCommit(total) {
      for (const p of total.problems) {
        const where = p.file ?? (p.molecule ? `molecule ${p.molecule}` : '');
        deps.log(`gastown: warning: ${where ? `${where}: ` : ''}${p.message}`);
      }
      for (const t of total.transitions) deps.log(`gastown: ${transitionTrailer(t)}`);
    },
    commit: {
      settings,
      env: deps.env,
      // The molecules this commit touched: facts an earlier run left uncommitted go in now.
      molecules: scope,
      finishingRebase: options.finishingRebase === true,
      finishingMerge: options.finishingMerge === true,
      paths: options.paths,
      head: options.head,
    },
  });
  if (!made) return;
  for (const h of made.held ?? []) deps.log(`gastown: ${h.molecule} not committed: ${h.reason}`);
  if (made.commit)
    deps.log(`gastown: engine commit ${made.commit.slice(0, 7)} (${made.paths.length} file(s))`);
  else if (made.skipped === 'operation-in-progress') {
    deps.log('gastown: state written but not committed: git is in the middle of another operation');
  }
  if (made.indexBehind !== undefined)
    deps.log(
      `gastown: the index could not follow the engine commit (${made.indexBehind}); run \`gastown advance --commit\``,
    );
}

async function preCommit(cwd: string, deps: HookDeps): Promise<number> {
  let problems: StagedProblem[];
  try {
    const paths = await repoPaths(cwd);
    await finishEngineCommit(paths, deps);
    const staged = await stagedChanges(paths.root, '.beads');
    if (staged.length === 0) return 0;
    const changed = staged.map((c) => c.path);
    // The changed files, and every staged file of each molecule they touch (judged whole).
    const molecules = uniqueStrings(changed.map((p) => /^\.beads\/molecules\/[^/]+/.exec(p)?.[0]));
    const index = await readIndexFiles(paths.root, [...changed, ...molecules], MAX_STATE_FILE_BYTES);
    const { nonRegularEntries } = await import('./validators.js');
    problems = [
      // A deleted entry (mode 000000) is no link.
      ...nonRegularEntries(staged.filter((c) => c.mode !== '000000')),
      ...(await validateStagedTree(changed, index, await deps.validators(paths.root))),
    ];
  } catch (err) {
    // Validation could not run: say so and let the commit through (CI runs the same checks).
    deps.log(`gastown: pre-commit check could not run: ${oneLine(err)}; commit allowed`);
    return 0;
  }
  if (problems.length === 0) return 0;
  for (const p of problems) deps.log(`gastown: ${formatProblem(p)}`);
  deps.log(
    `gastown: commit refused: ${problems.length} problem(s) in staged .beads/ files (fix them, or \`git commit --no-verify\` to skip)`,
  );
  return REFUSE_EXIT;
}

/**
 * An engine commit that died after moving HEAD left the index behind it (git/commit.ts): this
 * commit would undo it. Finished here, when no other gastown process is at work; git reads the
 * index again after pre-commit.
 */
async function finishEngineCommit(paths: RepoPaths, deps: HookDeps): Promise<void> {
  if (!existsSync(commitJournalPath(paths.gitDir))) return;
  try {
    const done = await withLock(findRoot(paths.root), 500, () =>
      finishInterruptedCommit(paths.root, paths.gitDir),
    );
    if (done === 'finished')
      deps.log('gastown: finished an interrupted engine commit (index brought up to HEAD)');
  } catch (err) {
    deps.log(`gastown: an interrupted engine commit is still unfinished: ${oneLine(err)}`);
  }
}

function uniqueStrings(xs: readonly (string | undefined)[]): string[] {
  return [...new Set(xs.filter((x): x is string => x !== undefined))];
}

function oneLine(err: unknown): string {
  const e = err as { message?: string; location?: { file?: string } };
  const msg = (e?.message ?? String(err)).split('\n')[0] ?? '';
  return e?.location?.file ? `${e.location.file}: ${msg}` : msg;
}
