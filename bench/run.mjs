// `npm run bench [-- SUITE...] [--sizes 100,1000,10000] [--full] [--runs N] [--only PATTERN]
//   [--once] [--drop-caches] [--fresh]`
//
// Runs bench/<suite>.bench.mjs (every one present when none is named), prints each suite's rows as
// they come and a table at the end, and writes bench/results.json (merged: see saveResults;
// `--fresh` starts the file over).
//
// A suite is a file bench/<name>.bench.mjs exporting `default async function (flags)` that
// returns an array of rows made with bench/lib.mjs `makeRow`. `flags` is
// `{ sizes, runs, only, once, full, dropCaches, argv }`: `sizes` the molecule counts asked for (default
// 100,1000; `--full` adds 10000), `runs` the timed runs per row when given (a suite picks its
// own default, at least 5, after a warm-up), `only` a RegExp of the row labels to run (a suite
// that supports it skips the others; scale does), `once` one run without a warm-up for rows
// too slow to repeat (scale; such rows say so in their note), `dropCaches` whether cold runs may drop the OS
// page cache, `argv` every argument. Suites planned but not written yet (verify)
// are simply absent until their file exists.
import { execFileSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeFloor, processCountMethod, rssMethod, takePairedRows } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..');
const RESULTS = join(here, 'results.json');
const SCHEMA = 1;
export const DEFAULT_SIZES = [100, 1000];
export const FULL_SIZES = [100, 1000, 10000];
const PLANNED = ['verify'];

function usage(message) {
  console.error(`${message}
usage: npm run bench [-- SUITE...] [--sizes 100,1000,10000] [--full] [--runs N] [--only PATTERN] [--once] [--quick] [--drop-caches] [--fresh]`);
  process.exit(2);
}

export function parseArgs(argv) {
  const flags = {
    suites: [],
    sizes: undefined,
    runs: undefined,
    full: false,
    dropCaches: false,
    fresh: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--full') flags.full = true;
    else if (a === '--once') flags.once = true;
    else if (a === '--quick')
      flags.quick = true; // fewer rounds, in the suites that read it
    else if (a === '--drop-caches') flags.dropCaches = true;
    else if (a === '--fresh') flags.fresh = true;
    else if (a === '--sizes' || a.startsWith('--sizes=')) {
      const v = value();
      flags.sizes = v.split(',').map((s) => Number(s.trim()));
      if (flags.sizes.some((n) => !Number.isInteger(n) || n < 1))
        usage(`--sizes takes positive whole numbers separated by commas, got ${JSON.stringify(v)}`);
    } else if (a === '--runs' || a.startsWith('--runs=')) {
      const v = value();
      flags.runs = Number(v);
      if (!Number.isInteger(flags.runs) || flags.runs < 1)
        usage(`--runs takes a positive whole number, got ${v}`);
    } else if (a === '--only' || a.startsWith('--only=')) {
      const v = value();
      try {
        flags.only = new RegExp(v, 'i');
      } catch (err) {
        usage(`--only takes a regular expression: ${err.message}`);
      }
    } else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else flags.suites.push(a);
  }
  flags.sizes ??= flags.full ? FULL_SIZES : DEFAULT_SIZES;
  return flags;
}

const sh = (cmd, args, cwd = ROOT) => {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
};

