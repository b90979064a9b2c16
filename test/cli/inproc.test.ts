// The CLI run in the test worker (test/helpers/inproc.ts) prints and exits as the built CLI run
// as a process does, so tests that switched to it still check what a user sees.
import { afterAll, describe, expect, it } from 'vitest';
import { gastownInProcess } from '../helpers/inproc.js';
import { gastown } from '../helpers/repo.js';
import { type Repo, shinyRepo } from '../triggers/helpers.js';

const repos: Repo[] = [];
afterAll(() => {
  for (const r of repos) r.cleanup();
});

async function repo(): Promise<Repo> {
  const r = await shinyRepo({ hooks: 'none' });
  repos.push(r);
  return r;
}

/** What a run showed, with the repository's path (which differs between copies) named. */
function seen(r: { exitCode?: number; stdout: unknown; stderr: unknown }, path: string) {
  const clean = (s: unknown) => String(s).split(path).join('<repo>');
  return { exitCode: r.exitCode, stdout: clean(r.stdout), stderr: clean(r.stderr) };
}

describe('the CLI in-process and as a process', () => {
  const readOnly: [string, string[], Record<string, string>][] = [
    ['success with --json', ['molecule', 'status', 'm1', '--json'], {}],
    ['success as text', ['molecule', 'list'], {}],
    ['a problem (exit 1)', ['molecule', 'status', 'nope'], {}],
    ['a usage error (exit 2)', ['molecule', 'status', 'm1', '--no-such-flag'], {}],
    ['an unknown command (exit 2)', ['no-such-command'], {}],
    ['help', ['molecule', '--help'], {}],
    ['colour forced', ['molecule', 'status', 'nope'], { NO_COLOR: '', FORCE_COLOR: '1' }],
    ['NO_COLOR over FORCE_COLOR', ['molecule', 'status', 'nope'], { NO_COLOR: '1', FORCE_COLOR: '1' }],
    [
      'a bad environment value (exit 2)',
      ['molecule', 'list'],
      { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: 'soon' },
    ],
    [
      'a clock the harness did not allow',
      ['molecule', 'list'],
      { GASTOWN_TEST_CLOCK: '', GASTOWN_NOW: '2026-01-07T00:00:00Z' },
    ],
    // No stamp ever settles, so each run folds the molecule itself: with the default window a
    // slow first run let the next ones answer from the kept status and count no fold.
    [
      'trace counters',
      ['molecule', 'status', 'm1'],
      { GASTOWN_TRACE: 'folds', GASTOWN_STAMP_WINDOW_MS: String(10 * 365 * 24 * 3600 * 1000) },
    ],
  ];

  it.each(readOnly)('%s: same exit code, stdout and stderr', async (_name, args, env) => {
    const r = await repo();
    const spawned = seen(await gastown(args, r.path, env), r.path);
    // Twice: a second run in the same process must not see anything the first left behind.
    expect(seen(await gastownInProcess(args, r.path, env), r.path)).toEqual(spawned);
    expect(seen(await gastownInProcess(args, r.path, env), r.path)).toEqual(spawned);
  });

  it('refuses what only a process of its own can do: a fault that kills it, two commands at once', async () => {
    const r = await repo();
    await expect(gastownInProcess(['advance'], r.path, { GASTOWN_FAULT_KILL_AT: '1' })).rejects.toThrow(
      /spawn the CLI/,
    );
    const both = await Promise.allSettled([
      gastownInProcess(['molecule', 'list'], r.path),
      gastownInProcess(['molecule', 'list'], r.path),
    ]);
    expect(both[0].status).toBe('fulfilled');
    expect(both[1].status === 'rejected' && String(both[1].reason)).toMatch(/cannot overlap/);
    // The refused call left nothing behind: the next one runs.
    expect((await gastownInProcess(['molecule', 'list'], r.path)).exitCode).toBe(0);
  });

  it('a command that writes leaves the same output and the same files', async () => {
    const [a, b] = [await repo(), await repo()];
    const args = ['step', 'done', 'm1', 'design', '--as', 'agent'];
    const spawned = seen(await gastown(args, a.path), a.path);
    expect(seen(await gastownInProcess(args, b.path), b.path)).toEqual(spawned);
    const status = ['molecule', 'status', 'm1', '--json'];
    expect(seen(await gastownInProcess(status, b.path), b.path)).toEqual(
      seen(await gastown(status, a.path), a.path),
    );
  });
});
