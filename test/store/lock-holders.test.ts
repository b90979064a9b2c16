// The lock file when it is not what gastown wrote: a directory, a dangling link, a pid that now
// belongs to an unrelated live process. Each is a clear error naming the lock (never a stack
// trace or an endless wait), doctor reports it, and `doctor --fix` clears it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/store/lock.js';
import { gtOk } from '../engine/cli.js';
import { CLI, CORPUS, makeRepo, testEnv } from '../helpers/repo.js';

const LOCK = '.beads/.cache/lock';
const STACK = /\n\s+at .*:\d+/;

/** The CLI with a time limit: a command that would wait forever fails the test instead. */
function gt(cwd: string, args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [CLI, ...args], {
    cwd,
    env: testEnv({ GASTOWN_LOCK_WAIT_MS: '100', ...env }),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: 30_000,
  });
}

describe('a lock that is not what gastown wrote', () => {
  let repo: Awaited<ReturnType<typeof makeRepo>>;
  let cwd: string;
  let lock: string;
  let sleeper: ChildProcess | undefined;

  beforeAll(async () => {
    repo = await makeRepo();
    cwd = repo.path;
    lock = join(cwd, LOCK);
    mkdirSync(join(cwd, '.beads/formulas'), { recursive: true });
    writeFileSync(
      join(cwd, '.beads/formulas/quick-check.formula.toml'),
      readFileSync(join(CORPUS, 'beads/quick-check.formula.toml')),
    );
    await gtOk(cwd, ['molecule', 'create', '--formula', 'quick-check', '--name', 'm1']);
  });
  afterAll(() => {
    sleeper?.kill('SIGKILL');
    repo.cleanup();
  });

  it('a directory: a one-line error naming it; doctor reports it; --fix removes an empty one and keeps one that is not', async () => {
    mkdirSync(lock);
    const step = await gt(cwd, ['step', 'done', 'm1', 'lint']);
    expect(step.exitCode).toBe(1);
    expect(step.stderr).toContain(`${LOCK}: a directory, not a lock file`);
    expect(step.stderr).not.toMatch(STACK);
    expect(step.stderr).not.toContain('EISDIR');

    const doctor = await gt(cwd, ['doctor']);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(/error\s+lock\s+\.beads\/\.cache\/lock is a directory, not a lock file/);

    writeFileSync(join(lock, 'something'), 'kept\n');
    const keep = await gt(cwd, ['doctor', '--fix']);
    expect(keep.stderr).toContain(`kept ${LOCK} is a directory that is not empty`);
    expect(readFileSync(join(lock, 'something'), 'utf8')).toBe('kept\n');
    rmSync(join(lock, 'something'));

    const fix = await gt(cwd, ['doctor', '--fix']);
    expect(fix.stderr).not.toMatch(STACK);
    expect(fix.stdout).toContain(`fixed removed ${LOCK} (a directory, not a lock file)`);
    expect(existsSync(lock)).toBe(false);
    await gtOk(cwd, ['step', 'done', 'm1', 'lint']);
  });

  it('a dangling link: advance and step done stop at once with an error (never follow it); --fix removes the link only', async () => {
    symlinkSync('/nonexistent/gastown-lock', lock);
    for (const args of [['advance'], ['step', 'done', 'm1', 'test']]) {
      const r = await gt(cwd, args);
      expect(r.timedOut, args.join(' ')).toBe(false);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(
        `${LOCK}: a symbolic link, not a lock file: gastown never follows or reads it`,
      );
    }
    expect(existsSync('/nonexistent/gastown-lock')).toBe(false);
    const doctor = await gt(cwd, ['doctor']);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(/error\s+lock\s+\.beads\/\.cache\/lock is a symbolic link/);
    const fix = await gt(cwd, ['doctor', '--fix']);
    expect(fix.stdout).toContain(`fixed removed ${LOCK} (a symbolic link, not a lock file)`);
    expect(lstatSync(lock, { throwIfNoEntry: false })).toBeUndefined();
    await gtOk(cwd, ['step', 'done', 'm1', 'test']);
  });

  it('a pid now used by an unrelated live process: told apart by its start time, or by its command line', async () => {
    sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    const pid = sleeper.pid as number;
    const start = processStartTime(pid);
    expect(start).toMatch(/^\d+$/);
    const held = (extra: Record<string, string>) =>
      writeFileSync(
        lock,
        JSON.stringify({ pid, host: hostname(), started: '2026-01-01T00:00:00.000Z', ...extra }),
      );

    // Recorded by a gastown that crashed; the pid was reused: the start times differ.
    held({ proc_start: String(Number(start) - 1) });
    await gtOk(cwd, ['step', 'done', 'm1', 'build']);
    expect(existsSync(lock)).toBe(false);

    // A lock recording no start time (written by hand, or by an older gastown): the holder's
    // command line says it is not gastown. Commands wait, then say what to do; --fix clears it.
    held({});
    const busy = await gt(cwd, ['advance']);
    expect(busy.exitCode).toBe(3);
    expect(busy.stderr).toContain(`pid ${pid} is \`sleep 600\`, not gastown`);
    expect(busy.stderr).toContain('`gastown doctor --fix` removes the lock');
    const doctor = await gt(cwd, ['doctor']);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(
      /error\s+lock\s+\.beads\/\.cache\/lock names a process that is not gastown/,
    );
    const fix = await gt(cwd, ['doctor', '--fix']);
    expect(fix.stdout).toContain(`fixed removed ${LOCK} (pid ${pid} is \`sleep 600\`, not gastown)`);
    expect(existsSync(lock)).toBe(false);
    await gtOk(cwd, ['step', 'done', 'm1', 'report']);

    // The same holder, recorded with its own start time, is a live holder and is waited for.
    held({ proc_start: start as string });
    const wait = await gt(cwd, ['advance']);
    expect(wait.exitCode).toBe(3);
    expect(wait.stderr).toContain(`another gastown process holds`);
    expect((await gt(cwd, ['doctor', '--fix'])).stdout).not.toContain('fixed');
    expect(existsSync(lock)).toBe(true);
    rmSync(lock);
  });
});
