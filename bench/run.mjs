// `npm run bench -- [name...]`: runs bench/<name>.bench.mjs (all of them when no name is given).
// Each bench prints its own table; results are ratios against floors measured in the same run.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n## bench: ${name}`);
  const mod = await import(pathToFileURL(join(here, `${name}.bench.mjs`)).href);
  await mod.default?.(process.argv.slice(2).filter((a) => a.startsWith('-')));
}
