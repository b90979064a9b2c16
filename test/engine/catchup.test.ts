// Trailers no hook applied are caught up by the next plain `advance` (and `advance --ci`), not
// only HEAD's: a pull request merged with a merge commit, commits made with --no-verify. Each
// trailer applies once; one about an attempt that was re-opened since does not apply to the new
// attempt. Real git repositories without hooks; the CLI
// runs in the test worker (test/helpers/inproc.ts).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gastownInProcess as gastown } from '../helpers/inproc.js';
import { gitIn, tempDir } from '../helpers/repo.js';
import { git, initRepo, shinyRepo } from '../triggers/helpers.js';

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

async function stepStates(cwd: string, molecule = 'm1'): Promise<Record<string, string>> {
  const r = await gastown(['molecule', 'status', molecule, '--json'], cwd);
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

describe('a trailer that could not apply when it was committed', () => {
  it('is skipped by the catch-up with one line saying why, listed under --json, and the run succeeds', async () => {
    const repo = await shinyWithoutHooks();
    const cwd = repo.path;
    await trailerCommit(cwd, 'ship it early', 'Gastown-Done: m1/submit');
    const sha = (await gitIn(cwd, 'rev-parse', 'HEAD')).trim();
    const dry = await gastown(['advance', '--dry-run', '--json'], cwd);
    expect(dry.exitCode, String(dry.stderr)).toBe(0);
    expect(JSON.parse(String(dry.stdout)).skipped_trailers).toEqual([
      {
        commit: sha,
        trailer: 'Gastown-Done: m1/submit',
        reason: 'as of that commit, step submit of m1 is not ready: it waits on test (pending)',
      },
    ]);
    const real = await gastown(['advance'], cwd);
    expect(real.exitCode, String(real.stderr)).toBe(0);
    expect(
      String(real.stdout)
        .split('\n')
        .filter((l) => l.includes('skipped')),
    ).toEqual([
      `skipped Gastown-Done: m1/submit in ${sha.slice(0, 12)}: as of that commit, step submit of m1 is not ready: it waits on test (pending)`,
    ]);
    expect(await stepStates(cwd)).toMatchObject({ submit: 'pending@1' });
    // Said once: the next run starts after that commit.
    expect(String((await gastown(['advance'], cwd)).stdout).trim()).toBe('nothing to do');
  });
});

/** `a`, then `b` needing `a`. */
const TWO_STEP = 'formula = "two-step"\n\n[[steps]]\nid = "a"\n\n[[steps]]\nid = "b"\nneeds = ["a"]\n';

describe('a trailer judged as of its commit, the same on every clone', () => {
  // With hooks: `Gastown-Done: t2/a` before t2 exists, `Gastown-Done: t1/b` while b is pending
  // (both refused by the hook), then `Gastown-Done: t1/a` (applied, b becomes ready), then t2 is
  // made. The original clone catches up its whole history; a fresh clone does the same.
  let origin: { path: string; cleanup(): void };
  let fresh: { path: string; cleanup(): void };
  let early: { t1b: string; t2a: string };
  const runs = new Map<string, { exitCode?: number; stdout: string }>();
  beforeAll(async () => {
    origin = await initRepo();
    const cwd = origin.path;
    writeFileSync(join(cwd, '.beads/formulas/two-step.formula.toml'), TWO_STEP);
    expect(
      (await gastown(['molecule', 'create', '--formula', 'two-step', '--name', 't1'], cwd)).exitCode,
    ).toBe(0);
    await gitIn(cwd, 'add', '-A');
    await git(cwd, ['commit', '-q', '-m', 'start t1']);
    const refused = async (subject: string, trailer: string, molecule: string) => {
      const c = await git(cwd, ['commit', '-q', '--allow-empty', '-m', subject, '--trailer', trailer]);
      expect(String(c.stderr)).toContain(molecule === 't2' ? 'no molecule t2' : 'step b of t1 is not ready');
      return (await gitIn(cwd, 'rev-parse', 'HEAD')).trim();
    };
    early = {
      t2a: await refused('too soon for t2', 'Gastown-Done: t2/a', 't2'),
      t1b: await refused('b before a', 'Gastown-Done: t1/b', 't1'),
    };
    await git(cwd, ['commit', '-q', '--allow-empty', '-m', 'a', '--trailer', 'Gastown-Done: t1/a']);
    expect(await stepStates(cwd, 't1')).toMatchObject({ a: 'done@1', b: 'ready@1' });
    expect(
      (await gastown(['molecule', 'create', '--formula', 'two-step', '--name', 't2'], cwd)).exitCode,
    ).toBe(0);
    await gitIn(cwd, 'add', '-A');
    await git(cwd, ['commit', '-q', '-m', 'start t2']);
    expect(await gitIn(cwd, 'status', '--porcelain')).toBe('');

    const dir = tempDir();
    fresh = { path: join(dir.path, 'clone'), cleanup: dir.cleanup };
    await gitIn(dir.path, 'clone', '-q', `file://${cwd}`, fresh.path);
    for (const [name, at] of [
      ['origin', cwd],
      ['fresh', fresh.path],
    ] as const) {
      const r = await gastown(['advance'], at);
      runs.set(name, { exitCode: r.exitCode, stdout: String(r.stdout) });
    }
  });
  afterAll(() => {
    origin?.cleanup();
    fresh?.cleanup();
  });

  for (const clone of ['origin', 'fresh'] as const) {
    const at = () => (clone === 'origin' ? origin.path : fresh.path);

    it(`${clone}: Gastown-Done: t1/b, committed while b was pending, does not complete b once a is done`, async () => {
      expect(await stepStates(at(), 't1')).toEqual({ a: 'done@1', b: 'ready@1' });
      const run = runs.get(clone);
      expect(run?.exitCode).toBe(0);
      expect(run?.stdout).toContain(
        `skipped Gastown-Done: t1/b in ${early.t1b.slice(0, 12)}: as of that commit, step b of t1 is not ready: it waits on a (ready)`,
      );
      const doctor = await gastown(['doctor'], at());
      expect(doctor.exitCode, `${doctor.stdout}${doctor.stderr}`).toBe(0);
    });

    it(`${clone}: Gastown-Done: t2/a, committed before t2 existed, does not complete a`, async () => {
      expect(await stepStates(at(), 't2')).toEqual({ a: 'ready@1', b: 'pending@1' });
      expect(runs.get(clone)?.stdout).toContain(
        `skipped Gastown-Done: t2/a in ${early.t2a.slice(0, 12)}: molecule t2 did not exist at that commit`,
      );
    });
  }
});
