// Shared helpers for benches: whole-process timings in rounds with their floors, peak memory,
// result rows, and the engine bundled for in-process timings.
//
// A suite (bench/<name>.bench.mjs) exports `default async function (flags)` and returns an
// array of rows made with `makeRow`. bench/run.mjs collects them into bench/results.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The floor every ratio is taken against unless a row says otherwise. */
export const NODE_FLOOR = 'node -e 0';
export const nodeFloorCase = (opts = {}) => ({
  name: NODE_FLOOR,
  cmd: process.execPath,
  args: ['-e', '0'],
  ...opts,
});

/**
 * Wall time in ms of one run of a process. `setup` runs first, untimed. Exit codes other than
 * `ok` (default 0 and 1: "found a problem" is a normal answer) throw with the process's stderr.
 */
export function timeOnce({ cmd, args: argsOrFn, cwd, env, setup, ok = [0, 1] }) {
  setup?.();
  // A function gives each run its own arguments (a commit naming the next molecule, say).
  const args = typeof argsOrFn === 'function' ? argsOrFn() : argsOrFn;
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
  const dt = performance.now() - t0;
  if (!ok.includes(r.status))
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${String(r.stderr).slice(0, 2000)}`,
    );
  return dt;
}

/**
 * Times `cases` in rounds: each round runs every case once, in order, so a floor and the command
 * it is the floor for come from the same seconds (on a shared machine the speed drifts between
 * blocks of runs). `warmup` rounds are not kept. Returns, per case name, the median and the runs.
 */
export function timeRounds(cases, { runs = 7, warmup = 1 } = {}) {
  const times = new Map(cases.map((c) => [c.name, []]));
  for (let i = 0; i < warmup + runs; i++) {
    for (const c of cases) {
      const dt = timeOnce(c);
      if (i >= warmup) times.get(c.name).push(dt);
    }
  }
  const out = {};
  for (const [name, list] of times) out[name] = { ms: median(list), runs: list };
  return out;
}

/** Wall time in ms of a whole process, median of `runs` after `warmup` unmeasured runs. */
export function timeProcess(cmd, args, { cwd, env, runs = 15, warmup = 2, setup } = {}) {
  return timeRounds([{ name: 'x', cmd, args, cwd, env, setup }], { runs, warmup }).x.ms;
}

/** In-process time in ms of `fn`, median of `runs`. */
export async function timeFn(fn, { runs = 20, warmup = 3 } = {}) {
  const times = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    if (i >= warmup) times.push(dt);
  }
  return median(times);
}

export function nodeFloor(opts) {
  return timeProcess(process.execPath, ['-e', '0'], opts);
}

// ---------------------------------------------------------------------------------------------
// Peak memory.

const GNU_TIME = '/usr/bin/time';
const RSS_PRELOAD = `const { writeFileSync } = require('node:fs');
process.on('exit', () => writeFileSync(process.env.GASTOWN_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));
`;

/** How peak memory is measured on this machine (for the machine description). */
export function rssMethod() {
  if (gnuTimeWorks()) return `${GNU_TIME} -f %M (max RSS of the process and the children it waited for)`;
  return 'node --require preload reading process.resourceUsage().maxRSS at exit (node processes only)';
}

let gnuTime;
function gnuTimeWorks() {
  if (gnuTime === undefined) {
    gnuTime = false;
    if (existsSync(GNU_TIME)) {
      const r = spawnSync(GNU_TIME, ['-f', '%M', process.execPath, '-e', '0'], { encoding: 'utf8' });
      gnuTime = r.status === 0 && /^\d+\s*$/m.test(r.stderr);
    }
  }
  return gnuTime;
}

/**
 * One untimed run of `c` (after its setup) that measures its peak resident memory in MiB and counts
 * the processes it starts (its whole tree, git hooks included): `{ rssMiB, processes }`, each
 * undefined when this machine cannot tell. Untimed: wrapping a timed run would add the wrappers'
 * start to the command's time and not to its floor's.
 *
 * Memory: GNU time's %M, else a `--require` preload reporting `process.resourceUsage().maxRSS`
 * at exit (node processes only). Processes: `strace -f -e trace=execve`, the cheapest profile
 * there is of where a command's time goes when it spawns; the wrappers' own execs are not counted.
 */
export function profileOnce({ cmd, args: argsOrFn, cwd, env, setup, ok = [0, 1] }) {
  const dir = join(tmpdir(), `gastown-bench-profile-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const rssFile = join(dir, 'rss');
  const execFile = join(dir, 'execve');
  rmSync(rssFile, { force: true });
  rmSync(execFile, { force: true });
  setup?.();
  let args = typeof argsOrFn === 'function' ? argsOrFn() : argsOrFn;
  let argv = [cmd, ...args];
  let runEnv = env;
  let wrappers = 1; // the command itself
  if (gnuTimeWorks()) {
    argv = [GNU_TIME, '-f', '%M', '-o', rssFile, ...argv];
    wrappers++;
  } else if (cmd === process.execPath) {
    const preload = join(dir, 'preload.cjs');
    writeFileSync(preload, RSS_PRELOAD);
    args = ['--require', preload, ...args];
    argv = [cmd, ...args];
    runEnv = { ...env, GASTOWN_BENCH_RSS_FILE: rssFile };
  }
  const traced = detectStrace();
  if (traced) argv = ['strace', ...STRACE, '-o', execFile, ...argv];
  const r = spawnSync(argv[0], argv.slice(1), { cwd, env: runEnv, stdio: 'ignore' });
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status} (profiling run)`);
  let rssMiB;
  if (existsSync(rssFile)) {
    const kib = Number(readFileSync(rssFile, 'utf8').trim().split(/\s+/).pop());
    if (Number.isFinite(kib)) rssMiB = kib / 1024;
  }
  let processes;
  if (traced && existsSync(execFile)) {
    // Successful execs only (a PATH search logs each failed candidate too).
    const started = readFileSync(execFile, 'utf8')
      .split('\n')
      .filter((l) => / = 0$/.test(l))
      .map((l) => /execve\("([^"]*)"/.exec(l)?.[1] ?? '')
      .slice(wrappers);
    processes = { total: started.length, git: started.filter((p) => /(^|\/)git$/.test(p)).length };
  }
  return { rssMiB, processes };
}

let STRACE;
function detectStrace() {
  if (STRACE === undefined) {
    STRACE = null;
    // --seccomp-bpf stops the traced processes only at execve, not at every system call.
    for (const extra of [['--seccomp-bpf'], []]) {
      const args = ['-f', '-qq', ...extra, '-e', 'trace=execve', '-e', 'signal=none'];
      if (spawnSync('strace', [...args, '-o', '/dev/null', 'true'], { stdio: 'ignore' }).status === 0) {
        STRACE = args;
        break;
      }
    }
  }
  return STRACE !== null;
}

/** How processes are counted on this machine (for the machine description). */
export function processCountMethod() {
  return detectStrace() ? `strace ${STRACE.join(' ')}` : 'not available (no working strace)';
}

// ---------------------------------------------------------------------------------------------
// Rows.

/**
 * Targets: `{ ratio: 2 }` (ms at most 2x the row's floor), `{ ms: 10 }` (under 10 ms),
 * `{ mib: 200 }` (peak memory under 200 MiB). `text` says it for the table.
 */
export const within = (ratio) => ({ ratio });
export const under = (ms) => ({ ms });

function targetText(t, floorName) {
  if (!t) return null;
  if (t.ratio !== undefined) return `<= ${t.ratio}x ${floorName ?? NODE_FLOOR}`;
  if (t.ms !== undefined) return `< ${t.ms} ms`;
  return null;
}

/**
 * One result row. `floor` is the case the ratio (and a ratio target) is taken against;
 * `anchors` are other floors measured in the same rounds, shown beside it.
 */
export function makeRow({
  suite,
  label,
  size = null,
  ms,
  floor,
  anchors = [],
  target,
  rssMiB,
  rssTarget,
  runs,
  processes,
  note,
}) {
  const ratio = floor?.ms ? ms / floor.ms : null;
  let met = null;
  if (target?.ratio !== undefined && ratio !== null) met = ratio <= target.ratio;
  if (target?.ms !== undefined) met = ms < target.ms;
  const row = {
    suite,
    label,
    size,
    ms: round(ms),
    floor_name: floor?.name ?? null,
    floor_ms: floor ? round(floor.ms) : null,
    ratio: ratio === null ? null : round(ratio, 2),
    target: targetText(target, floor?.name),
    met,
  };
  if (anchors.length > 0)
    row.anchors = anchors.map((a) => ({ name: a.name, ms: round(a.ms), ratio: round(ms / a.ms, 2) }));
  if (rssMiB !== undefined) {
    row.rss_mib = round(rssMiB, 1);
    if (rssTarget?.mib !== undefined) {
      row.rss_target = `< ${rssTarget.mib} MiB`;
      row.rss_met = rssMiB < rssTarget.mib;
    }
  }
  if (runs !== undefined) row.runs = runs;
  if (processes !== undefined) row.processes = processes;
  if (note) row.note = note;
  return row;
}

const round = (x, digits = 1) => (x === null || x === undefined ? x : Number(x.toFixed(digits)));

/** One line for a row as it is measured, so a long suite shows progress. */
export function printRow(r) {
  const size = r.size === null ? '' : ` [${r.size}]`;
  const ratio = r.ratio === null ? '' : ` ${r.ratio.toFixed(2)}x ${r.floor_name} (${r.floor_ms} ms)`;
  const anchors = (r.anchors ?? []).map((a) => `, ${a.ratio.toFixed(2)}x ${a.name}`).join('');
  const target = r.target ? `  target ${r.target}: ${r.met ? 'met' : 'NOT met'}` : '';
  const rss = r.rss_mib !== undefined ? `  ${r.rss_mib} MiB` : '';
  console.log(
    `${`${r.label}${size}`.padEnd(62)} ${r.ms.toFixed(1).padStart(9)} ms${ratio}${anchors}${target}${rss}`,
  );
}

/**
 * Bundles `entry` (a src/ module) into one ES module file in `outDir` and imports it: the code the
 * CLI runs, measured in-process without the CLI around it.
 */
const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where importBundled writes the bundle called `name`: in `outDir` when that is inside the
 * project, else under .bench-cache/bundles/; never outside, so that what the bundle loads lazily
 * (re2js) resolves from the project's node_modules.
 */
export function bundledPath(name, outDir) {
  const inside = outDir !== undefined && `${outDir}/`.startsWith(`${PROJECT}/`);
  return inside
    ? join(outDir, `${name}.mjs`)
    : join(PROJECT, '.bench-cache', 'bundles', `${name}-${process.pid}.mjs`);
}

export async function importBundled(entry, outDir, name) {
  const { build } = await import('rolldown');
  const file = bundledPath(name, outDir);
  mkdirSync(dirname(file), { recursive: true });
  await build({
    input: entry,
    platform: 'node',
    logLevel: 'warn',
    output: { file, format: 'esm', codeSplitting: false },
  });
  return import(pathToFileURL(file).href);
}

/**
 * A command and the `node -e 0` floor timed in alternation (floor, setup, command, …), so both
 * medians come from the same minutes. Returns both medians (the interface of the mail and convoy
 * suites; timeRounds is the general form).
 */
export function timePaired(cmd, args, { setup, runs = 15, warmup = 2, cwd, env } = {}) {
  const r = timeRounds([nodeFloorCase({ cwd, env }), { name: 'cmd', cmd, args, cwd, env, setup }], {
    runs,
    warmup,
  });
  return { ms: r.cmd.ms, floor: r[NODE_FLOOR].ms };
}

const collected = [];

/**
 * A row for timePaired, printed and kept for the harness (bench/run.mjs adds the rows a suite
 * made this way to those it returned). `target` as text: `<= 2x` (of the floor) or `< 10 ms`.
 */
export function pairedRow(label, { ms, floor }, target) {
  const ratio = /^<=\s*([\d.]+)x/.exec(target ?? '');
  const abs = /^<\s*([\d.]+)\s*ms/.exec(target ?? '');
  const row = makeRow({
    suite: '',
    label,
    ms,
    floor: { name: NODE_FLOOR, ms: floor },
    ...(ratio ? { target: within(Number(ratio[1])) } : abs ? { target: under(Number(abs[1])) } : {}),
  });
  printRow(row);
  collected.push(row);
  return row;
}

/** The rows pairedRow made since the last call. */
export function takePairedRows() {
  return collected.splice(0);
}

/**
 * Waits until what was just written is older than the stamp window (src/store/cache.ts): kept
 * answers are written and used only past it, as a command run seconds after the last change finds
 * them.
 */
export async function waitOutStampWindow(outDir) {
  const cache = await importBundled(join(PROJECT, 'src/store/cache.ts'), outDir, 'stamp-window');
  await new Promise((done) => setTimeout(done, cache.STAMP_WINDOW_MS + 100));
}
