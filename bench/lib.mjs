// Shared timing helpers for benches: medians over repeated runs, floors measured in the same run.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall time in ms of a whole process, median of `runs` (after `warmup` unmeasured runs). */
export function timeProcess(cmd, args, { cwd, env, runs = 15, warmup = 2, setup } = {}) {
  const times = [];
  for (let i = 0; i < warmup + runs; i++) {
    setup?.();
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    const dt = performance.now() - t0;
    if (r.status !== 0 && r.status !== 1)
      throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (i >= warmup) times.push(dt);
  }
  return median(times);
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

/**
 * A command and the `node -e 0` floor timed in alternation (floor, setup, command, …), so both
 * medians come from the same minutes: on a shared machine the speed drifts between blocks of
 * runs. Returns both medians.
 */
export function timePaired(cmd, args, { setup, runs = 15, warmup = 2, ...opts } = {}) {
  const floors = [];
  const times = [];
  for (let i = 0; i < warmup + runs; i++) {
    const floor = timeProcess(process.execPath, ['-e', '0'], { ...opts, runs: 1, warmup: 0 });
    const ms = timeProcess(cmd, args, { ...opts, setup, runs: 1, warmup: 0 });
    if (i >= warmup) {
      floors.push(floor);
      times.push(ms);
    }
  }
  return { ms: median(times), floor: median(floors) };
}

export function nodeFloor(opts) {
  return timeProcess(process.execPath, ['-e', '0'], opts);
}

export function row(label, ms, floorMs, target) {
  const ratio = floorMs ? ` ${(ms / floorMs).toFixed(2)}x floor` : '';
  const t = target ? `  (target ${target})` : '';
  console.log(`${label.padEnd(58)} ${ms.toFixed(2).padStart(9)} ms${ratio}${t}`);
}

/** A row for timePaired: the ratio is to the floor measured alongside it, which is shown. */
export function pairedRow(label, { ms, floor }, target) {
  const t = target ? `  (target ${target})` : '';
  console.log(
    `${label.padEnd(58)} ${ms.toFixed(2).padStart(9)} ms ${(ms / floor).toFixed(2)}x floor (${floor.toFixed(1)} ms)${t}`,
  );
}

/**
 * Bundles `entry` (a src/ module) into one ES module file in `outDir` and imports it: the code the
 * CLI runs, measured in-process without the CLI around it.
 */
export async function importBundled(entry, outDir, name) {
  const { build } = await import('rolldown');
  const file = `${outDir}/${name}.mjs`;
  await build({
    input: entry,
    platform: 'node',
    logLevel: 'warn',
    output: { file, format: 'esm', codeSplitting: false },
  });
  return import(pathToFileURL(file).href);
}
