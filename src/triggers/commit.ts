// Engine commits: after a trigger's reconcile writes files, commit exactly those files in a
// commit of the engine's own, so `git log` tells agents' and people's commits apart from the
// engine's, and `git log -- .beads/molecules/<id>` reads as the molecule's history.
import { type Dirent, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decisionIn, localIdentity } from '../checkpoint/authors.js';
import { MOLECULE_KEY, TRANSITION_KEY } from '../engine/trailers.js';
import { GastownError } from '../errors.js';
import { blobId } from '../git/blob-id.js';
import { type CommitHead, commitFiles, finishInterruptedCommit, type Identity } from '../git/commit.js';
import { git } from '../git/exec.js';
import { listTree } from '../git/ls-tree.js';
import { type RepoDirs, repoPaths } from '../git/repo.js';
import { type Operation, operationInProgress } from '../git/states.js';
import { clearUnfinishedRun, markUnfinishedRun, unfinishedRunMarked } from '../store/lock.js';
import { parseFlatToml } from '../store/toml.js';

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

/** A molecule left out of an engine commit, and why. */
export interface HeldMolecule {
  molecule: string;
  reason: string;
}

export interface EngineCommit {
  /** The new commit's id; absent when nothing was committed (see `skipped`). */
  commit?: string;
  /** Molecules whose files were left out (an approval behind them is not committed). */
  held?: HeldMolecule[];
  message?: string;
  /** Why nothing was committed. */
  skipped?: 'disabled' | 'nothing-written' | 'operation-in-progress' | 'unchanged';
  /** Files committed (or that would have been). */
  paths: string[];
  /** HEAD moved but the user's index could not follow it; the next run finishes that. */
  indexBehind?: string;
}

const SUBJECT_MAX = 72;

/** `m1/implement ready`, or `m1 completed` for a molecule-level transition. */
export function transitionTrailer(t: TransitionLike): string {
  return `${t.step ? `${t.molecule}/${t.step}` : t.molecule} ${t.kind}`;
}

/** How a transition's kind reads in a commit subject. */
const SUBJECT_VERB: Record<string, string> = {
  reopened: 're-opened',
  checkpoint: 'opened',
  'timed-out': 'timed out',
};

/** `analysis done`, `review checkpoint opened`, `completed` (a molecule-level transition). */
function subjectPhrase(t: TransitionLike): string {
  const verb = SUBJECT_VERB[t.kind] ?? t.kind;
  if (!t.step) return verb;
  const what = t.kind === 'checkpoint' && !/checkpoint$/.test(t.step) ? `${t.step} checkpoint` : t.step;
  return `${what} ${verb}`;
}

/**
 * `day3 analysis done; analysis-checkpoint opened; m2 completed`: each transition named, the
 * molecule once before its first, cut to `max` characters with `and N more`.
 */
function engineSubject(transitions: readonly TransitionLike[], max: number): string {
  const parts: string[] = [];
  let previous: string | undefined;
  for (const t of transitions) {
    const phrase = subjectPhrase(t);
    parts.push(t.molecule === previous ? phrase : `${t.molecule} ${phrase}`);
    previous = t.molecule;
  }
  const all = parts.join('; ');
  if (all.length <= max) return all;
  for (let n = parts.length - 1; n >= 1; n--) {
    const cut = `${parts.slice(0, n).join('; ')} and ${parts.length - n} more`;
    if (cut.length <= max) return cut;
  }
  const more = ` and ${parts.length - 1} more`;
  return `${(parts[0] as string).slice(0, Math.max(1, max - more.length - 3))}...${parts.length > 1 ? more : ''}`;
}

