// gastown doctor: pure checks over facts, and the real command on a real repository.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkGit, checkLock, checkNode, type DoctorFacts, runChecks } from '../../src/doctor/checks.js';
import { gastown } from '../helpers/repo.js';
import { initRepo, type Repo } from './helpers.js';

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

describe('gastown doctor', () => {
  const repos: Repo[] = [];
  afterEach(() => {
    for (const r of repos.splice(0)) r.cleanup();
  });

  it('passes on a fresh init, finds a dead lock and a broken formula, and --fix removes the lock', async () => {
    const repo = await initRepo();
    repos.push(repo);
    const cwd = repo.path;
    const ok = await gastown(['doctor'], cwd);
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
    const bad = await gastown(['doctor', '--json'], cwd);
    expect(bad.exitCode).toBe(1);
    const report = JSON.parse(bad.stdout);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c: { check: string }) => c.check === 'lock').level).toBe('error');
    expect(report.checks.find((c: { check: string }) => c.check === 'files').message).toContain(
      '.beads/formulas/bad.formula.toml',
    );

    const fixed = await gastown(['doctor', '--fix'], cwd);
    expect(fixed.stdout).toContain('fixed removed .beads/.cache/lock');
    expect(() => readFileSync(join(cwd, '.beads/.cache/lock'))).toThrow();
    expect(fixed.exitCode).toBe(1); // the formula is still broken
  });
});
