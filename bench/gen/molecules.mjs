// The scale repositories: N molecules at a seeded mix of stages of polecat-work, shiny and
// integration-test-full-validation (working, waiting at human checkpoints, through a command gate,
// completed), written as files in one pass and committed with one `git add` / `git commit`.
// Each molecule is a prototype stage (prototypes.mjs: files the engine itself wrote) under its own
// id, issue and agent; the frozen formula's hash is recomputed with the engine's own formulaHash
// (checked against the engine's hash of every prototype first).
//
// Cached under .bench-cache/ by (generator version, mix, size, seed), and reused while the
// prototypes the engine writes today are the ones the cached repository was made from.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { git, identity } from './git.mjs';
import { prng } from './prng.mjs';
import {
  agentEmail,
  buildPrototypes,
  formulaFiles,
  loadEngine,
  PLACEHOLDER,
  REVIEWER,
} from './prototypes.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/gastown.cjs');
// At the top of the package, gitignored, and outside every folder lint and typecheck walk (a
// 10,000-molecule repository is 170,000 files).
export const CACHE_ROOT = join(ROOT, '.bench-cache');

/** Bump when what the generator writes changes for the same inputs. */
export const GENERATOR_VERSION = 2;

/** Agents the molecules are assigned to: `polecat-1` … `polecat-20`. */
export const AGENTS = 20;
export const agentName = (k) => `polecat-${k}`;

/**
 * Stage weights (out of 100). `mixed`: about a quarter of the molecules wait at a human
 * checkpoint (deadline running), a quarter are completed, a fifth are integration-test molecules
 * past their command gate (some after a failed attempt). `pending`: every molecule waits at its
 * review.
 */
export const MIXES = {
  mixed: {
    'pw.implement-ready': 8,
    'pw.implement-started': 6,
    'pw.done-ready': 5,
    'pw.review-pending': 9,
    'pw.merge-ready': 4,
    'pw.completed': 10,
    'pw.rework': 3,
    'pw.review-pending-2': 2,
    'sh.design-ready': 3,
    'sh.design-started': 3,
    'sh.review-ready': 3,
    'sh.test-ready': 3,
    'sh.submit-ready': 2,
    'sh.completed': 5,
    'it.analysis-started': 3,
    'it.analysis-checkpoint': 3,
    'it.plan-ready': 2,
    'it.plan-checkpoint': 3,
    'it.do-red-started': 3,
    'it.refactor-after-fail': 3,
    'it.test-validation-checkpoint': 3,
    'it.compliance-checkpoint': 3,
    'it.documentation-ready': 3,
    'it.completed': 8,
  },
  pending: { 'pw.review-pending': 100 },
};

/** Molecule ids: `m00000`, `m00001`, … (five digits at every size, so ids sort as numbers). */
export const moleculeId = (i) => `m${String(i).padStart(5, '0')}`;

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

let enginePromise;
/** The bundled engine, built once per process. */
export function engineOnce() {
  enginePromise ??= loadEngine();
  return enginePromise;
}

/**
 * The prototypes, cached in .bench-cache/ by the bytes of everything that makes them (the
 * bundled engine, the formulas, this generator's sources): building them runs the engine ~80
 * times (several seconds on a loaded machine).
 */
