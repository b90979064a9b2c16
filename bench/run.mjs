// `npm run bench -- [name...]`: runs bench/<name>.bench.mjs (all of them when no name is given).
// Each bench prints its own table; results are ratios against floors measured in the same run.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeFloor } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .map((f) => f.replace(/\.bench\.mjs$/, ''))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown bench: ${unknown.join(', ')} (have: ${all.join(', ')})`);
  process.exit(2);
}
// Floors are `node -e 0`. Variables that make every node process do extra work at start-up
// inflate the floor and flatter every ratio: NODE_EXTRA_CA_CERTS makes node parse a CA bundle
// before running anything (~35 ms on the 2-core VM, more than node's own start-up), and
// NODE_OPTIONS can preload anything. No benched command needs either, so every timed process
// runs without them; the note shows what the floor would have been.
const inflating = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'].filter((k) => process.env[k]);
if (inflating.length > 0) {
  const withThem = nodeFloor({ runs: 7, warmup: 1 });
  for (const k of inflating) delete process.env[k];
  const without = nodeFloor({ runs: 7, warmup: 1 });
  console.log(
    `note: timed processes run without ${inflating.join(', ')}: node -e 0 takes ${without.toFixed(1)} ms without, ${withThem.toFixed(1)} ms with`,
  );
}
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n## bench: ${name}`);
  const mod = await import(pathToFileURL(join(here, `${name}.bench.mjs`)).href);
  await mod.default?.(process.argv.slice(2).filter((a) => a.startsWith('-')));
}
