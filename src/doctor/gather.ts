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
import { fileKind, isUnreadableStateError, notRegularMessage, readSmallFile } from '../store/atomic.js';
import { beadsTreeProblems } from '../store/links.js';
import { clearDeadLock, judgeHolder, lockPath, readLock } from '../store/lock.js';
import type { EventFact } from '../store/types.js';
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

/** The clock doctor judges deadlines by: `GASTOWN_NOW` under the test switch (src/clock.ts), else now. */
function clock(): Date {
  const env = commandEnv();
  const fixed = env.GASTOWN_NOW && testClockOn(env) ? new InjectedDate(env.GASTOWN_NOW) : undefined;
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
  const [file, authors, deadline, duration] = await Promise.all([
    import('../checkpoint/file.js'),
    import('../checkpoint/authors.js'),
    import('../checkpoint/deadline.js'),
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
      const d = deadline.checkpointDeadline(timeout, await deadline.requestCommittedAt(root, repoRel), now);
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
  facts.moleculeProblems = [...audit.problems, ...(await frozenFileEdits(root))];
  facts.moleculesAudited = audit.count;
  return facts;
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
 * Every molecule's verdict, as `molecule status` and `list` give it (engine/verdict.ts: the plan,
 * and for a completed, cancelled or squashed molecule the audit of every fact), completed ones
 * too: an auditor's pass over the whole history the files hold.
 */
export async function auditMolecules(
  root: string,
  now: Date,
  folded: readonly Folded[],
): Promise<{ count: number; problems: { molecule: string; file: string; message: string }[] }> {
  const [io, reconcile, verdict, config] = await Promise.all([
    import('../engine/io.js'),
    import('../engine/reconcile.js'),
    import('../engine/verdict.js'),
    import('../store/config.js'),
  ]);
  const problems: { molecule: string; file: string; message: string }[] = [];
  let cfg: ReturnType<typeof config.loadConfig>;
  try {
    cfg = config.loadConfig(root);
  } catch {
    return { count: 0, problems }; // the file check reports a broken config
  }
  for (const f of folded) {
    const { id } = f;
    if (!('state' in f)) {
      problems.push({ molecule: id, file: io.moleculeRelDir(id), message: f.error });
      continue;
    }
    const { state, plan } = await verdict.judgeState(f.state, { root, config: cfg, now });
    const found = reconcile.stateProblems(state, plan);
    for (const rel of injectedClockFacts(state, io.eventPathOf))
      found.push({
        molecule: id,
        file: `${state.dir}/${rel}`,
        message: `recorded under an injected clock (GASTOWN_NOW with ${TEST_CLOCK_SWITCH}=1, a switch for tests): no real time decided it; remove the file (history stays in git) or re-open the step`,
      });
    for (const p of found)
      problems.push({ molecule: id, file: p.file ?? io.moleculeRelDir(id), message: p.message });
  }
  return { count: folded.length, problems };
}
