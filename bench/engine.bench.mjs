// `npm run bench -- engine`: the molecule engine on a synthetic repository of 1,000 molecules
// (~15 steps each, mixed progress, no gates: the quiet case; `scale` has the realistic mix). Whole-process `molecule status` and a no-op `advance` as
// ratios to `node -e 0` timed alternately with each command, warm and cold (`.beads/.cache` deleted);
// and in-process fold + plan over 20,000 steps.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  importBundled,
  makeRow,
  NODE_FLOOR,
  nodeFloorCase,
  printRow,
  timeFn,
  timeRounds,
  under,
  within,
} from './lib.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = process.env.GASTOWN_BENCH_CLI ?? join(ROOT, 'dist/gastown.cjs');
const MOLECULES = 1000;
const STEPS = 15;

function q(s) {
  return JSON.stringify(s);
}

/** A 15-step formula: a chain with a fork/join in the middle, as TOML like the engine freezes it. */
function formulaToml(name) {
  const steps = [];
  for (let i = 0; i < STEPS; i++) {
    const needs =
      i === 0
        ? []
        : i >= 5 && i <= 7
          ? ['s04']
          : i === 8
            ? ['s05', 's06', 's07']
            : [`s${String(i - 1).padStart(2, '0')}`];
    steps.push({ id: `s${String(i).padStart(2, '0')}`, needs });
  }
  let out = `formula = ${q(name)}\ntype = "workflow"\nversion = 1\ndescription = "generated for the engine bench"\nhash = "bench-${name}"\nsource = ".beads/formulas/${name}.formula.toml"\nlegs = []\nwarnings = []\n\n[extra]\n[inputs]\n[presets]\n[prompts]\n[vars.feature]\nrequired = true\n`;
  for (const s of steps) {
    out += `\n[[steps]]\nacceptance = "The work of ${s.id} for {{feature}} is committed and reviewed"\ndescription = ${q(`Step ${s.id}: ${'do the careful thing. '.repeat(8)}`)}\nid = ${q(s.id)}\nlabels = []\nneeds = ${s.needs.length ? `[ ${s.needs.map(q).join(', ')} ]` : '[]'}\ntitle = ${q(`Step ${s.id} of {{feature}}`)}\n\n[steps.extra]\n`;
  }
  return { text: out, steps };
}

const event = (step, kind, extra = '') => `step = ${q(step)}\nattempt = 1\nkind = ${q(kind)}\n${extra}`;

/** `engine` is the bundled src/engine (for the frozen formula's hash, which fold checks). */
export function generate(dir, engine) {
  const git = (...args) =>
    execFileSync('git', args, {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    });
  git('init', '-q', '-b', 'main');
  const { text, steps } = formulaToml('bench-flow');
  const hash = engine.frozenFormulaHash(engine.parseFrozenFormula(text, 'formula.resolved.toml'));
  for (let m = 0; m < MOLECULES; m++) {
    const id = `m-${String(m).padStart(4, '0')}`;
    const base = join(dir, '.beads/molecules', id);
    mkdirSync(join(base, 'events'), { recursive: true });
    writeFileSync(join(base, 'formula.resolved.toml'), text);
    writeFileSync(
      join(base, 'molecule.toml'),
      `id = ${q(id)}\nformula = "bench-flow"\nformula_version = 1\nformula_hash = ${q(hash)}\n\n[inputs]\n[vars]\nfeature = ${q(`feature ${m % 7}`)}\n`,
    );
    // Mixed progress: molecule m has (m % 17) steps done; 15 and 16 mean completed.
    const doneCount = Math.min(m % 17, STEPS);
    const done = new Set();
    for (const s of steps.slice(0, doneCount)) {
      writeFileSync(join(base, 'events', `${s.id}.1.ready.toml`), event(s.id, 'ready'));
      writeFileSync(join(base, 'events', `${s.id}.1.done.toml`), event(s.id, 'done', 'by = "polecat-1"\n'));
      done.add(s.id);
    }
    for (const s of steps) {
      if (!done.has(s.id) && s.needs.every((n) => done.has(n)))
        writeFileSync(join(base, 'events', `${s.id}.1.ready.toml`), event(s.id, 'ready'));
    }
    if (doneCount === STEPS)
      writeFileSync(join(base, 'events', 'molecule.completed.toml'), 'kind = "completed"\n');
  }
  git('add', '-A');
  git(
    '-c',
    'user.name=bench',
    '-c',
    'user.email=bench@example.com',
    'commit',
    '-q',
    '-m',
    'generated molecules',
  );
}

// The reads-only floor (see its rows): sync calls and a three-call read (open, read, close), the
// cheapest way Node offers and the way gastown reads small files.
const READS_ONLY = `const { closeSync, openSync, readdirSync, readSync } = require('node:fs');
const [dir, mode] = process.argv.slice(2);
const buf = Buffer.allocUnsafe(1 << 20);
const read = (path) => {
  const fd = openSync(path, 'r');
  try {
    return buf.latin1Slice(0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
};
for (const id of readdirSync(dir)) {
  readdirSync(dir + '/' + id + '/events');
  if (mode === 'all') {
    read(dir + '/' + id + '/molecule.toml');
    read(dir + '/' + id + '/formula.resolved.toml');
  }
}
`;