/**
 * The engine commit message: a subject `gastown: <what happened>` (a lone transition's own
 * summary, else each transition named), then one `Gastown-Molecule`
 * trailer per molecule touched and one `Gastown-Transition` trailer per transition, in order.
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
  const room = SUBJECT_MAX - 'gastown: '.length;
  const only = transitions.length === 1 ? transitions[0] : undefined;
  let summary = only?.summary
    ? only.summary
    : transitions.length > 0
      ? engineSubject(transitions, room)
      : `record state of ${molecules.join(', ') || '.beads'}`;
  if (summary.length > room) summary = `${summary.slice(0, room - 3)}...`;
  const trailers = [
    ...molecules.map((m) => `${MOLECULE_KEY}: ${m}`),
    ...transitions.map((t) => `${TRANSITION_KEY}: ${transitionTrailer(t)}`),
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
 * in the middle of a rebase, merge, cherry-pick or revert. Call holding the engine lock (the
 * lock is released only once HEAD has moved): an engine commit an earlier run left halfway is
 * finished first.
 */
export async function commitTransitions(
  root: string,
  result: ReconcileOutcome,
  settings: EngineCommitSettings,
  env?: Record<string, string>,
  options: {
    finishingRebase?: boolean;
    finishingMerge?: boolean;
    paths?: RepoDirs;
    head?: CommitHead;
    /** Molecules to look at even when nothing of theirs was written (a hook's scope). */
    molecules?: readonly string[];
  } = {},
): Promise<EngineCommit> {
  let paths = uniq(result.written);
  if (!settings.commit) return { skipped: 'disabled', paths };
  // After a run that died holding the lock, its files too (they are in no commit otherwise).
  const unfinished = unfinishedRunMarked(root);
  const scope = options.molecules ?? [];
  if (paths.length === 0 && scope.length === 0 && !unfinished) return { skipped: 'nothing-written', paths };
  const where = options.paths ?? (await repoPaths(root));
  // A run that died after moving HEAD left the index behind it: bring it up first.
  await finishInterruptedCommit(where.root, where.gitDir, env);
  let head = options.head;
  if (unfinished) paths = uniq([...paths, ...(await leftByUnfinishedRun(root))]);
  if (paths.length === 0 && scope.length === 0) {
    if (unfinished) clearUnfinishedRun(root);
    return { skipped: 'nothing-written', paths };
  }
  const op = operationInProgress(where.gitDir);
  // A finishing rebase (post-rewrite) has already pointed the branch at its result once HEAD
  // is symbolic again; committing on top of it is safe. Anything else in progress: wait.
  const finishing =
    (op === 'rebase' && options.finishingRebase === true && (await headIsSymbolic(where.root))) ||
    // post-merge: the merge commit is made; MERGE_HEAD is what git has not cleaned up yet.
    (op === 'merge' && options.finishingMerge === true);
  if (op && !finishing) return { skipped: 'operation-in-progress', paths };
  // A molecule this run found invalid (a fact that cannot stand, a conflict) publishes nothing:
  // what it would publish is what other clones would then call invalid too.
  const invalid = invalidMolecules(result.problems);
  // Approvals behind the checkpoints these files record are committed first as the person the
  // engine judged them by; a molecule whose published state would differ from what the engine
  // judged is held back (publishGuard).
  const guard = await publishGuard(where.root, new Set(result.written), paths, scope, invalid, head?.commit);
  paths = guard.paths;
  // The engine's mail about the molecules published goes with them (written by a command that
  // does not commit, or by a run that died): typed mail is named after its molecule.
  paths = uniq([...paths, ...engineMailOf(guard.untrackedMail, paths)]);
  let votes = [...guard.votes.values()].flat();
  const me = votes.length > 0 ? await localIdentity(where.root) : {};
  if (votes.length > 0 && !me.email) {
    // Nobody to commit them as: the molecules whose `done` rests on them wait.
    for (const [molecule, files] of guard.votes)
      guard.held.push({
        molecule,
        reason: `${files.join(', ')} is not committed and there is no git identity here (user.email) to commit it as the person who decided`,
      });
    paths = paths.filter((p) => !guard.votes.has(moleculeOfPath(p) ?? ''));
    votes = [];
  }
  if (paths.length === 0) {
    if (unfinished) clearUnfinishedRun(root);
    return { skipped: 'nothing-written', paths, held: guard.held };
  }
  // The engine commit goes on top of the approval commit: HEAD as the caller read it is no longer HEAD.
  if (
    votes.length > 0 &&
    me.email &&
    (await commitVotes(root, where, votes, me.email, me.name, { env, op, finishing, head }))
  )
    head = undefined;
  const message = engineCommitMessage(result.transitions, paths);
  const made = await commitFiles({
    root: where.root,
    gitDir: where.gitDir,
    commonDir: where.commonDir,
    paths,
    message,
    identity: settings.identity,
    ...(env ? { env } : {}),
    ...(finishing && op ? { allowOperation: op } : {}),
    ...(head ? { head } : {}),
  });
  // The ref moved but the index did not follow: the journal stays for the next run to finish.
  if (made.indexBehind !== undefined) markUnfinishedRun(root);
  else if (unfinished) clearUnfinishedRun(root);
  const held = guard.held.length > 0 ? { held: guard.held } : {};
  const behind = made.indexBehind !== undefined ? { indexBehind: made.indexBehind } : {};
  if (!made.commit) return { skipped: 'unchanged', paths, ...held };
  return { commit: made.commit, message, paths, ...held, ...behind };
}

