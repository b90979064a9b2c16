// gastown doctor: pure checks over facts, and the real command on a real repository (run in the
// test worker; the pre-commit hook that refuses the same state runs the built CLI).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkGit,
  checkLock,
  checkNode,
  checkOverdue,
  type DoctorFacts,
  runChecks,
} from '../../src/doctor/checks.js';
import { gastownInProcess } from '../helpers/inproc.js';
import { gitIn } from '../helpers/repo.js';
import { git, initRepo, type Repo, shinyRepo } from './helpers.js';

const base: DoctorFacts = {
  git: { text: 'git version 2.39.5', parts: [2, 39, 5] },
  root: '/r',
  beadsExists: true,
  nodeOnPath: true,
  fileProblems: [],
  filesChecked: 3,
  molecules: [],
  shallow: false,
};

describe('doctor checks (pure)', () => {
  it('judges git versions, locks and node reachability', () => {
    expect(checkGit({ ...base, git: { text: 'git version 2.20.1', parts: [2, 20, 1] } })[0]?.level).toBe(
      'error',
    );
    expect(checkGit({ ...base, git: { text: 'git version 2.30.0', parts: [2, 30, 0] } })[0]?.level).toBe(
      'warn',
    );
    expect(checkGit(base)[0]?.level).toBe('ok');
    expect(
      checkLock({ ...base, lock: { pid: 42, host: 'h', alive: false, sameHost: true } })[0],
    ).toMatchObject({ level: 'error', fixable: true });
    expect(checkLock({ ...base, lock: { pid: 42, host: 'h', alive: true, sameHost: true } })[0]?.level).toBe(
      'info',
    );
    const hooks = {
      mode: 'native' as const,
      dir: '.git/hooks',
      hooks: [],
      runnerPresent: true,
      runnerFile: 'r',
      nodeReachable: false,
      cliPresent: true,
    };
    expect(checkNode({ ...base, hooks, nodeOnPath: false })[0]?.level).toBe('error');
    expect(checkNode({ ...base, hooks, nodeOnPath: true })[0]?.level).toBe('warn');
  });

  it('reports dangling references and a shallow clone', () => {
    const f = runChecks({
      ...base,
      shallow: true,
      molecules: [
        {
          id: 'day3',
          file: '.beads/molecules/day3/molecule.toml',
          formula: 'gone',
          formulaKnown: false,
          after: 'day2',
        },
      ],
    });
    expect(f.find((x) => x.check === 'references' && x.level === 'error')?.message).toContain(
      'after: no molecule `day2`',
    );
    expect(f.find((x) => x.check === 'references' && x.level === 'warn')?.message).toContain(
      'formula `gone`',
    );
    expect(f.find((x) => x.check === 'shallow')?.level).toBe('info');
  });
});

const TIMED_REVIEW = `formula = "timed-review"

[[steps]]
id = "draft"
title = "Draft"

[[steps]]
id = "approve"
title = "Approve the draft"
needs = ["draft"]

[steps.gate]
type = "human"
timeout = "2h"
on_timeout = "escalate"
`;

describe('doctor: overdue checkpoints', () => {
  it('says how overdue, and what happens next, depending on whether the timeout was recorded', () => {
    const o = {
      molecule: 'm1',
      checkpoint: 'approve',
      file: '.beads/molecules/m1/checkpoints/approve.md',
      deadline: '2026-01-06T11:00:00.000Z',
      overdueBy: '1h30m',
      timeout: '2h',
      onTimeout: 'escalate',
      timedOut: false,
    };
    expect(checkOverdue({ ...base, overdue: [o] })).toEqual([
      {
        check: 'checkpoints',
        level: 'warn',
        message:
          'm1: checkpoint approve is overdue by 1h30m (timeout 2h, due 2026-01-06T11:00:00.000Z; .beads/molecules/m1/checkpoints/approve.md)',
        hint: 'decide it, or run `gastown advance` to apply on_timeout (escalate)',
      },
    ]);
    expect(checkOverdue({ ...base, overdue: [{ ...o, timedOut: true }] })[0]?.hint).toBe(
      'its timeout was recorded (on_timeout: escalate); it still waits for a decision',
    );
  });

  const repos: Repo[] = [];
  afterEach(() => {
    for (const r of repos.splice(0)) r.cleanup();
  });

  it('warns about a pending checkpoint past its deadline, counted from the commit of the request', async () => {
    const repo = await initRepo({ hooks: 'none' });
    repos.push(repo);
    const cwd = repo.path;
    writeFileSync(join(cwd, '.beads/formulas/timed-review.formula.toml'), TIMED_REVIEW);
    const at = (t: string) => ({ GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: `2026-01-06T${t}:00Z` });
    expect(
      (await gastownInProcess(['molecule', 'create', '--formula', 'timed-review', '--name', 'm1'], cwd))
        .exitCode,
    ).toBe(0);
    expect((await gastownInProcess(['step', 'done', 'm1', 'draft'], cwd)).exitCode).toBe(0);
    const checkpoints = async (t: string) => {
      const r = await gastownInProcess(['doctor', '--json'], cwd, at(t));
      return (
        JSON.parse(r.stdout) as { checks: { check: string; level: string; message: string }[] }
      ).checks.filter((c) => c.check === 'checkpoints');
    };
    // Not committed yet: nobody could see the request, so its clock has not started.
    expect(await checkpoints('12:30')).toEqual([
      { check: 'checkpoints', level: 'ok', message: 'no checkpoint is overdue' },
    ]);
    await gitIn(cwd, 'add', '-A');
    await gitIn(cwd, 'commit', '-qm', 'review requested'); // committed at 09:00
    expect((await checkpoints('10:59'))[0]?.level).toBe('ok');
    const late = await checkpoints('12:30');
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({
      level: 'warn',
      message:
        'm1: checkpoint approve is overdue by 1h30m (timeout 2h, due 2026-01-06T11:00:00.000Z; .beads/molecules/m1/checkpoints/approve.md)',
    });
    const text = await gastownInProcess(['doctor'], cwd, at('12:30'));
    expect(text.exitCode).toBe(0); // a warning, not a failure
    expect(text.stdout).toContain('warn  checkpoints m1: checkpoint approve is overdue by 1h30m');
  });
});

