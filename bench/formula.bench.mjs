// Formula engine timings: in-process parse+resolve+validate of the whole corpus and of
// towers-of-hanoi-10 (1025 steps), and the whole `gastown formula validate` process over the
// corpus as a ratio to `node -e 0` measured in the same run: cold (cache folder emptied before
// every run), warm (results cached) and with the cache turned off.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { importBundled, median, nodeFloor, row, timeFn, timeProcess } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// GASTOWN_CORPUS: the corpus folder when the repo is not next to shared/ (a scratch copy).
const corpusRoot = process.env.GASTOWN_CORPUS ?? resolve(root, '../shared/corpus');
const corpusDirs = ['gastown', 'beads'].map((d) => join(corpusRoot, d));
const corpusFiles = corpusDirs.flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith('.formula.toml'))
    .map((f) => join(d, f)),
);

export default async function main() {
  const out = mkdtempSync(join(tmpdir(), 'gastown-bench-formula-'));
  try {
    // The formula engine alone, bundled like the CLI bundles it.
    const f = await importBundled(join(root, 'src/formula/index.ts'), out, 'formula');
    const lib = f.createFileLibrary(corpusDirs);
    const validateAll = () => {
      let invalid = 0;
      for (const file of corpusFiles) if (!f.resolveFormula(file, lib).formula) invalid++;
      if (invalid > 0) throw new Error(`${invalid} corpus files invalid`);
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
      undefined,
      '< 5 ms',
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
    // floor and the cases alike; the ratio is the median of per-round ratios.
    const cases = [
      { label: 'node -e 0 (floor)', args: ['-e', '0'] },
      { label: 'gastown --version', args: [cli, '--version'] },
      {
        label: 'gastown formula validate <52 corpus files>, cold cache',
        args: validateArgs,
        setup: () => rmSync(cacheDir, { recursive: true, force: true }),
      },
      {
        label: 'gastown formula validate <52 corpus files>, no cache',
        args: validateArgs,
        env: { ...env, GASTOWN_NO_CACHE: '1' },
      },
      {
        label: 'gastown formula validate <52 corpus files>, warm cache',
        args: validateArgs,
        target: '< 2x floor',
      },
      {
        label: 'gastown formula validate shiny (one file), warm cache',
        args: [cli, 'formula', 'validate', join(corpusDirs[0], 'shiny.formula.toml')],
      },
    ];
    const rounds = 15;
    const times = cases.map(() => []);
    for (let r = 0; r < rounds + 2; r++) {
      cases.forEach((c, i) => {
        c.setup?.();
        const t0 = performance.now();
        const p = spawnSync(process.execPath, c.args, { cwd: out, env: c.env ?? env, stdio: 'ignore' });
        const dt = performance.now() - t0;
        if (p.status !== 0) throw new Error(`${c.label} exited ${p.status}`);
        if (r >= 2) times[i].push(dt); // two warm-up rounds: the cache is warm after the first
      });
    }
    const floor = median(times[0]);
    cases.forEach((c, i) => {
      const ratio = median(times[i].map((t, k) => t / times[0][k]));
      const t = c.target ? `  (target ${c.target})` : '';
      console.log(
        `${c.label.padEnd(58)} ${median(times[i]).toFixed(2).padStart(9)} ms ${ratio.toFixed(2)}x floor${t}`,
      );
    });

    // parseTomlCached: a fresh process parsing the largest corpus file (stand-in for a big frozen
    // formula.resolved.toml), with smol-toml versus from the cache.
    const hanoiFile = join(corpusDirs[0], 'towers-of-hanoi-10.formula.toml');
    const tomlCacheDir = join(out, 'toml-cache');
    const parseScript = (cached) =>
      `import { readFileSync } from 'node:fs';
       import * as f from ${JSON.stringify(pathToFileURL(join(out, 'formula.mjs')).href)};
       const text = readFileSync(${JSON.stringify(hanoiFile)}, 'utf8');
       const doc = f.parseTomlCached(text, ${cached ? `new f.ContentCache(${JSON.stringify(tomlCacheDir)})` : 'undefined'});
       if (doc.steps.length !== 1025) process.exit(3);`;
    const importOnly = `import(${JSON.stringify(pathToFileURL(join(out, 'formula.mjs')).href)})`;
    const node = (script) => ['--input-type=module', '-e', script];
    const importFloor = timeProcess(process.execPath, node(importOnly), { cwd: out });
    row('node + import formula engine (floor for the next two)', importFloor, floor);
    row(
      'fresh process: smol-toml parse of hanoi-10 (148 KB)',
      timeProcess(process.execPath, node(parseScript(false)), { cwd: out }),
      importFloor,
    );
    row(
      'fresh process: parseTomlCached of hanoi-10, warm',
      timeProcess(process.execPath, node(parseScript(true)), { cwd: out }),
      importFloor,
    );

    const floorAfter = nodeFloor({ cwd: out, runs: 15 });
    row('node -e 0 (floor, again: the machine load drifts)', floorAfter, floor);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
