// Reads the facts `gastown doctor` judges: git, hooks, node, every `.beads/` file, molecule
// references, the lock, shallowness. No judgement here (see checks.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InjectedDate, TEST_CLOCK_SWITCH, testClockOn } from '../clock.js';
import type { MoleculeState } from '../engine/types.js';
import type { HumanGate } from '../formula/model.js';
import { gitVersion, isShallow, type RepoPaths } from '../git/repo.js';
import { commandEnv } from '../scope.js';
import {
  fileKind,
  isUnreadableStateError,
  notRegularMessage,
  readSharedFile,
  readSmallFile,
} from '../store/atomic.js';
import { isMoleculeId } from '../store/ids.js';
import { beadsTreeProblems } from '../store/links.js';
import { clearDeadLock, judgeHolder, lockPath, readLock } from '../store/lock.js';
import type { EventFact } from '../store/types.js';
import type { DoctorFacts, OverdueCheckpoint } from './checks.js';

const EVENTS_DIR = /^\.beads\/molecules\/[^/]+\/events$/;

/** One folder's worth of `.beads/` entries: regular files (repo-relative) and every other entry. */
interface Listing {
  files: string[];
  special: { file: string; kind: string }[];
}

/**
 * Lists `rel` as doctor sees `.beads/`: every regular file except the cache and writers' temp
 * files, and every other entry (symlink, fifo, device, socket) with what it is; those are
 * reported, never followed or read. `stopAt` names a folder listed on its own (not descended).
 */