export default async function main(flags = {}) {
  const rows = [];
  const add = (r) => {
    const row = makeRow({ suite: 'engine', size: MOLECULES, ...r });
    printRow(row);
    rows.push(row);
  };
  const work = mkdtempSync(join(tmpdir(), 'gastown-bench-engine-'));
  try {
    const repo = join(work, 'repo');
    mkdirSync(repo);
    const engine = await importBundled(join(ROOT, 'src/engine/index.ts'), work, 'engine');
    const t0 = performance.now();
    generate(repo, engine);
    console.log(
      `generated ${MOLECULES} molecules x ${STEPS} steps in ${(performance.now() - t0).toFixed(0)} ms`,
    );
    const env = { ...process.env, NO_COLOR: '1', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
    const cache = join(repo, '.beads/.cache');
    const dropCache = () => rmSync(cache, { recursive: true, force: true });
    // Settle: the first advance records nothing (the generated state is reconciled) but fills the cache.
    execFileSync(process.execPath, [CLI, 'advance'], { cwd: repo, env, stdio: 'ignore' });
    // Each row times its command in rounds with `node -e 0` and reports the ratio to that floor:
    // the machine's speed drifts between blocks of runs.
    const runs = flags.runs ?? 11;
    const node = nodeFloorCase({ cwd: repo, env });
    const paired = (label, args, target, setup, n = runs) => {
      const c = { name: 'cmd', cmd: process.execPath, args, cwd: repo, env, setup };
      const t = timeRounds([node, c], { runs: n, warmup: 2 });
      add({ label, ms: t.cmd.ms, floor: { name: NODE_FLOOR, ms: t[NODE_FLOOR].ms }, target, runs: n });
    };
    const cli = (...args) => [CLI, ...args];
    paired('gastown --version', cli('--version'));
    paired('gastown molecule status m-0500 (warm)', cli('molecule', 'status', 'm-0500'), within(2));
    paired(
      'gastown molecule status m-0500 (cold)',
      cli('molecule', 'status', 'm-0500'),
      within(3),
      dropCache,
    );
    paired('gastown advance, no-op (warm cache)', cli('advance'), within(2));
    // Which path the warm runs took: stamps (one stat per molecule, the quiet check) or keys
    // (a listing per molecule; stamps are recorded only for folders unchanged for 2 s).
    const warm = JSON.parse(
      execFileSync(process.execPath, [CLI, 'advance', '--json'], { cwd: repo, env, encoding: 'utf8' }),
    );
    console.log(`  warm runs answered by: ${JSON.stringify(warm.unchanged)}`);
    paired(
      'gastown advance, no-op (cold: .beads/.cache deleted)',
      cli('advance'),
      within(3),
      dropCache,
      flags.runs ?? 9,
    );

    // What no cold run can go below on this machine: a bare script with none of gastown's code
    // that only lists every `events/` folder, then also reads each molecule.toml and frozen formula
    // (no parsing, no planning). Against these rows the cold advance row can be read.
    const reads = join(work, 'reads-only.cjs');
    writeFileSync(reads, READS_ONLY);
    const dir = join(repo, '.beads/molecules');
    paired('reads alone: 1,000 events/ listings', [reads, dir, 'ls']);
    paired('reads alone: listings + molecule.toml + frozen formula', [reads, dir, 'all']);

    // In-process: fold + plan of one molecule with 20,000 steps (1,000 chains of 20).
    const steps = [];
    for (let c = 0; c < 1000; c++) {
      for (let i = 0; i < 20; i++)
        steps.push({
          id: `c${c}s${i}`,
          title: 't',
          description: '',
          needs: i === 0 ? [] : [`c${c}s${i - 1}`],
          labels: [],
          extra: {},
        });
    }
    const formula = {
      formula: 'wide',
      description: '',
      type: 'workflow',
      source: 'wide',
      hash: 'h',
      vars: {},
      steps,
      legs: [],
      inputs: {},
      presets: {},
      prompts: {},
      warnings: [],
      extra: {},
    };
    const wideHash = engine.frozenFormulaHash(formula);
    const files = new Map([
      ['molecule.toml', `id = "wide"\nformula = "wide"\nformula_hash = ${q(wideHash)}\n`],
    ]);
    for (let c = 0; c < 1000; c++) {
      for (let i = 0; i < c % 20; i++) {
        files.set(`events/c${c}s${i}.1.ready.toml`, event(`c${c}s${i}`, 'ready'));
        files.set(`events/c${c}s${i}.1.done.toml`, event(`c${c}s${i}`, 'done'));
      }
    }
    files.set('formula.resolved.toml', 'formula = "wide"\n');
    const parseFormula = () => structuredClone(formula);
    const state = engine.fold('wide', '.beads/molecules/wide', files, { parseFormula });
    const env2 = {
      config: { engine: {}, users: {}, agents: {}, teams: {}, extra: {}, hash: '' },
      now: new Date(),
      moleculeStatus: () => undefined,
    };
    const ready = engine.planMolecule(state, state.formula, env2).effects.length;
    add({
      label: `ready steps over 20,000 steps, in process (plan only; ${ready} ready)`,
      size: null,
      ms: await timeFn(() => engine.planMolecule(state, state.formula, env2)),
      target: under(50),
    });
    add({
      label: 'fold 20,000 steps (~19,000 event files) + plan, in process',
      size: null,
      ms: await timeFn(
        () => engine.planMolecule(engine.fold('wide', 'x', files, { parseFormula }), formula, env2),
        { runs: 5, warmup: 1 },
      ),
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}