/** Each molecule this run found invalid (a fact that cannot stand, a conflict), with why. */
function invalidMolecules(problems: ReconcileOutcome['problems']): Map<string, string> {
  const invalid = new Map<string, string>();
  for (const p of problems)
    if (p.molecule && p.file && !invalid.has(p.molecule)) invalid.set(p.molecule, `${p.file}: ${p.message}`);
  return invalid;
}

/**
 * Commits the votes behind this run's approvals as the local identity (the person the engine
 * judged them by); true when a commit was made.
 */
async function commitVotes(
  root: string,
  where: RepoDirs,
  votes: string[],
  email: string,
  name: string | undefined,
  how: {
    env?: Record<string, string> | undefined;
    op: Operation | undefined;
    finishing: boolean;
    head?: CommitHead | undefined;
  },
): Promise<boolean> {
  const approval = await commitFiles({
    root: where.root,
    gitDir: where.gitDir,
    commonDir: where.commonDir,
    paths: votes,
    message: `checkpoint decision in ${votes.map((v) => v.replace(/^\.beads\/molecules\//, '')).join(', ')}\n`,
    identity: { name: name ?? email, email },
    ...(how.env ? { env: how.env } : {}),
    ...(how.finishing && how.op ? { allowOperation: how.op } : {}),
    ...(how.head ? { head: how.head } : {}),
  });
  if (approval.indexBehind !== undefined) {
    markUnfinishedRun(root);
    throw new GastownError(
      'git.failed',
      `committed the checkpoint decision as ${approval.commit?.slice(0, 12)} but could not update the index (${approval.indexBehind}); run \`gastown advance --commit\` again`,
    );
  }
  return approval.commit !== undefined;
}

/** One `git status --porcelain -z` entry: a path and its two status letters. */
interface StatusEntry {
  path: string;
  code: string;
}

/** `git status --porcelain -z --no-renames` output (so no entry carries a second path). */
function parseStatus(out: string): StatusEntry[] {
  return out
    .split('\0')
    .filter((e) => e.length > 3)
    .map((e) => ({ code: e.slice(0, 2), path: e.slice(3) }));
}

/**
 * What publishGuard needs of `git status` for the molecules `touched`, found without it when the
 * answer is plain: every file of their folders is as HEAD has it (same mode, same bytes) or is
 * one of `committing`, and no file HEAD has there is gone but those. `git status` reads the whole
 * index and looks up every name in it for untracked files (14 ms of CPU at 1,000 molecules, ~100
 * ms at 10,000); this reads the folders and HEAD's listing of them (git/ls-tree.ts; in a hook,
 * the listing the engine read the trailer's molecule from). Undefined when anything else is found
 * (an edit, a deletion, a new file, a link): `git status` then says what. The working tree
 * against HEAD is what matters: it is what the engine judged and what the commit publishes (a
 * change only staged stays the user's). Entries come as `git status` gives them for the files
 * being committed (`??` new, ` M` changed, ` D` gone), plus the untracked engine mail about
 * `touched`.
 */
