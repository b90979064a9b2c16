// Reads the facts `gastown doctor` judges: git, hooks, node, every `.beads/` file, molecule
// references, the lock, shallowness. No judgement here (see checks.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { gitVersion, isShallow, type RepoPaths } from '../git/repo.js';
import { hooksStatus } from '../triggers/install.js';
import { formatProblem, validateStaged } from '../triggers/validate.js';
import type { DoctorFacts } from './checks.js';

const LOCK = '.beads/.cache/lock';

/** Every file under `.beads/` except the cache, repo-relative. */
export function listBeadsFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (child === '.beads/.cache') continue;
      if (e.isDirectory()) walk(child);
      else if (e.isFile() && !e.name.includes('.gastown-tmp-')) out.push(child);
    }
  };
  walk('.beads');
  return out.sort();
}

function nodeOnPath(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v node'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readLockFact(root: string): DoctorFacts['lock'] {
  const file = join(root, LOCK);
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as {
      pid?: unknown;
      host?: unknown;
      started?: unknown;
    };
    if (typeof info.pid !== 'number' || typeof info.host !== 'string') throw new Error('malformed');
    const sameHost = info.host === hostname();
    return {
      pid: info.pid,
      host: info.host,
      ...(typeof info.started === 'string' ? { started: info.started } : {}),
      alive: sameHost ? isAlive(info.pid) : true,
      sameHost,
    };
  } catch {
    return { alive: false, sameHost: true };
  }
}

/** `doctor --fix`: removes a lock whose holder is gone (re-checked right before removing). */
export function removeStaleLock(root: string): boolean {
  const fact = readLockFact(root);
  if (!fact || (fact.alive && fact.pid !== undefined) || !fact.sameHost) return false;
  rmSync(join(root, LOCK), { force: true });
  return true;
}

export async function gatherFacts(paths: RepoPaths): Promise<DoctorFacts> {
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

  const files = listBeadsFiles(root);
  const texts = new Map(files.map((f) => [f, readFileSync(join(root, f), 'utf8')] as const));
  const { stagedValidators } = await import('../triggers/validators.js');
  const validators = await stagedValidators(root);
  facts.filesChecked = files.length;
  // formatProblem with an empty message gives just the location (`file:line: path`).
  facts.fileProblems = validateStaged(texts, validators).map((p) => ({
    file: p.file,
    location: formatProblem({ ...p, message: '' }),
    message: p.message,
  }));

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
  return facts;
}