function listTree(root: string, rel: string, out: Listing, stopAt?: string): boolean {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(join(root, rel), { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) {
    const child = `${rel}/${e.name}`;
    if (child === '.beads/.cache' || e.name.includes('.gastown-tmp-')) continue;
    if (child === stopAt && e.isDirectory()) continue;
    // Every entry of events/ is a fact file: a folder there is no fact (fold says the same).
    if (e.isDirectory() && !EVENTS_DIR.test(rel)) listTree(root, child, out);
    else if (e.isFile()) out.files.push(child);
    else out.special.push({ file: child, kind: fileKind(e) });
  }
  return true;
}

function nodeOnPath(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v node'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function readLockFact(root: string): DoctorFacts['lock'] {
  const held = readLock(lockPath(root));
  if (!held) return undefined;
  if (held.kind === 'special') return { alive: false, sameHost: true, special: held.what };
  const info = held.info;
  if (!info) return { alive: false, sameHost: true };
  const holder = judgeHolder(info);
  return {
    pid: info.pid,
    host: info.host,
    ...(typeof info.started === 'string' ? { started: info.started } : {}),
    alive: holder.state === 'running' || holder.state === 'remote',
    sameHost: holder.state !== 'remote',
    ...(holder.state === 'gone' || holder.state === 'foreign' ? { why: holder.why } : {}),
    ...(holder.state === 'foreign' ? { foreign: true } : {}),
  };
}

/**
 * `doctor --fix`: removes a lock no gastown process can hold (its holder gone or not gastown, a
 * torn file, a link, an empty folder), judged again right before removing; says why it kept one.
 */
export function removeStaleLock(root: string): { removed?: string; kept?: string } {
  return clearDeadLock(root);
}

/** The clock doctor judges deadlines by: `GASTOWN_NOW` under the test switch (src/clock.ts), else now. */
function clock(): Date {
  const env = commandEnv();
  const fixed = env.GASTOWN_NOW && testClockOn(env) ? new InjectedDate(env.GASTOWN_NOW) : undefined;
  return fixed && !Number.isNaN(fixed.getTime()) ? fixed : new Date();
}

/** A molecule folded from its files; a folder that cannot be read, with why. */
type Folded = { id: string; state: MoleculeState } | { id: string; error: string };

/** What judging one molecule needs, loaded once per run. */
interface Judges {
  root: string;
  now: Date;
  file: typeof import('../checkpoint/file.js');
  authors: typeof import('../checkpoint/authors.js');
  deadline: typeof import('../checkpoint/deadline.js');
  duration: typeof import('../gates/duration.js');
  io: typeof import('../engine/io.js');
  reconcile: typeof import('../engine/reconcile.js');
  verdict: typeof import('../engine/verdict.js');
  /** undefined: `.beads/config.toml` is broken, which the file check reports; no audit then. */
  config: import('../store/types.js').GastownConfig | undefined;
  /** When a file was first committed, from the same batched walk the gates use. */
  firstCommitTime(root: string, rel: string): Promise<Date | undefined>;
}

async function loadJudges(
  root: string,
  now: Date,
  firstCommitTime?: Judges['firstCommitTime'],
): Promise<Judges> {
  const [file, authors, deadline, duration, io, reconcile, verdict, config] = await Promise.all([
    import('../checkpoint/file.js'),
    import('../checkpoint/authors.js'),
    import('../checkpoint/deadline.js'),
    import('../gates/duration.js'),
    import('../engine/io.js'),
    import('../engine/reconcile.js'),
    import('../engine/verdict.js'),
    import('../store/config.js'),
  ]);
  let cfg: Judges['config'];
  try {
    cfg = config.loadConfig(root);
  } catch {
    cfg = undefined;
  }
  return {
    root,
    now,
    file,
    authors,
    deadline,
    duration,
    io,
    reconcile,
    verdict,
    config: cfg,
    firstCommitTime: firstCommitTime ?? ((r, rel) => deadline.requestCommittedAt(r, rel)),
  };
}

/**
 * Checkpoints of one molecule whose request still says `decision: pending` after its deadline
 * (the commit time of the request plus the gate's timeout, as the engine counts it). Read from
 * the files and git only; nothing is planned or written.
 */
async function overdueIn(f: Folded, j: Judges): Promise<OverdueCheckpoint[]> {
  if (!('state' in f)) return []; // unreadable folders are reported by the file check
  const { id, state } = f;
  if (!state.formula || state.facts.completed || state.facts.cancelled || state.digest) return [];
  const out: OverdueCheckpoint[] = [];
  for (const step of state.formula.steps) {
    const gate = step.gate;
    if (gate?.type !== 'human' || !(gate as HumanGate).timeout) continue;
    const { timeout, on_timeout } = gate as HumanGate & { timeout: string };
    const s = state.stepById.get(step.id);
    if (!s || s.status === 'done' || s.status === 'skipped' || s.status === 'failed') continue;
    const checkpoint = j.file.checkpointId(step.id, s.attempt);
    const rel = j.file.checkpointPaths.request(checkpoint);
    const text = state.files.get(rel);
    if (text === undefined || j.authors.decisionIn(text) !== 'pending') continue;
    const repoRel = `${state.dir}/${rel}`;
    const d = j.deadline.checkpointDeadline(timeout, await j.firstCommitTime(j.root, repoRel), j.now);
    if (!d.overdue || !d.deadline) continue;
    out.push({
      molecule: id,
      checkpoint,
      file: repoRel,
      deadline: d.deadline.toISOString(),
      overdueBy: j.duration.formatDuration(j.now.getTime() - d.deadline.getTime()),
      timeout,
      onTimeout: on_timeout,
      timedOut: s.facts['timed-out'] !== undefined,
    });
  }
  return out;
}

/** How far the molecule pass has got: molecules judged, of how many. */
export type DoctorProgress = (done: number, total: number) => void;

/** What doctor learns without reading `.beads/`: git, hooks, node, the lock. */
async function environmentFacts(paths: RepoPaths, beadsExists: boolean): Promise<DoctorFacts> {
  const { root } = paths;
  // Loaded here, not at the top: verify uses this module's molecule audit, not the hooks.
  const { hooksStatus } = await import('../triggers/install.js');
  const [git, shallow, hooks] = await Promise.all([gitVersion(root), isShallow(root), hooksStatus(paths)]);
  return {
    git,
    root,
    beadsExists,
    hooks: {
      mode: hooks.mode,
      dir: hooks.dir,
      hooks: hooks.hooks,
      runnerPresent: hooks.runner.present,
      runnerCurrent: hooks.runnerCurrent,
      runnerFile: hooks.runner.file,
      ...(hooks.runner.node ? { node: hooks.runner.node } : {}),
      nodeReachable: hooks.nodeReachable,
      ...(hooks.runner.cli ? { cli: hooks.runner.cli } : {}),
      cliPresent: hooks.cliPresent,
    },
    nodeOnPath: nodeOnPath(),
    fileProblems: [],
    filesChecked: 0,
    molecules: [],
    lock: readLockFact(root),
    shallow,
  };
}

type Validators = Awaited<ReturnType<typeof import('../triggers/validators.js').stagedValidators>>;

/** Reads, validates and notes the molecule references of listings, keeping only the findings. */
class FileCheck {
  filesChecked = 0;
  readonly unreadable: { file: string; location: string; message: string }[];
  readonly invalid: { file: string; location: string; message: string }[] = [];
  readonly molecules: DoctorFacts['molecules'] = [];

  constructor(
    private readonly root: string,
    readonly linked: Set<string>,
    tree: { file: string; message: string }[],
    private readonly validators: Validators,
    private readonly staged: typeof import('../triggers/validate.js'),
    private readonly parse: (text: string) => unknown,
    private readonly formulaKnown: (name: string) => boolean,
  ) {
    this.unreadable = tree.map((p) => ({ ...p, location: p.file }));
  }

  /** One listing: what it read, or why not. */
  check(listing: Listing): Read {
    this.filesChecked += listing.files.length + listing.special.length;
    for (const { file, kind } of listing.special)
      if (!this.linked.has(file))
        this.unreadable.push({ file, location: file, message: notRegularMessage(kind) });
    const read = this.read(listing.files.sort());
    // formatProblem with an empty message gives just the location (`file:line: path`).
    for (const p of this.staged.validateStaged(read.texts, this.validators))
      this.invalid.push({
        file: p.file,
        location: this.staged.formatProblem({ ...p, message: '' }),
        message: p.message,
      });
    for (const [file, text] of read.texts) this.noteMolecule(file, text);
    return read;
  }

  private read(files: string[]): Read {
    const texts = new Map<string, string>();
    const errors = new Map<string, string>();
    for (const f of files) {
      // Bounded and regular-only (store/atomic.ts): a huge file is named, not read.
      try {
        const path = join(this.root, f);
        texts.set(f, f.endsWith(FROZEN_FORMULA) ? readSharedFile(path) : readSmallFile(path));
      } catch (err) {
        if (!isUnreadableStateError(err)) throw err;
        this.unreadable.push({ file: f, location: f, message: err.message });
        errors.set(f, err.message);
      }
    }
    return { texts, errors };
  }

  private noteMolecule(file: string, text: string): void {
    const m = MOLECULE_FILE.exec(file);
    if (!m) return;
    let meta: Record<string, unknown>;
    try {
      meta = this.parse(text) as Record<string, unknown>;
    } catch {
      return; // reported by the file check
    }
    const formula = typeof meta.formula === 'string' ? meta.formula : undefined;
    const after = typeof meta.after === 'string' ? meta.after : undefined;
    this.molecules.push({
      id: m[1] as string,
      file,
      ...(formula !== undefined ? { formula } : {}),
      formulaKnown: formula === undefined || this.formulaKnown(formula),
      ...(after !== undefined ? { after } : {}),
    });
  }
}

/** Findings of the molecule pass. */
interface Judged {
  overdue: OverdueCheckpoint[];
  audited: { molecule: string; file: string; message: string }[];
  count: number;
}

/**
 * `.beads/` file by file, molecule by molecule: each file is read once, validated, and the
 * molecule folded from the same texts and judged, then let go, so memory holds one molecule's
 * files at a time and the findings (not every file of every molecule).
 */
export async function gatherFacts(
  paths: RepoPaths,
  now: Date = clock(),
  progress?: DoctorProgress,
): Promise<DoctorFacts> {
  const { root } = paths;
  const beadsExists = existsSync(join(root, '.beads'));
  const facts = await environmentFacts(paths, beadsExists);
  if (!beadsExists) return facts;

  const tree = beadsTreeProblems(root);
  const { stagedValidators } = await import('../triggers/validators.js');
  const { createFileLibrary, formulaSearchDirs } = await import('../formula/index.js');
  const { parse } = await import('smol-toml');
  const lib = createFileLibrary(formulaSearchDirs(root));
  const files = new FileCheck(
    root,
    new Set(tree.map((p) => p.file)),
    tree,
    await stagedValidators(root),
    await import('../triggers/validate.js'),
    parse,
    (name) => lib.find(name) !== undefined,
  );
  const { fileAddedAt, judgingEverything } = await import('../gates/facts.js');
  judgingEverything();
  const j = await loadJudges(root, now, (r, rel) => fileAddedAt(r, rel, false));
  const judged = await checkEverything(j, files, progress);
  facts.moleculeProblems = [...judged.audited, ...(await frozenFileEdits(root))];
  facts.filesChecked = files.filesChecked;
  facts.fileProblems = [
    ...files.unreadable.sort((a, b) => a.file.localeCompare(b.file)),
    ...files.invalid.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)),
  ];
  facts.molecules = files.molecules.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  facts.overdue = judged.overdue;
  facts.moleculesAudited = j.config ? judged.count : 0;
  return facts;
}