async function plainStatus(
  root: string,
  touched: readonly string[],
  committing: ReadonlySet<string>,
  head: string,
): Promise<StatusEntry[] | undefined> {
  const files: string[] = [];
  for (const id of touched) if (!filesUnder(root, `.beads/molecules/${id}`, files)) return undefined;
  const ids = new Set(touched);
  const mail: string[] = [];
  let boxes: Dirent[] = [];
  try {
    boxes = readdirSync(join(root, MAIL_DIR), { withFileTypes: true });
  } catch {
    /* no mail yet */
  }
  for (const box of boxes) {
    if (!box.isDirectory()) continue;
    let names: string[];
    try {
      names = readdirSync(join(root, MAIL_DIR, box.name));
    } catch {
      return undefined;
    }
    for (const name of names) {
      const path = `${MAIL_DIR}/${box.name}/${name}`;
      if (!committing.has(path) && ids.has(mailMoleculeOf(path) ?? '')) mail.push(path);
    }
  }
  const inHead = await listTree(root, head, [...touched.map((id) => `.beads/molecules/${id}/`), ...mail]);
  if (!inHead) return undefined;
  const out: StatusEntry[] = mail.filter((p) => !inHead.has(p)).map((path) => ({ code: '??', path }));
  const present = new Set(files);
  for (const path of files) {
    const was = inHead.get(path);
    const same = was !== undefined && sameAsBlob(root, path, was.mode, was.id);
    if (same) continue;
    if (!committing.has(path)) return undefined;
    out.push({ code: was ? ' M' : '??', path });
  }
  for (const path of inHead.keys()) {
    if (present.has(path) || path.startsWith(`${MAIL_DIR}/`)) continue;
    if (!committing.has(path)) return undefined;
    out.push({ code: ' D', path });
  }
  return out;
}

