// Reads the facts `gastown doctor` judges: git, hooks, node, every `.beads/` file, molecule
// references, the lock, shallowness. No judgement here (see checks.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MoleculeState } from '../engine/types.js';
import type { HumanGate } from '../formula/model.js';
import { gitVersion, isShallow, type RepoPaths } from '../git/repo.js';
import { fileKind, isUnreadableStateError, notRegularMessage, readSmallFile } from '../store/atomic.js';
import { beadsTreeProblems } from '../store/links.js';
import { clearDeadLock, judgeHolder, lockPath, readLock } from '../store/lock.js';
import { hooksStatus } from '../triggers/install.js';
import { formatProblem, validateStaged } from '../triggers/validate.js';
import type { DoctorFacts, OverdueCheckpoint } from './checks.js';

const EVENTS_DIR = /^\.beads\/molecules\/[^/]+\/events$/;

/**
 * Every regular file under `.beads/` except the cache, repo-relative, and every other entry
 * (symlink, fifo, device, socket) with what it is: those are reported, never followed or read.
 */
export function listBeadsFiles(root: string): { files: string[]; special: { file: string; kind: string }[] } {
  const files: string[] = [];
  const special: { file: string; kind: string }[] = [];
  const walk = (rel: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (child === '.beads/.cache' || e.name.includes('.gastown-tmp-')) continue;
      // Every entry of events/ is a fact file: a folder there is no fact (fold says the same).
      if (e.isDirectory() && !EVENTS_DIR.test(rel)) walk(child);
      else if (e.isFile()) files.push(child);
      else special.push({ file: child, kind: fileKind(e) });
    }
  };
  // A linked `.beads` (or molecules/, .cache/) is reported by beadsTreeProblems, not walked.
  if (beadsTreeProblems(root).some((p) => p.file === '.beads')) return { files, special };
  walk('.beads');
  return { files: files.sort(), special };
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

/** The clock doctor judges deadlines by: `GASTOWN_NOW` when set (as every command honours), else now. */
function clock(): Date {
  const fixed = process.env.GASTOWN_NOW ? new Date(process.env.GASTOWN_NOW) : undefined;
  return fixed && !Number.isNaN(fixed.getTime()) ? fixed : new Date();
}

/**
 * Checkpoints whose request still says `decision: pending` after its deadline (the commit time
 * of the request plus the gate's timeout, as the engine counts it). Read from the files and
 * git only; nothing is planned or written.
 */
/** Every molecule folded once, for the checks below; a folder that cannot be read, with why. */
type Folded = { id: string; state: MoleculeState } | { id: string; error: string };

async function foldAll(root: string): Promise<Folded[]> {
  const [io, reconcile] = await Promise.all([import('../engine/io.js'), import('../engine/reconcile.js')]);
  return io.listMoleculeIds(root).map((id) => {
    try {
      return { id, state: reconcile.foldFiles(id, io.readMoleculeFiles(root, id)) };
    } catch (err) {
      return { id, error: (err as Error).message };
    }
  });
}

export async function findOverdueCheckpoints(
  root: string,
  now: Date,
  folded: readonly Folded[],
): Promise<OverdueCheckpoint[]> {
  const [file, authors, waits, duration] = await Promise.all([
    import('../checkpoint/file.js'),
    import('../checkpoint/authors.js'),
    import('../gates/waits.js'),
    import('../gates/duration.js'),
  ]);
  const out: OverdueCheckpoint[] = [];
  for (const f of folded) {
    if (!('state' in f)) continue; // unreadable folders are reported by the file check
    const { id, state } = f;
    if (!state.formula || state.facts.completed || state.facts.cancelled || state.digest) continue;
    for (const step of state.formula.steps) {
      const gate = step.gate;
      if (gate?.type !== 'human' || !(gate as HumanGate).timeout) continue;
      const { timeout, on_timeout } = gate as HumanGate & { timeout: string };
      const s = state.stepById.get(step.id);
      if (!s || s.status === 'done' || s.status === 'skipped' || s.status === 'failed') continue;
      const checkpoint = file.checkpointId(step.id, s.attempt);
      const rel = file.checkpointPaths.request(checkpoint);
      const text = state.files.get(rel);
      if (text === undefined || authors.decisionIn(text) !== 'pending') continue;
      const repoRel = `${state.dir}/${rel}`;
      const d = waits.evaluateDeadline(timeout, await authors.firstCommitTime(root, repoRel), now);
      if (!d.overdue || !d.deadline) continue;
      out.push({
        molecule: id,
        checkpoint,
        file: repoRel,
        deadline: d.deadline.toISOString(),
        overdueBy: duration.formatDuration(now.getTime() - d.deadline.getTime()),
        timeout,
        onTimeout: on_timeout,
        timedOut: s.facts['timed-out'] !== undefined,
      });
    }
  }
  return out;
}