/** Checks every file outside the molecule folders, then each molecule in turn, and judges it. */
async function checkEverything(j: Judges, files: FileCheck, progress?: DoctorProgress): Promise<Judged> {
  const { root } = j;
  const { linked } = files;
  const judged: Judged = { overdue: [], audited: [], count: 0 };
  const judge = async (f: Folded) => {
    judged.overdue.push(...(await overdueIn(f, j)));
    if (j.config) judged.audited.push(...(await auditOne(f, j)));
    judged.count++;
  };
  // Everything but the molecule folders, which are read one at a time below.
  const rest: Listing = { files: [], special: [] };
  if (!linked.has('.beads')) listTree(root, '.beads', rest, MOLECULES_DIR);
  files.check(rest);
  const walkable = !linked.has('.beads') && !linked.has(MOLECULES_DIR);
  const { dirs, loose } = moleculesEntries(root, walkable);
  files.check(loose);
  // Molecule names as the engine lists them (through a linked molecules/ too, as it does).
  const ids = j.io.listMoleculeIds(root);
  const tick = () => progress?.(judged.count, ids.length);
  tick();
  for (const name of [...new Set([...dirs, ...ids])].sort()) {
    if (dirs.has(name)) {
      const listing: Listing = { files: [], special: [] };
      listTree(root, `${MOLECULES_DIR}/${name}`, listing);
      const read = files.check(listing);
      if (!isMoleculeId(name)) continue;
      await judge(foldChecked(j, name, read, listing));
    } else {
      // Not a real folder (a link or a file: fold reports it), or molecules/ itself linked.
      await judge(foldRead(j, name));
    }
    tick();
  }
  return judged;
}

