// Formula engine timings: in-process parse+resolve+validate of the whole corpus and of
// towers-of-hanoi-10 (1025 steps), and the whole `gastown formula validate` process over the
// corpus as a ratio to `node -e 0` measured in the same run: cold (cache folder emptied before
// every run), warm (results cached) and with the cache turned off.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  bundledPath,
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

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// GASTOWN_CORPUS: the corpus folder when the repo is not next to shared/ (a scratch copy).
const corpusRoot = process.env.GASTOWN_CORPUS ?? resolve(root, '../shared/corpus');
const corpusDirs = ['gastown', 'beads'].map((d) => join(corpusRoot, d));
const corpusFiles = corpusDirs.flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith('.formula.toml'))
    .map((f) => join(d, f)),
);

export default async function main(flags = {}) {
  const rows = [];
  const add = (r) => {
    const row = makeRow({ suite: 'formula', ...r });
    printRow(row);
    rows.push(row);
  };
  const row = (label, ms, target) => add({ label, ms, ...(target ? { target } : {}) });
  const out = mkdtempSync(join(tmpdir(), 'gastown-bench-formula-'));
  try {
    // The formula engine alone, bundled like the CLI bundles it.
    const f = await importBundled(join(root, 'src/formula/index.ts'), out, 'formula');
    const lib = f.createFileLibrary(corpusDirs);
    const validateAll = () => {
      const invalid = [];
      for (const file of corpusFiles) {
        const r = f.resolveFormula(file, lib);
        if (!r.formula) invalid.push(`${file}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
      }
      if (invalid.length > 0)
        throw new Error(`${invalid.length} corpus files invalid:\n${invalid.join('\n')}`);
    };
    const hanoi = () => {
      const r = f.resolveFormula('towers-of-hanoi-10', lib);
      const order = f.topoOrder(r.formula.steps);
      const ready = f.readySteps(r.formula.steps, new Set(order.slice(0, 500)));
      if (r.formula.steps.length !== 1025 || ready.length !== 1) throw new Error('unexpected hanoi result');
    };
    const uncached = (fn) => () => {
      f.clearParseCache();
      fn();
    };

    console.log(`corpus: ${corpusFiles.length} files`);
    row(
      'corpus parse+resolve+validate, in-process (cold parse)',
      await timeFn(uncached(validateAll), { runs: 10, warmup: 2 }),
    );
    row(
      'corpus resolve+validate, in-process (parse memoised)',
      await timeFn(validateAll, { runs: 10, warmup: 2 }),
    );
    row(
      'hanoi-10 resolve+topo+ready (parse memoised, warm)',
      await timeFn(hanoi, { runs: 30, warmup: 5 }),
      under(5),
    );
    row(
      'hanoi-10 parse+resolve+topo+ready (cold parse)',
      await timeFn(uncached(hanoi), { runs: 20, warmup: 3 }),
    );
    const steps = f.resolveFormula('towers-of-hanoi-10', lib).formula.steps;
    row(
      'hanoi-10 topo+ready only',
      await timeFn(() => f.readySteps(steps, new Set(f.topoOrder(steps).slice(0, 500))), {
        runs: 50,
        warmup: 5,
      }),
    );

    const cacheDir = join(out, 'cache');
    const cache = new f.ContentCache(join(cacheDir, 'formula'));
    await f.validateFormulas(corpusFiles, lib, { cache });
    row(
      'corpus validateFormulas, in-process (results cached)',
      await timeFn(() => f.validateFormulas(corpusFiles, lib, { cache }), { runs: 10, warmup: 2 }),
    );

    // Whole process: the built CLI over every corpus file, one process.
    const cli = join(root, 'dist/gastown.cjs');
    const env = {
      ...process.env,
      NO_COLOR: '1',
      GASTOWN_FORMULA_PATH: corpusDirs.join(':'),
      GASTOWN_CACHE_DIR: cacheDir,
    };
    const validateArgs = [cli, 'formula', 'validate', ...corpusFiles];
    // Interleaved: one run of every case per round, so load drift on a shared machine hits the
    // floor and the cases alike.
    const run = (name, args, extra = {}) => ({
      name,
      cmd: process.execPath,
      args,
      cwd: out,
      env,
      ok: [0],
      ...extra,
    });
    const cases = [
      nodeFloorCase({ cwd: out, env }),
      run('gastown --version', [cli, '--version']),
      run('gastown formula validate <52 corpus files>, cold cache', validateArgs, {
        setup: () => rmSync(cacheDir, { recursive: true, force: true }),
        target: within(4),
      }),
      run('gastown formula validate <52 corpus files>, no cache', validateArgs, {
        env: { ...env, GASTOWN_NO_CACHE: '1' },
      }),
      run('gastown formula validate <52 corpus files>, warm cache', validateArgs, { target: within(2) }),
      run('gastown formula validate shiny (one file), warm cache', [
        cli,
        'formula',
        'validate',
        join(corpusDirs[0], 'shiny.formula.toml'),
      ]),
    ];
    const runs = flags.runs ?? 15;
    // Two warm-up rounds: the cache is warm after the first.
    const t = timeRounds(cases, { runs, warmup: 2 });
    const floor = { name: NODE_FLOOR, ms: t[NODE_FLOOR].ms };
    for (const c of cases.slice(1)) add({ label: c.name, ms: t[c.name].ms, floor, target: c.target, runs });

    // parseTomlCached: a fresh process parsing the largest corpus file (stand-in for a big frozen
    // formula.resolved.toml), with smol-toml versus from the cache.
    const hanoiFile = join(corpusDirs[0], 'towers-of-hanoi-10.formula.toml');
    const tomlCacheDir = join(out, 'toml-cache');
    const parseScript = (cached) =>
      `import { readFileSync } from 'node:fs';
       import * as f from ${JSON.stringify(pathToFileURL(bundledPath('formula')).href)};
       const text = readFileSync(${JSON.stringify(hanoiFile)}, 'utf8');
       const doc = f.parseTomlCached(text, ${cached ? `new f.ContentCache(${JSON.stringify(tomlCacheDir)})` : 'undefined'});
       if (doc.steps.length !== 1025) process.exit(3);`;
    const importOnly = `import(${JSON.stringify(pathToFileURL(bundledPath('formula')).href)})`;
    const node = (script) => ['--input-type=module', '-e', script];
    const IMPORT = 'node + import formula engine';
    const p = timeRounds(
      [
        run(IMPORT, node(importOnly)),
        run('smol', node(parseScript(false))),
        run('cached', node(parseScript(true))),
      ],
      { runs, warmup: 2 },
    );
    const importFloor = { name: IMPORT, ms: p[IMPORT].ms };
    add({ label: 'node + import formula engine (floor for the next two)', ms: p[IMPORT].ms, runs });
    add({
      label: 'fresh process: smol-toml parse of hanoi-10 (148 KB)',
      ms: p.smol.ms,
      floor: importFloor,
      runs,
    });
    add({
      label: 'fresh process: parseTomlCached of hanoi-10, warm',
      ms: p.cached.ms,
      floor: importFloor,
      runs,
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return rows;
}