function canDropCaches() {
  try {
    accessSync('/proc/sys/vm/drop_caches', constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** What the figures were measured on. */
export function describeMachine() {
  const c = cpus();
  const commit = sh('git', ['rev-parse', 'HEAD']);
  const dirty = sh('git', [
    'status',
    '--porcelain',
    '--untracked-files=no',
    '--',
    'src',
    'bench',
    'scripts',
    'hooks',
    'formulas',
  ]);
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memory_gib: Number((totalmem() / 2 ** 30).toFixed(1)),
    free_gib_at_start: Number((freemem() / 2 ** 30).toFixed(1)),
    os: `${process.platform} ${release()}`,
    node: process.version,
    git: sh('git', ['--version'])?.replace(/^git version /, ''),
    commit,
    commit_subject: sh('git', ['log', '-1', '--format=%s']),
    tree_dirty: Boolean(dirty),
    root: getuidOrNull() === 0,
    page_cache_drop: canDropCaches() ? 'possible (root); only with --drop-caches' : 'not possible here',
    rss_method: rssMethod(),
    process_count_method: processCountMethod(),
  };
}
const getuidOrNull = () => (process.getuid ? process.getuid() : null);
const load = () => loadavg().map((x) => Number(x.toFixed(2)));

function loadResults(fresh) {
  if (fresh || !existsSync(RESULTS)) return { schema: SCHEMA, runs: [], rows: [] };
  try {
    const data = JSON.parse(readFileSync(RESULTS, 'utf8'));
    if (data.schema === SCHEMA && Array.isArray(data.rows) && Array.isArray(data.runs)) return data;
  } catch {
    // Unreadable: start over.
  }
  console.log(`note: ${RESULTS} is not in this harness's format; starting it over`);
  return { schema: SCHEMA, runs: [], rows: [] };
}

/**
 * Stores `rows` over `data`: a row replaces the stored row with the same suite, label and size;
 * a whole run of a suite (no --only) also drops its stored rows at the sizes it measured, so a
 * renamed or removed row does not linger.
 */
function saveResults(data, run, rows, partial) {
  const key = (r) => `${r.suite}\0${r.label}\0${r.size}`;
  const group = (r) => `${r.suite}\0${r.size}`;
  const fresh = new Set(rows.map(partial ? key : group));
  const kept = data.rows.filter((r) => !fresh.has(partial ? key(r) : group(r)));
  const all = [...kept, ...rows.map((r) => ({ ...r, run: run.id }))];
  const used = new Set(all.map((r) => r.run));
  const out = {
    schema: SCHEMA,
    runs: [...data.runs.filter((x) => x.id !== run.id && used.has(x.id)), run],
    rows: all,
  };
  const tmp = `${RESULTS}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(out, null, 2)}\n`);
  renameSync(tmp, RESULTS);
}

function table(rows) {
  const head = ['suite', 'row', 'size', 'ms', 'floor', 'ratio', 'target', 'met', 'MiB'];
  const body = rows.map((r) => [
    r.suite,
    r.label,
    r.size ?? '',
    r.ms.toFixed(1),
    r.floor_name ? `${r.floor_name} ${r.floor_ms}` : '',
    r.ratio === null ? '' : `${r.ratio.toFixed(2)}x`,
    r.target ?? '',
    r.met === null ? '' : r.met ? 'yes' : 'NO',
    r.rss_mib ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const b of body) console.log(line(b));
}

async function main() {
  const flags = parseArgs(process.argv.slice(2));
  const all = readdirSync(here)
    .filter((f) => f.endsWith('.bench.mjs'))
    .map((f) => f.replace(/\.bench\.mjs$/, ''))
    .sort();
  const unknown = flags.suites.filter((w) => !all.includes(w));
  if (unknown.length > 0) {
    const planned = unknown.filter((u) => PLANNED.includes(u));
    usage(
      `unknown bench: ${unknown.join(', ')} (have: ${all.join(', ')})${planned.length ? `; ${planned.join(', ')} not written yet (bench/<name>.bench.mjs)` : ''}`,
    );
  }
  if (flags.dropCaches && !canDropCaches())
    usage('--drop-caches: /proc/sys/vm/drop_caches is not writable here (it needs root)');

  // Floors are `node -e 0`. Variables that make every node process do extra work at start-up
  // inflate the floor and flatter every ratio: NODE_EXTRA_CA_CERTS makes node parse a CA bundle
  // before running anything (~35 ms on the 2-core VM, more than node's own start-up), and
  // NODE_OPTIONS can preload anything. No benched command needs either, so every timed process
  // runs without them; the note shows what the floor would have been.
  const inflating = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'].filter((k) => process.env[k]);
  const notes = [];
  if (inflating.length > 0) {
    const withThem = nodeFloor({ runs: 7, warmup: 1 });
    for (const k of inflating) delete process.env[k];
    const without = nodeFloor({ runs: 7, warmup: 1 });
    const note = `timed processes run without ${inflating.join(', ')}: node -e 0 takes ${without.toFixed(1)} ms without, ${withThem.toFixed(1)} ms with`;
    notes.push(note);
    console.log(`note: ${note}`);
  }

  const run = {
    id: new Date().toISOString(),
    argv: process.argv.slice(2),
    sizes: flags.sizes,
    machine: describeMachine(),
    load_at_start: load(),
    notes,
    errors: [],
  };
  const stored = loadResults(flags.fresh);
  const rows = [];
  const suiteFlags = {
    sizes: flags.sizes,
    runs: flags.runs,
    only: flags.only,
    once: flags.once,
    full: flags.full,
    dropCaches: flags.dropCaches,
    argv: process.argv.slice(2),
    // For suites that take the arguments as an array (`flags.includes('--quick')`).
    includes: (arg) => process.argv.slice(2).includes(arg),
  };
  for (const name of flags.suites.length > 0 ? flags.suites : all) {
    console.log(`\n## bench: ${name}`);
    const t0 = Date.now();
    try {
      const mod = await import(pathToFileURL(join(here, `${name}.bench.mjs`)).href);
      const got = (await mod.default(suiteFlags)) ?? [];
      for (const r of takePairedRows()) if (!got.includes(r)) got.push(r);
      for (const r of got) if (r.suite !== name) r.suite = name;
      rows.push(...got);
    } catch (err) {
      console.error(`bench ${name} failed: ${err.stack ?? err}`);
      run.errors.push({ suite: name, message: String(err.message ?? err).split('\n')[0] });
    }
    console.log(`(${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  run.load_at_end = load();
  run.finished = new Date().toISOString();
  saveResults(stored, run, rows, flags.only !== undefined);
  console.log(
    `\n## results (load average ${run.load_at_start.join(' ')} at start, ${run.load_at_end.join(' ')} at end)\n`,
  );
  table(rows);
  console.log(`\nwrote ${RESULTS}; \`node bench/report.mjs\` turns it into BENCHMARKS.md's tables`);
  if (run.errors.length > 0) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