/** The folders in molecules/, and what else is there (a file, a link named like a molecule). */
function moleculesEntries(root: string, walkable: boolean): { dirs: Set<string>; loose: Listing } {
  let entries: import('node:fs').Dirent[] = [];
  try {
    if (walkable) entries = readdirSync(join(root, MOLECULES_DIR), { withFileTypes: true });
  } catch {
    entries = [];
  }
  const dirs = new Set(entries.filter((e) => e.isDirectory()).map((e) => e.name));
  const loose: Listing = { files: [], special: [] };
  for (const e of entries) {
    const file = `${MOLECULES_DIR}/${e.name}`;
    if (e.isDirectory() || e.name.includes('.gastown-tmp-')) continue;
    if (e.isFile()) loose.files.push(file);
    else loose.special.push({ file, kind: fileKind(e) });
  }
  return { dirs, loose };
}

const MOLECULES_DIR = '.beads/molecules';
/** A listing's texts by repo-relative path, and why each file that could not be read was not. */
interface Read {
  texts: Map<string, string>;
  errors: Map<string, string>;
}
const MOLECULE_FILE = /^\.beads\/molecules\/([^/]+)\/molecule\.toml$/;
const FROZEN_FORMULA = '/formula.resolved.toml';

/**
 * The molecule folded from the texts doctor read and checked, as engine/io.ts readMoleculeFiles
 * would have read them: hidden names are no state, and what is not a regular file, or too big,
 * is unreadable with why.
 */
function foldChecked(j: Judges, id: string, { texts, errors }: Read, listing: Listing): Folded {
  const prefix = `${MOLECULES_DIR}/${id}/`;
  const files = new j.io.FolderFiles();
  const hidden = (rel: string) => rel.split('/').some((s) => j.io.isHiddenName(s));
  for (const f of listing.files) {
    const rel = f.slice(prefix.length);
    if (hidden(rel)) continue;
    const text = texts.get(f);
    if (text !== undefined) files.set(rel, text);
  }
  for (const f of listing.files) {
    const rel = f.slice(prefix.length);
    const why = errors.get(f);
    if (why !== undefined && !hidden(rel)) files.unreadable.set(rel, why);
  }
  for (const { file, kind } of listing.special) {
    const rel = file.slice(prefix.length);
    if (!hidden(rel)) files.unreadable.set(rel, notRegularMessage(kind));
  }
  try {
    return { id, state: j.reconcile.foldFiles(id, files) };
  } catch (err) {
    return { id, error: (err as Error).message };
  }
}

function foldRead(j: Judges, id: string): Folded {
  try {
    return { id, state: j.reconcile.foldFiles(id, j.io.readMoleculeFiles(j.root, id)) };
  } catch (err) {
    return { id, error: (err as Error).message };
  }
}

const FROZEN_FILES = [
  ':(glob).beads/molecules/*/molecule.toml',
  ':(glob).beads/molecules/*/formula.resolved.toml',
];