describe('gastown doctor', () => {
  const repos: Repo[] = [];
  afterEach(() => {
    for (const r of repos.splice(0)) r.cleanup();
  });

  it('passes on a fresh init, finds a dead lock and a broken formula, and --fix removes the lock', async () => {
    const repo = await initRepo();
    repos.push(repo);
    const cwd = repo.path;
    const ok = await gastownInProcess(['doctor'], cwd);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain('doctor: all good');

    mkdirSync(join(cwd, '.beads/.cache'), { recursive: true });
    // pid 2^22+1 is above Linux's pid_max: no such process.
    writeFileSync(
      join(cwd, '.beads/.cache/lock'),
      JSON.stringify({ pid: 4194305, host: hostname(), started: '2026-01-01T00:00:00Z' }),
    );
    writeFileSync(
      join(cwd, '.beads/formulas/bad.formula.toml'),
      'formula = "bad"\n[[steps]]\nid = "a"\nneeds = ["a"]\n',
    );
    const bad = await gastownInProcess(['doctor', '--json'], cwd);
    expect(bad.exitCode).toBe(1);
    const report = JSON.parse(bad.stdout);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c: { check: string }) => c.check === 'lock').level).toBe('error');
    expect(report.checks.find((c: { check: string }) => c.check === 'files').message).toContain(
      '.beads/formulas/bad.formula.toml',
    );

    const fixed = await gastownInProcess(['doctor', '--fix'], cwd);
    expect(fixed.stdout).toContain('fixed removed .beads/.cache/lock');
    expect(() => readFileSync(join(cwd, '.beads/.cache/lock'))).toThrow();
    expect(fixed.exitCode).toBe(1); // the formula is still broken
  });

  // Each is state that fold (status, advance) rejects; doctor and pre-commit must say so too.
  const BROKEN: [string, string, string, string][] = [
    ['molecule.toml', 'id mismatch', 'molecule.toml', '__ID__'],
    [
      'events/design.1.ready.toml',
      'step disagrees with the name',
      'step = "other"\nattempt = 1\nkind = "ready"\n',
      '`step` is "other"',
    ],
    [
      'events/design.1.started.toml',
      'attempt is not a number',
      'step = "design"\nattempt = "one"\nkind = "started"\n',
      'attempt',
    ],
    ['events/design.1.done.toml', 'an empty event', '', 'kind'],
    [
      'events/design-done.toml',
      'a bad event file name',
      'step = "design"\nattempt = 1\nkind = "done"\n',
      'not an event file name',
    ],
  ];
  for (const [rel, what, text, expected] of BROKEN) {
    it(`finds ${what} (${rel}); pre-commit refuses it`, async () => {
      const repo = await shinyRepo();
      repos.push(repo);
      const cwd = repo.path;
      const file = join(cwd, '.beads/molecules/m1', rel);
      const body =
        text === 'molecule.toml' ? readFileSync(file, 'utf8').replace(/^id = "m1"$/m, 'id = "m2"') : text;
      if (text === 'molecule.toml') expect(body).toContain('id = "m2"');
      writeFileSync(file, body);
      const want = expected === '__ID__' ? 'but the folder is "m1"' : expected;
      const doctor = await gastownInProcess(['doctor'], cwd);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout).toContain(`.beads/molecules/m1/${rel}`);
      expect(doctor.stdout).toContain(want);
      await gitIn(cwd, 'add', '-A');
      const commit = await git(cwd, ['commit', '-q', '-m', 'broken state']);
      expect(commit.exitCode).not.toBe(0);
      expect(commit.stderr).toContain(`.beads/molecules/m1/${rel}`);
      expect(await gitIn(cwd, 'log', '-1', '--format=%s')).toBe('start m1');
    });
  }

  it('warns when the installed hook runner is not the one this gastown installs; hooks install mends it', async () => {
    const repo = await initRepo();
    repos.push(repo);
    const runner = join(repo.path, '.git/gastown/runner.sh');
    const hooks = async () => {
      const r = await gastownInProcess(['doctor', '--json'], repo.path);
      return (
        JSON.parse(r.stdout) as { checks: { check: string; level: string; message: string }[] }
      ).checks.filter((c) => c.check === 'hooks');
    };
    expect((await hooks()).map((c) => c.level)).toEqual(['ok']);
    // What an older gastown installed: the same paths, another script.
    writeFileSync(runner, readFileSync(runner, 'utf8').replace('ops=', 'old_ops='));
    const stale = await hooks();
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ level: 'warn' });
    expect(stale[0]?.message).toContain('is not the one this gastown installs');
    expect((await gastownInProcess(['hooks', 'status'], repo.path)).stdout).toContain('(not this version');
    expect((await gastownInProcess(['hooks', 'install'], repo.path)).exitCode).toBe(0);
    expect((await hooks()).map((c) => c.level)).toEqual(['ok']);
  });

  it('finds an event for a step the frozen formula does not have', async () => {
    const repo = await shinyRepo();
    repos.push(repo);
    writeFileSync(
      join(repo.path, '.beads/molecules/m1/events/deploy.1.done.toml'),
      'step = "deploy"\nattempt = 1\nkind = "done"\n',
    );
    const doctor = await gastownInProcess(['doctor'], repo.path);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toContain('event for unknown step "deploy"');
  });
});