export async function gatherFacts(paths: RepoPaths, now: Date = clock()): Promise<DoctorFacts> {
  const { root } = paths;
  const beadsExists = existsSync(join(root, '.beads'));
  const [git, shallow, hooks] = await Promise.all([gitVersion(root), isShallow(root), hooksStatus(paths)]);
  const facts: DoctorFacts = {
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
  if (!beadsExists) return facts;

  const { files, special } = listBeadsFiles(root);
  const tree = beadsTreeProblems(root);
  const unreadable = [
    ...tree.map((p) => ({ ...p, location: p.file })),
    ...special
      .filter(({ file }) => !tree.some((p) => p.file === file))
      .map(({ file, kind }) => ({ file, location: file, message: notRegularMessage(kind) })),
  ];
  const texts = new Map<string, string>();
  for (const f of files) {
    // Bounded and regular-only (store/atomic.ts): a huge file is named, not read.
    try {
      texts.set(f, readSmallFile(join(root, f)));
    } catch (err) {
      if (!isUnreadableStateError(err)) throw err;
      unreadable.push({ file: f, location: f, message: err.message });
    }
  }
  const { stagedValidators } = await import('../triggers/validators.js');
  const validators = await stagedValidators(root);
  facts.filesChecked = files.length + special.length;
  // formatProblem with an empty message gives just the location (`file:line: path`).
  facts.fileProblems = [
    ...unreadable.sort((a, b) => a.file.localeCompare(b.file)),
    ...validateStaged(texts, validators).map((p) => ({
      file: p.file,
      location: formatProblem({ ...p, message: '' }),
      message: p.message,
    })),
  ];

  const { createFileLibrary, formulaSearchDirs } = await import('../formula/index.js');
  const { parse } = await import('smol-toml');
  const lib = createFileLibrary(formulaSearchDirs(root));
  for (const file of files) {
    const m = /^\.beads\/molecules\/([^/]+)\/molecule\.toml$/.exec(file);
    if (!m) continue;
    let meta: Record<string, unknown>;
    try {
      meta = parse(texts.get(file) ?? '') as Record<string, unknown>;
    } catch {
      continue; // reported by the file check
    }
    const formula = typeof meta.formula === 'string' ? meta.formula : undefined;
    const after = typeof meta.after === 'string' ? meta.after : undefined;
    facts.molecules.push({
      id: m[1]!,
      file,
      ...(formula !== undefined ? { formula } : {}),
      formulaKnown: formula === undefined || lib.find(formula) !== undefined,
      ...(after !== undefined ? { after } : {}),
    });
  }
  const folded = await foldAll(root);
  facts.overdue = await findOverdueCheckpoints(root, now, folded);
  const audit = await auditMolecules(root, now, folded);
  facts.moleculeProblems = audit.problems;
  facts.moleculesAudited = audit.count;
  return facts;
}

/**
 * Folds every molecule and checks each fact stands as the engine would before planning
 * (plan.ts `unbackedFacts`), completed ones too: an auditor's pass over the whole history the
 * files hold. Checkpoint decisions are judged from git as `advance` judges them.
 */
export async function auditMolecules(
  root: string,
  now: Date,
  folded: readonly Folded[],
): Promise<{ count: number; problems: { molecule: string; file: string; message: string }[] }> {
  const [io, reconcile, plan, gates, config] = await Promise.all([
    import('../engine/io.js'),
    import('../engine/reconcile.js'),
    import('../engine/plan.js'),
    import('../engine/gates.js'),
    import('../store/config.js'),
  ]);
  const problems: { molecule: string; file: string; message: string }[] = [];
  let cfg: ReturnType<typeof config.loadConfig>;
  try {
    cfg = config.loadConfig(root);
  } catch {
    return { count: 0, problems }; // the file check reports a broken config
  }
  const env = { config: cfg, now, moleculeStatus: io.fileMoleculeStatus(root) };
  for (const f of folded) {
    const { id } = f;
    if (!('state' in f)) {
      problems.push({ molecule: id, file: io.moleculeRelDir(id), message: f.error });
      continue;
    }
    const { state } = f;
    const found = reconcile.stateProblems(state);
    const formula = state.formula;
    if (found.length === 0 && formula) {
      if (gates.formulaNeedsPlugins(formula)) {
        await gates.loadGatePlugins();
        await gates.gatherFacts(state, { root, now, config: cfg, settled: true });
      }
      for (const p of plan.unbackedFacts(state, formula, env))
        found.push({ molecule: id, file: p.file, message: p.message });
    }
    for (const p of found)
      problems.push({ molecule: id, file: p.file ?? io.moleculeRelDir(id), message: p.message });
  }
  return { count: folded.length, problems };
}
