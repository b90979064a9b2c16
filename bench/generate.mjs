// `node bench/generate.mjs molecules --size N [--seed S] [--mix mixed|pending] [--out DIR] [--cache-root DIR]`
// `node bench/generate.mjs history --commits N [--seed S] [--out DIR] [--cache-root DIR]`
//
// Makes one generated repository and prints what it made as JSON. With --out, into DIR (which
// must not exist yet), always generated; without, the cached one under .bench-cache/ (made if
// missing). --cache-root keeps the prototypes somewhere else (the tests use a scratch folder).
// The repositories the benches use come from the same functions (bench/gen/).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateHistory, historyRepo } from './gen/history.mjs';
import { CACHE_ROOT, generateScaleRepo, MIXES, scaleRepo } from './gen/molecules.mjs';

function fail(message) {
  console.error(`${message}
usage: node bench/generate.mjs molecules --size N [--seed S] [--mix ${Object.keys(MIXES).join('|')}] [--out DIR] [--cache-root DIR]
       node bench/generate.mjs history --commits N [--seed S] [--out DIR] [--cache-root DIR]`);
  process.exit(2);
}

const [kind, ...rest] = process.argv.slice(2);
const opts = {};
for (let i = 0; i < rest.length; i += 2) {
  const key = rest[i];
  const value = rest[i + 1];
  if (!key?.startsWith('--') || value === undefined)
    fail(`expected --option value pairs, got ${JSON.stringify(rest.slice(i))}`);
  opts[key.slice(2)] = value;
}
const int = (name, required) => {
  if (opts[name] === undefined) {
    if (required) fail(`--${name} is required`);
    return undefined;
  }
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < 1)
    fail(`--${name} takes a positive whole number, got ${JSON.stringify(opts[name])}`);
  return n;
};
const known = {
  molecules: ['size', 'seed', 'mix', 'out', 'cache-root'],
  history: ['commits', 'seed', 'out', 'cache-root'],
};
if (!known[kind]) fail(`unknown generator ${JSON.stringify(kind)} (molecules or history)`);
for (const k of Object.keys(opts)) if (!known[kind].includes(k)) fail(`unknown option --${k} for ${kind}`);
const seed = int('seed', false) ?? 1;
const out = opts.out === undefined ? undefined : resolve(opts.out);
if (out && existsSync(out)) fail(`--out ${out} exists already`);
const cacheRoot = opts['cache-root'] === undefined ? CACHE_ROOT : resolve(opts['cache-root']);
const log = (s) => console.error(s);

let result;
if (kind === 'molecules') {
  const size = int('size', true);
  const mix = opts.mix ?? 'mixed';
  if (!MIXES[mix]) fail(`--mix takes ${Object.keys(MIXES).join(' or ')}, got ${JSON.stringify(mix)}`);
  if (out) result = { dir: out, ...(await generateScaleRepo(out, { size, seed, mix, cacheRoot, log })) };
  else if (opts['cache-root'] !== undefined) fail('--cache-root needs --out');
  else {
    const r = await scaleRepo({ size, seed, mix, log });
    result = { dir: r.dir, cached: r.cached, ...r.meta };
  }
} else {
  const commits = int('commits', true);
  if (out) result = { dir: out, ...(await generateHistory(out, { commits, seed, cacheRoot, log })) };
  else if (opts['cache-root'] !== undefined) fail('--cache-root needs --out');
  else {
    const r = await historyRepo({ commits, seed, log });
    result = { dir: r.dir, cached: r.cached, ...r.meta };
  }
}
console.log(JSON.stringify(result, null, 2));