/**
 * molecule.toml and formula.resolved.toml are written once, by `molecule create`, so one whose
 * content differs from what the commit that added it holds is a hand edit, even an edit that
 * keeps `formula_hash` and the frozen formula in agreement. Reported with the newest commit that
 * modified it; a file restored to its first content is not reported.
 */
async function frozenFileEdits(root: string): Promise<{ molecule: string; file: string; message: string }[]> {
  const { git } = await import('../git/exec.js');
  const run = async (args: string[]) =>
    (await git([...args, '--', ...FROZEN_FILES], { cwd: root, allowFailure: true })).stdout;
  // Newest first: the last add of a path is its creation, the first modification the newest.
  const added = new Map<string, string>();
  for (const m of (await run(['log', '--diff-filter=A', '--no-abbrev', '--raw', '--format='])).matchAll(
    /^:\S+ \S+ \S+ (\S+) A\t(.+)$/gm,
  ))
    added.set(m[2] as string, m[1] as string);
  const modifiedBy = new Map<string, string>();
  for (const entry of (await run(['log', '--diff-filter=M', '--name-only', '--format=%x00%H'])).split('\0')) {
    const [commit = '', ...files] = entry.split('\n').filter((l) => l !== '');
    for (const f of files) if (!modifiedBy.has(f)) modifiedBy.set(f, commit.slice(0, 12));
  }
  const edited = new Map<string, string>();
  for (const m of (await run(['ls-files', '-s'])).matchAll(/^\d+ (\S+) \d\t(.+)$/gm)) {
    const [, blob, file] = m as unknown as [string, string, string];
    const first = added.get(file);
    if (first === undefined || first === blob) continue;
    const by = modifiedBy.get(file);
    edited.set(file, by ? `changed by commit ${by}` : 'changed (staged)');
  }
  for (const f of (await run(['diff', '--name-only'])).split('\n'))
    if (f !== '' && added.has(f)) edited.set(f, 'changed in the working tree');
  return [...edited].map(([file, what]) => ({
    molecule: file.split('/')[2] as string,
    file,
    message: `${what} after the molecule was created; it is written once, by \`gastown molecule create\`: restore it from git (\`git log -p -- ${file}\`)`,
  }));
}

/** Event files (molecule-relative) whose fact says a test clock decided it (gates/human.ts). */
function injectedClockFacts(state: MoleculeState, pathOf: (f: EventFact) => string): string[] {
  const out: string[] = [];
  for (const s of state.steps)
    for (const facts of [s.facts, ...Object.values(s.history)])
      for (const f of Object.values(facts)) if (f.extra.clock === 'injected') out.push(pathOf(f));
  return out;
}

/**
 * One molecule's verdict, as `molecule status` and `list` give it (engine/verdict.ts: the plan,
 * and for a completed, cancelled or squashed molecule the audit of every fact), completed ones
 * too: an auditor's pass over the whole history the files hold.
 */
async function auditOne(
  f: Folded,
  j: Judges,
): Promise<{ molecule: string; file: string; message: string }[]> {
  const { id } = f;
  if (!('state' in f)) return [{ molecule: id, file: j.io.moleculeRelDir(id), message: f.error }];
  const ctx = { root: j.root, config: j.config as NonNullable<Judges['config']>, now: j.now };
  const { state, plan } = await j.verdict.judgeState(f.state, ctx);
  const found = j.reconcile.stateProblems(state, plan);
  for (const rel of injectedClockFacts(state, j.io.eventPathOf))
    found.push({
      molecule: id,
      file: `${state.dir}/${rel}`,
      message: `recorded under an injected clock (GASTOWN_NOW with ${TEST_CLOCK_SWITCH}=1, a switch for tests): no real time decided it; remove the file (history stays in git) or re-open the step`,
    });
  return found.map((p) => ({ molecule: id, file: p.file ?? j.io.moleculeRelDir(id), message: p.message }));
}

/** doctor's audit of molecules folded by the caller (`verify` judges the ones a range touches). */
export async function auditMolecules(
  root: string,
  now: Date,
  folded: readonly Folded[],
): Promise<{ count: number; problems: { molecule: string; file: string; message: string }[] }> {
  const j = await loadJudges(root, now);
  if (!j.config) return { count: 0, problems: [] }; // the file check reports a broken config
  const problems: { molecule: string; file: string; message: string }[] = [];
  for (const f of folded) problems.push(...(await auditOne(f, j)));
  return { count: folded.length, problems };
}
