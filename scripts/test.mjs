// `npm test`: the typecheck, the lint and the test suite, run side by side. The typecheck is one
// thread and the suite waits on child processes at its start, so run one after the other they
// leave a core idle; together the machine stays busy. The typecheck's and the lint's output is
// printed when each ends; if either fails the suite is stopped and `npm test` fails at once.
// Extra arguments go to `vitest run`.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const bin = (rel) => join(ROOT, 'node_modules', rel);

/** Runs a check with its output kept; resolves with its exit code and output. */
function check(name, args) {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => out.push(c));
    child.on('error', (err) => done({ name, code: 1, output: `${err.message}\n` }));
    child.on('close', (code, signal) =>
      done({ name, code: code ?? (signal ? 1 : 0), output: Buffer.concat(out).toString() }),
    );
  });
}

const suite = spawn(process.execPath, [bin('vitest/vitest.mjs'), 'run', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  // Its own process group, so a failed check can stop the suite and every process it started.
  detached: true,
});
const suiteDone = new Promise((done) => suite.on('close', (code, signal) => done(code ?? (signal ? 1 : 0))));
const stopSuite = () => {
  try {
    process.kill(-suite.pid, 'SIGTERM');
  } catch {
    // Already ended.
  }
};
process.on('SIGINT', stopSuite);
process.on('SIGTERM', stopSuite);

const checks = [
  check('typecheck', [bin('typescript/bin/tsc'), '--noEmit']),
  check('lint', [bin('@biomejs/biome/bin/biome'), 'check', 'src', 'test', 'scripts', 'bench']),
].map((p) =>
  p.then((r) => {
    process.stderr.write(r.output);
    process.stderr.write(`${r.name}: ${r.code === 0 ? 'ok' : `failed (exit ${r.code})`}\n`);
    if (r.code !== 0) stopSuite();
    return r.code;
  }),
);

const codes = await Promise.all([...checks, suiteDone]);
process.exitCode = codes.find((c) => c !== 0) ?? 0;