/** Adds the files under `rel` to `out`; false when it is not a folder or holds anything but files and folders. */
function filesUnder(root: string, rel: string, out: string[]): boolean {
  let entries: Dirent[];
  try {
    if (!lstatSync(join(root, rel)).isDirectory()) return false;
    entries = readdirSync(join(root, rel), { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) {
    const path = `${rel}/${e.name}`;
    if (e.isDirectory()) {
      if (!filesUnder(root, path, out)) return false;
    } else if (e.isFile()) out.push(path);
    else return false;
  }
  return true;
}

/** The working-tree file `path` is a regular file with HEAD's `mode` and the bytes of blob `id`. */
function sameAsBlob(root: string, path: string, mode: string, id: string): boolean {
  if (mode !== '100644' && mode !== '100755') return false;
  try {
    const full = join(root, path);
    if (((lstatSync(full).mode & 0o111) !== 0) !== (mode === '100755')) return false;
    return blobId(readFileSync(full), id.length) === id;
  } catch {
    return false;
  }
}

/** Not in HEAD, present in the working tree: untracked, or added to the index and still there. */
const isNew = (c: StatusEntry) => c.code === '??' || (c.code[0] === 'A' && c.code[1] !== 'D');
/** Not in HEAD and not in the working tree either (added, then deleted): nothing differs. */
const isGone = (c: StatusEntry) => c.code[0] === 'A' && c.code[1] === 'D';

function describeChange(c: StatusEntry): string {
  if (c.code === '??') return `${c.path} (untracked)`;
  if (c.code.includes('U') || c.code === 'AA' || c.code === 'DD') return `${c.path} (unmerged)`;
  if (c.code.includes('D')) return `${c.path} (deleted)`;
  return `${c.path} (modified)`;
}

/**
 * What an engine commit may publish of each molecule it touches. Other clones judge a molecule
 * by what is committed, so the commit must hold everything of that molecule the engine judged:
 * - its untracked facts, reports and pending checkpoint requests (a hand-written `done`, what a
 *   run that died or `checkpoint approve` recorded) go in with this run's files;
 * - a vote behind a `done` this run recorded goes into an approval commit of its own, authored by
 *   the local identity (the one the engine just judged it by);
 * - a vote behind a `done` an earlier run recorded (its author is not known here), and any other
 *   uncommitted change in the molecule's folder (an edited file, a deleted one, an output not
 *   added), hold the whole molecule back, with the reason, until someone commits it.
 */
async function publishGuard(
  root: string,
  writtenNow: ReadonlySet<string>,
  paths: string[],
  scope: readonly string[],
  invalid: ReadonlyMap<string, string>,
  /** HEAD's commit id when the caller has read it. */
  head?: string,
): Promise<{ paths: string[]; votes: Map<string, string[]>; held: HeldMolecule[]; untrackedMail: string[] }> {
  const held: HeldMolecule[] = [...invalid].map(([molecule, reason]) => ({ molecule, reason }));
  const withoutHeld = (list: string[]) => {
    const ids = new Set(held.map((h) => h.molecule));
    return ids.size === 0 ? list : list.filter((p) => !ids.has(moleculeOfPath(p) ?? mailMoleculeOf(p) ?? ''));
  };
  const touched = uniq([...paths.map(moleculeOfPath).filter(isString), ...scope]).filter(
    (id) => !invalid.has(id),
  );
  if (touched.length === 0) return { paths: withoutHeld(paths), votes: new Map(), held, untrackedMail: [] };
  let listed = await plainStatus(root, touched, new Set(paths), head ?? 'HEAD');
  if (!listed) {
    const r = await git(
      [
        // Reading only: a status that refreshed stat data would write the whole index back.
        '--no-optional-locks',
        'status',
        '--porcelain',
        '-z',
        '--untracked-files=all',
        '--no-renames',
        '--',
        ...touched.map((id) => `.beads/molecules/${id}`),
        // The untracked mail too, in the same call (engineMailOf).
        MAIL_DIR,
      ],
      { cwd: root, allowFailure: true },
    );
    if (r.exitCode !== 0) {
      const why = `git status failed, so what the commit would publish is unknown: ${r.stderr.trim().split('\n')[0]}`;
      for (const id of touched) held.push({ molecule: id, reason: why });
      return { paths: withoutHeld(paths), votes: new Map(), held, untrackedMail: [] };
    }
    listed = parseStatus(r.stdout);
  }
  const untrackedMail = listed
    .filter((c) => c.code === '??' && c.path.startsWith(`${MAIL_DIR}/`))
    .map((c) => c.path);
  const changed = listed.filter((c) => !isGone(c) && !c.path.startsWith(`${MAIL_DIR}/`));
  const committing = new Set(paths);
  const votes = new Map<string, string[]>();
  const extra: string[] = [];
  for (const id of touched) {
    const verdict = guardMolecule(root, id, changed, paths, committing, writtenNow);
    if (verdict.hold) {
      held.push({ molecule: id, reason: verdict.hold });
      continue;
    }
    if (verdict.votes.length > 0) votes.set(id, verdict.votes);
    extra.push(...verdict.more);
  }
  return { paths: withoutHeld(uniq([...paths, ...extra])), votes, held, untrackedMail };
}

/**
 * One molecule's part of publishGuard: the votes behind this run's approvals, the engine-made
 * files to add, or why the molecule is held back.
 */
function guardMolecule(
  root: string,
  id: string,
  changed: StatusEntry[],
  paths: string[],
  committing: ReadonlySet<string>,
  writtenNow: ReadonlySet<string>,
): { hold?: string; votes: string[]; more: string[] } {
  const dir = `.beads/molecules/${id}/`;
  const mine = changed.filter((c) => c.path.startsWith(dir));
  const dones = uniq([
    ...paths.filter((p) => p.startsWith(`${dir}events/`) && p.endsWith('.done.toml')),
    ...mine.filter((c) => isNew(c) && /\/events\/[^/]+\.done\.toml$/.test(c.path)).map((c) => c.path),
  ]);
  const now: string[] = [];
  let hold: string | undefined;
  for (const done of dones) {
    const pending = votesBehind(root, dir, done, mine);
    if (pending.length === 0) continue;
    if (writtenNow.has(done)) now.push(...pending);
    else
      hold ??= `${pending.join(', ')} is not committed, and the approval recorded from it (${done}) was recorded by an earlier run: commit it as the person who decided`;
  }
  const more: string[] = [];
  const others: StatusEntry[] = [];
  for (const c of mine) {
    if (committing.has(c.path) || now.includes(c.path)) continue;
    if (isNew(c) && engineMadeFile(root, c.path)) more.push(c.path);
    else others.push(c);
  }
  if (!hold && others.length > 0) {
    const listed = others.slice(0, 3).map(describeChange).join(', ');
    const rest = others.length > 3 ? ` and ${others.length - 3} more` : '';
    hold = `${listed}${rest} not committed, and the engine judged the molecule with it: commit it (or restore it), then run \`gastown advance --commit\``;
  }
  return hold ? { hold, votes: [], more: [] } : { votes: uniq(now), more };
}

/** The uncommitted checkpoint request and approval files a `done` fact rests on. */
function votesBehind(root: string, dir: string, done: string, mine: StatusEntry[]): string[] {
  let fields: Record<string, unknown>;
  try {
    fields = parseFlatToml(readFileSync(join(root, done), 'utf8'), done);
  } catch {
    return []; // unreadable or not TOML: the engine reports it; nothing to hold back here
  }
  const cause =
    typeof fields.cause === 'string' ? /^(checkpoints\/[^/]+)\.md$/.exec(fields.cause)?.[1] : undefined;
  if (!cause) return [];
  const request = `${dir}${cause}.md`;
  const approvals = `${dir}${cause}.approvals/`;
  return mine.filter((c) => c.path === request || c.path.startsWith(approvals)).map((c) => c.path);
}

/** Untracked files under `.beads/molecules/`, repo-relative (one `git ls-files`). */
async function untrackedMoleculeFiles(root: string): Promise<string[]> {
  const r = await git(['ls-files', '-z', '--others', '--exclude-standard', '--', '.beads/molecules'], {
    cwd: root,
    allowFailure: true,
  });
  return r.exitCode === 0 ? r.stdout.split('\0').filter((p) => p !== '') : [];
}

/** `.beads/mail/<folder>/<molecule>.<…>.<type>.md` (the engine's typed mail) → `<molecule>`. */
export function mailMoleculeOf(path: string): string | undefined {
  return /^\.beads\/mail\/[^/]+\/([a-z0-9][a-z0-9-]*)\.[^/]+\.md$/.exec(path)?.[1];
}

const MAIL_DIR = '.beads/mail';

/** Of the untracked mail, the engine's typed mail about the molecules `paths` publish. */
function engineMailOf(untracked: readonly string[], paths: readonly string[]): string[] {
  const molecules = new Set(paths.map(moleculeOfPath).filter(isString));
  return molecules.size === 0 ? [] : untracked.filter((p) => molecules.has(mailMoleculeOf(p) ?? ''));
}

/** Molecules with untracked files in `events/`. */
export async function moleculesWithUntrackedFacts(root: string): Promise<string[]> {
  return uniq(
    (await untrackedMoleculeFiles(root))
      .map((p) => /^\.beads\/molecules\/([^/]+)\/events\/[^/]+$/.exec(p)?.[1])
      .filter(isString),
  );
}

/**
 * A file only the engine makes, which an engine commit may carry when it is untracked: a fact, a
 * gate report, a checkpoint request still pending. Never an approvals file nor a request carrying
 * a decision (a person's vote, which must keep its author).
 */
function engineMadeFile(root: string, rel: string): boolean {
  if (/^\.beads\/molecules\/[^/]+\/(events|reports)\/[^/]+$/.test(rel)) return true;
  if (!/^\.beads\/molecules\/[^/]+\/checkpoints\/[^/]+\.md$/.test(rel)) return false;
  try {
    return decisionIn(readFileSync(join(root, rel), 'utf8')) === 'pending';
  } catch {
    return false;
  }
}

/** What a run that died may have left: the untracked files only the engine makes. */
async function leftByUnfinishedRun(root: string): Promise<string[]> {
  return (await untrackedMoleculeFiles(root)).filter((p) => engineMadeFile(root, p));
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
