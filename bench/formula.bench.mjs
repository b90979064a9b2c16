// Formula engine timings: in-process parse+resolve+validate of the whole corpus and of
// towers-of-hanoi-10 (1025 steps), and the whole `gastown formula validate` process over the
// corpus as a ratio to `node -e 0` measured in the same run.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { nodeFloor, row, timeFn, timeProcess } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const corpusDirs = ['gastown', 'beads'].map((d) => resolve(root, '../shared/corpus', d));
const corpusFiles = corpusDirs.flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith('.formula.toml'))
    .map((f) => join(d, f)),
);

export default async function main() {
  const out = mkdtempSync(join(tmpdir(), 'gastown-bench-formula-'));
  try {
    // The formula engine alone, bundled like the CLI bundles it.
    await build({
      entryPoints: [join(root, 'src/formula/index.ts')],
      outfile: join(out, 'formula.mjs'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'warning',
    });
    const f = await import(pathToFileURL(join(out, 'formula.mjs')).href);
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

    // Whole process: the built CLI over every corpus file, one process.
    const cli = join(root, 'dist/gastown.mjs');
    const env = { ...process.env, NO_COLOR: '1', GASTOWN_FORMULA_PATH: corpusDirs.join(':') };
    const floor = nodeFloor({ cwd: out, runs: 15 });
    row('node -e 0 (floor)', floor, floor);
    row(
      'gastown formula validate <52 corpus files>',
      timeProcess(process.execPath, [cli, 'formula', 'validate', ...corpusFiles], {
        cwd: out,
        env,
        runs: 15,
      }),
      floor,
      '< 2x floor',
    );
    row(
      'gastown formula validate shiny (one name)',
      timeProcess(process.execPath, [cli, 'formula', 'validate', join(corpusDirs[0], 'shiny.formula.toml')], {
        cwd: out,
        env,
        runs: 15,
      }),
      floor,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