export async function prototypesOnce(cacheRoot = CACHE_ROOT, log = () => {}) {
  const engine = await engineOnce();
  const key = sha256(
    [
      engine.bundleHash,
      ...formulaFiles().flat(),
      readFileSync(join(import.meta.dirname, 'prototypes.mjs'), 'utf8'),
    ].join('\0'),
  ).slice(0, 16);
  mkdirSync(cacheRoot, { recursive: true });
  const file = join(cacheRoot, `prototypes-${key}.json`);
  if (existsSync(file)) return { ...JSON.parse(readFileSync(file, 'utf8')), engine };
  const work = join(cacheRoot, `prototypes-tmp-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const t0 = performance.now();
  try {
    const built = await buildPrototypes(engine, work);
    const fingerprint = sha256(JSON.stringify(built.stages)).slice(0, 16);
    const out = { ...built, fingerprint };
    writeFileSync(`${file}.tmp-${process.pid}`, JSON.stringify(out));
    renameSync(`${file}.tmp-${process.pid}`, file);
    log(`built ${built.stages.length} prototype stages in ${(performance.now() - t0).toFixed(0)} ms`);
    return { ...out, engine };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Every agent of a generated repository. */
export const allAgents = () => [...Array.from({ length: AGENTS }, (_, k) => agentName(k + 1)), 'refinery'];

/**
 * The `.beads/config.toml` of a generated repository: the template `gastown init` wrote, plus the
 * reviewer (a user, the `leads` team) and the agents.
 */
export function withPeople(template, agents = allAgents()) {
  const people = [
    `[users.${REVIEWER.handle}]`,
    `name = "${REVIEWER.name}"`,
    `emails = ["${REVIEWER.email}"]`,
    '',
    ...agents.flatMap((a) => [`[agents.${a}]`, `emails = ["${agentEmail(a)}"]`, '']),
  ].join('\n');
  const leads = `leads = ["@${REVIEWER.handle}"]`;
  const withTeam = /^\[teams\]$/m.test(template)
    ? template.replace(/^\[teams\]$/m, `[teams]\n${leads}`)
    : `${template}\n[teams]\n${leads}\n`;
  // Tables after `[teams]` would end it; the people go first.
  const at = withTeam.search(/^\[engine\]$/m);
  return at < 0 ? `${people}\n${withTeam}` : `${withTeam.slice(0, at)}${people}\n${withTeam.slice(at)}`;
}

/** Files of a repository besides `.beads/`: what a project using gastown has. */
export const projectFiles = () => [
  [
    'README.md',
    '# bench project\n\nA repository generated by gastown/bench/gen: molecules at every stage.\n',
  ],
  [
    'tools/integration-tests.cjs',
    "// Stands in for a project's integration suite.\nrequire('node:fs').copyFileSync('next-results.xml', 'test-results.xml');\n",
  ],
  ['src/.keep', ''],
];

/**
 * Writes the molecules of one repository into `repo` (which has `.beads/` already).
 * Returns the number of files written.
 */
export function writeMolecules(repo, { size, seed, mix, prototypes }) {
  const { engine, stages } = prototypes;
  const weights = MIXES[mix];
  if (!weights) throw new Error(`unknown mix ${mix} (have: ${Object.keys(MIXES).join(', ')})`);
  const names = Object.keys(weights);
  const byName = new Map(stages.map((s) => [s.name, s]));
  for (const n of names) if (!byName.has(n)) throw new Error(`mix ${mix} names unknown stage ${n}`);

  // The hash rule is the engine's: formulaHash of the frozen formula as parsed. Checked on every
  // prototype, whose hash the engine computed itself when it created the molecule.
  const hashOf = (text) => engine.formulaHash(engine.parseWrittenToml(text, 'formula.resolved.toml'));
  for (const s of stages) {
    const frozen = s.files.find(([rel]) => rel === 'formula.resolved.toml')[1];
    const recorded = /^hash = "([0-9a-f]{64})"$/m.exec(frozen)?.[1];
    if (hashOf(frozen) !== recorded)
      throw new Error(`formulaHash of prototype ${s.name}'s frozen formula differs from the engine's hash`);
  }

  const rng = prng(seed);
  const dirsMade = new Set();
  const frozenCache = new Map();
  let files = 0;
  const base = join(repo, '.beads/molecules');
  for (let i = 0; i < size; i++) {
    const stage = byName.get(names[rng.weighted(names.map((n) => weights[n]))]);
    const id = moleculeId(i);
    const values = {
      [stage.id]: id,
      [PLACEHOLDER.issue]: `ISS-${10000 + i}`,
      [PLACEHOLDER.agent]: agentName(1 + rng.int(AGENTS)),
    };
    const pattern = new RegExp(Object.keys(values).join('|'), 'g');
    const subst = (text) => text.replace(pattern, (m) => values[m]);
    // The frozen formula holds the vars; its hash changes with them, and molecule.toml names it.
    const frozenIn = stage.files.find(([rel]) => rel === 'formula.resolved.toml')[1];
    const oldHash = /^hash = "([0-9a-f]{64})"$/m.exec(frozenIn)[1];
    const frozenSub = subst(frozenIn);
    let frozen = frozenCache.get(frozenSub);
    if (!frozen) {
      const hash = hashOf(frozenSub);
      frozen = { text: frozenSub.replace(oldHash, hash), hash };
      frozenCache.set(frozenSub, frozen);
    }
    const dir = join(base, id);
    for (const [rel, text] of stage.files) {
      const out =
        rel === 'formula.resolved.toml'
          ? frozen.text
          : rel === 'molecule.toml'
            ? subst(text).replace(oldHash, frozen.hash)
            : subst(text);
      const path = join(dir, subst(rel));
      const parent = dirname(path);
      if (!dirsMade.has(parent)) {
        mkdirSync(parent, { recursive: true });
        dirsMade.add(parent);
      }
      writeFileSync(path, out);
      files++;
    }
  }
  return files;
}

/**
 * Generates a repository in `repo` (an empty or missing folder) and commits it.
 * Returns `{ files, baseTree, tree, prototypes, ms: {prototypes, init, write, add, commit} }`:
 * two commits, the config and formulas (`baseTree`), then the molecules (`tree`).
 */
export async function generateScaleRepo(
  repo,
  { size, seed = 1, mix = 'mixed', cacheRoot = CACHE_ROOT, log = () => {} },
) {
  const t = { start: performance.now() };
  const prototypes = await prototypesOnce(cacheRoot, log);
  t.prototypes = performance.now();
  mkdirSync(repo, { recursive: true });
  git(repo, ['init', '-q', '-b', 'main']);
  const init = spawnSync(process.execPath, [CLI, 'init', '--hooks', 'none'], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: '1', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`gastown init exited ${init.status}: ${init.stderr}`);
  const config = join(repo, '.beads/config.toml');
  writeFileSync(config, withPeople(readFileSync(config, 'utf8')));
  for (const [rel, text] of [...formulaFiles(), ...projectFiles()]) {
    mkdirSync(dirname(join(repo, rel)), { recursive: true });
    writeFileSync(join(repo, rel), text);
  }
  // Who may approve is committed before any decision: a decision is judged against the
  // configuration before its commit, and one made in the commit that sets it never counts.
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'bench: gastown init, people and formulas'], {
    env: identity(REVIEWER.name, REVIEWER.email, new Date().toISOString()),
  });
  const baseTree = git(repo, ['rev-parse', 'HEAD^{tree}']).trim();
  t.init = performance.now();
  const files = writeMolecules(repo, { size, seed, mix, prototypes });
  t.write = performance.now();
  git(repo, ['add', '-A']);
  t.add = performance.now();
  // Authored by the reviewer: the commit that adds each approved checkpoint is the approval.
  // Dated now whatever the environment says: checkpoint deadlines count from it.
  git(repo, ['commit', '-q', '-m', `bench: ${size} molecules (${mix}, seed ${seed})`], {
    env: identity(REVIEWER.name, REVIEWER.email, new Date().toISOString()),
  });
  t.commit = performance.now();
  const tree = git(repo, ['rev-parse', 'HEAD^{tree}']).trim();
  return {
    files,
    baseTree,
    tree,
    prototypes: prototypes.fingerprint,
    ms: {
      prototypes: Math.round(t.prototypes - t.start),
      init: Math.round(t.init - t.prototypes),
      write: Math.round(t.write - t.init),
      add: Math.round(t.add - t.write),
      commit: Math.round(t.commit - t.add),
    },
  };
}

/**
 * A cached scale repository: `{ dir, meta }`. Generated when missing, or when the engine's
 * prototypes changed since it was made (the files would no longer be what the engine writes).
 */
export async function scaleRepo({ size, seed = 1, mix = 'mixed', log = () => {} }) {
  const key = `scale-v${GENERATOR_VERSION}-${mix}-n${size}-s${seed}`;
  const home = join(CACHE_ROOT, key);
  const metaFile = join(home, 'meta.json');
  const prototypes = await prototypesOnce(CACHE_ROOT, log);
  if (existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    if (meta.prototypes === prototypes.fingerprint) return { dir: join(home, 'repo'), meta, cached: true };
    log(`${key}: the engine's files changed since it was generated; generating again`);
  }
  rmSync(home, { recursive: true, force: true });
  const staging = join(CACHE_ROOT, `${key}.tmp-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const meta = { size, seed, mix, generator: GENERATOR_VERSION, generated_at: new Date().toISOString() };
  Object.assign(meta, await generateScaleRepo(join(staging, 'repo'), { size, seed, mix, log }));
  writeFileSync(join(staging, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  renameSync(staging, home);
  return { dir: join(home, 'repo'), meta, cached: false };
}
