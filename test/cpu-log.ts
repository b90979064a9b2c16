// With GASTOWN_TEST_CPU_LOG=<file> (Linux), each test file appends one line to <file>: its path,
// the CPU seconds (user+sys) of the worker and of the child processes it waited for while the
// file's hooks and tests ran, and its wall seconds. The suite's CPU is mostly those children, and
// CPU time compares between runs on a loaded machine where wall time does not.
import { appendFileSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';

const log = process.env.GASTOWN_TEST_CPU_LOG;

/** utime, stime, cutime, cstime of this process, in seconds (fields 14-17 of /proc/self/stat). */
function times(): number[] {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].map((i) => Number(fields[i]) / 100);
}

if (log && process.platform === 'linux') {
  let start: number[] = [];
  let startedAt = 0;
  beforeAll(() => {
    start = times();
    startedAt = performance.now();
  });
  afterAll(() => {
    const end = times();
    const d = end.map((t, i) => t - (start[i] ?? 0));
    const file = relative(resolve(import.meta.dirname, '..'), expect.getState().testPath ?? '?');
    const [ut = 0, st = 0, cut = 0, cst = 0] = d;
    const wall = (performance.now() - startedAt) / 1000;
    appendFileSync(log, `${file}\t${(ut + st).toFixed(2)}\t${(cut + cst).toFixed(2)}\t${wall.toFixed(2)}\n`);
  });
}
