// Trailers no hook applied are caught up by the next plain `advance` (and `advance --ci`), not
// only HEAD's: a pull request merged with a merge commit, commits made with --no-verify. Each
// trailer applies once; one about an attempt that was re-opened since does not apply to the new
// attempt. Real git repositories without hooks, the built CLI.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gastown, gitIn, tempDir } from '../helpers/repo.js';
import { shinyRepo } from '../triggers/helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

async function shinyWithoutHooks() {
  const repo = await shinyRepo({ hooks: 'none' });
  cleanups.push(repo.cleanup);
  return repo;
}

const trailerCommit = (cwd: string, subject: string, trailer: string) =>
  gitIn(cwd, 'commit', '-q', '--allow-empty', '-m', subject, '--trailer', trailer);

async function stepStates(cwd: string): Promise<Record<string, string>> {
  const r = await gastown(['molecule', 'status', 'm1', '--json'], cwd);
  const st = JSON.parse(String(r.stdout)) as { steps: { id: string; state: string; attempt: number }[] };
  return Object.fromEntries(st.steps.map((s) => [s.id, `${s.state}@${s.attempt}`]));
}

describe('catching up trailers no hook applied', () => {
  it('a merge commit whose branch carried the trailers: the next plain advance applies them, once', async () => {
    const repo = await shinyWithoutHooks();
    const cwd = repo.path;
    await gitIn(cwd, 'checkout', '-q', '-b', 'feature');
    await trailerCommit(cwd, 'design the thing', 'Gastown-Done: m1/design');
    await trailerCommit(cwd, 'start implementing', 'Gastown-Start: m1/implement');
    await gitIn(cwd, 'checkout', '-q', 'main');
    await gitIn(cwd, 'commit', '-q', '--allow-empty', '-m', 'meanwhile on main');
    // What the merge button does: a merge commit with no trailers of its own.
    await gitIn(cwd, 'merge', '-q', '--no-ff', '-m', 'Merge pull request #7', 'feature');
    const designSha = (await gitIn(cwd, 'rev-parse', 'feature~1')).trim();

    const first = await gastown(['advance'], cwd);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain('m1: design done');
    expect(first.stdout).toContain('m1: implement started');
    expect(await stepStates(cwd)).toMatchObject({ design: 'done@1', implement: 'in_progress@1' });
    expect(readFileSync(join(cwd, '.beads/molecules/m1/events/design.1.done.toml'), 'utf8')).toContain(
      `commit = "${designSha}"`,
    );
    const second = await gastown(['advance'], cwd);
    expect(second.stdout.trim()).toBe('nothing to do');

    // A fresh CI clone has no record of what was caught up: it reads the whole history, and the
    // facts already committed say these trailers are applied.
    await gitIn(cwd, 'add', '-A');
    await gitIn(cwd, 'commit', '-q', '-m', 'engine facts');
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const clone = join(dir.path, 'clone');
    await gitIn(dir.path, 'clone', '-q', `file://${cwd}`, clone);
    const ci = await gastown(['advance', '--ci'], clone);
    expect(ci.exitCode).toBe(0);
    expect(ci.stdout.trim()).toBe('nothing to do');
  });

  it('a --no-verify commit before HEAD is caught up by advance --ci, not only HEAD', async () => {
    const repo = await shinyWithoutHooks();
    const cwd = repo.path;
    await trailerCommit(cwd, 'design done', 'Gastown-Done: m1/design');
    await gitIn(cwd, 'commit', '-q', '--allow-empty', '-m', 'unrelated work');
    const ci = await gastown(['advance', '--ci'], cwd);
    expect(ci.exitCode).toBe(0);
    expect(ci.stdout).toContain('m1: design done');
    expect(await stepStates(cwd)).toMatchObject({ design: 'done@1', implement: 'ready@1' });
  });

  it('a warm, quiet clone still sees new commits: the quiet check does not vouch once HEAD moved', async () => {
    const repo = await shinyWithoutHooks();
    const cwd = repo.path;
    // Stamps recorded at once, so the second run takes the quiet path (see stamps.test.ts).
    const env = { GASTOWN_STAMP_WINDOW_MS: '0' };
    await gastown(['advance'], cwd, env);
    await gastown(['advance'], cwd, env);
    const quiet = await gastown(['advance', '--json'], cwd, env);
    expect(JSON.parse(String(quiet.stdout)).unchanged).toEqual({ stamp: 1, key: 0 });
    await trailerCommit(cwd, 'design done', 'Gastown-Done: m1/design');
    const r = await gastown(['advance'], cwd, env);
    expect(r.stdout).toContain('m1: design done');
    expect(r.stdout).toContain('m1: implement is ready');
  });

  for (const args of [['advance', '--from-commit', 'HEAD'], ['advance']]) {
    it(`${args.join(' ')} --dry-run reports what the real run does, and writes nothing`, async () => {
      const repo = await shinyWithoutHooks();
      const cwd = repo.path;
      await gastown(['advance'], cwd);
      await trailerCommit(cwd, 'design done', 'Gastown-Done: m1/design');
      const status = () => gitIn(cwd, 'status', '--porcelain', '--untracked-files=all', '.beads');
      const before = await status();
      const dry = await gastown([...args, '--dry-run', '--json'], cwd);
      expect(dry.exitCode).toBe(0);
      expect(await status()).toBe(before);
      const real = await gastown([...args, '--json'], cwd);
      const pick = (out: string) => {
        const r = JSON.parse(out) as { transitions: { summary: string }[]; written: string[] };
        return { transitions: r.transitions.map((t) => t.summary), written: r.written };
      };
      const done = pick(String(real.stdout));
      expect(done.transitions).toEqual(['design done by Test Agent', 'implement is ready']);
      expect(done.written).toHaveLength(2);
      expect(pick(String(dry.stdout))).toEqual(done);
    });
  }

  it('one commit naming steps out of order applies them all', async () => {
    const repo = await shinyWithoutHooks();
    const cwd = repo.path;
    await gitIn(
      cwd,
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'both',
      '--trailer',
      'Gastown-Done: m1/implement',
      '--trailer',
      'Gastown-Done: m1/design',
    );
    const r = await gastown(['advance', '--from-commit', 'HEAD'], cwd);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(await stepStates(cwd)).toMatchObject({ design: 'done@1', implement: 'done@1', review: 'ready@1' });
  });

  it('a trailer older than its step’s re-open does not complete the new attempt', async () => {
    const repo = await shinyWithoutHooks();
    const cwd = repo.path;
    await trailerCommit(cwd, 'design done', 'Gastown-Done: m1/design');
    await gastown(['advance'], cwd);
    expect(await stepStates(cwd)).toMatchObject({ design: 'done@1' });
    // The fact as `step done` would have recorded it (no commit), then the step re-opened.
    const fact = join(cwd, '.beads/molecules/m1/events/design.1.done.toml');
    const text = readFileSync(fact, 'utf8');
    expect(text).toMatch(/^commit = /m);
    writeFileSync(fact, text.replace(/^commit = .*\n/m, ''));
    expect(
      (await gastown(['step', 'reopen', 'm1', 'design', '--reason', 'redo the design'], cwd)).exitCode,
    ).toBe(0);
    await gitIn(cwd, 'add', '-A');
    await gitIn(cwd, 'commit', '-q', '-m', 'design re-opened');
    // Forget what was caught up: the whole history is read again.
    rmSync(join(cwd, '.git/gastown-trailers-head'));
    const again = await gastown(['advance'], cwd);
    expect(again.exitCode).toBe(0);
    expect(await stepStates(cwd)).toMatchObject({ design: 'ready@2' });
  });
});
