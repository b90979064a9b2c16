// examples/github-actions/gastown.yml: the workflow's own `run:` commands, run as the runner
// would (sh -e, the step's env, GITHUB_STEP_SUMMARY) in a clone of a bare remote that holds a
// pull request. `gastown` on PATH is the built CLI.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLI, gitIn, JGIL, person, ROOT, tempDir, testEnv } from '../helpers/repo.js';
import { type Day3Repo, day3Repo, NOW } from './fixture.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}

const workflow = parse(readFileSync(join(ROOT, 'examples/github-actions/gastown.yml'), 'utf8')) as {
  jobs: { gastown: { steps: Step[] } };
};
/** The steps a test can run: not the marketplace actions and not the install from npm. */
const steps = workflow.jobs.gastown.steps.filter((s) => s.run && !s.run.startsWith('npm '));

/** `${{ github.base_ref }}` and `${{ github.base_ref || 'main' }}` as a pull request into main sets them. */
const expr = (v: string) => v.replace(/\$\{\{\s*github\.base_ref[^}]*\}\}/g, 'main');

describe('examples/github-actions/gastown.yml', () => {
  let origin: Day3Repo;
  const tmp = tempDir();
  const bin = join(tmp.path, 'bin');
  beforeAll(async () => {
    mkdirSync(bin);
    writeFileSync(join(bin, 'gastown'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(bin, 'gastown'), 0o755);
    origin = await day3Repo();
    await gitIn(tmp.path, 'init', '-q', '--bare', '-b', 'main', 'remote.git');
    await gitIn(origin.path, 'remote', 'add', 'origin', join(tmp.path, 'remote.git'));
    await gitIn(origin.path, 'push', '-q', 'origin', 'main');
  }, 60_000);
  afterAll(() => {
    origin.cleanup();
    tmp.cleanup();
  });

  /** Pushes a branch where `approver` approves the analysis; runs the workflow on a fresh clone. */
  const pullRequest = async (branch: string, approver: Record<string, string>) => {
    await gitIn(origin.path, 'checkout', '-q', '-b', branch, 'main');
    await origin.done('analysis');
    await origin.commit('analysis');
    origin.approveFile('analysis-checkpoint');
    await origin.commit('approve analysis', approver);
    await gitIn(origin.path, 'push', '-q', 'origin', branch);
    await gitIn(origin.path, 'checkout', '-q', 'main');
    await gitIn(origin.path, 'reset', '-q', '--hard');
    const ci = join(tmp.path, `ci-${branch}`);
    await gitIn(tmp.path, 'clone', '-q', '--branch', branch, join(tmp.path, 'remote.git'), ci);
    const summary = join(tmp.path, `summary-${branch}.md`);
    writeFileSync(summary, '');
    const results: { name: string; exitCode: number; out: string }[] = [];
    for (const step of steps) {
      const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expr(v)]));
      const r = await execa('sh', ['-e', '-c', step.run as string], {
        cwd: ci,
        env: testEnv({
          ...NOW,
          ...env,
          PATH: `${bin}:${process.env.PATH}`,
          GITHUB_STEP_SUMMARY: summary,
          GITHUB_EVENT_NAME: 'pull_request',
        }),
        extendEnv: false,
        reject: false,
      });
      results.push({ name: step.name ?? '', exitCode: r.exitCode ?? 1, out: `${r.stdout}${r.stderr}` });
    }
    return { results, summary: readFileSync(summary, 'utf8') };
  };

  it('a pull request whose approval the approver made passes, and the summary shows the workflow', async () => {
    expect(steps.map((s) => s.name)).toEqual(['Advance', 'Verify', 'Report']);
    const { results, summary } = await pullRequest('good', JGIL);
    expect(results.map((r) => [r.name, r.exitCode])).toEqual([
      ['Advance', 0],
      ['Verify', 0],
      ['Report', 0],
    ]);
    expect(summary).toContain('## day3 — active');
    expect(summary).toContain('```mermaid\nflowchart TD');
    // The range records the analysis; `advance --ci` then finds the approval and passes the checkpoint.
    expect(summary).toContain('| day3 | analysis | done |');
    expect(summary).toContain('s1["analysis-checkpoint (human)<br/>done"]:::done');
  });

  it('a pull request approved by someone else fails the Verify step, naming the rule', async () => {
    const { results } = await pullRequest('forged', person('Mallory', 'mallory@example.com'));
    const verify = results.find((r) => r.name === 'Verify');
    expect(verify?.exitCode).toBe(1);
    expect(verify?.out).toContain('approver: .beads/molecules/day3/checkpoints/analysis-checkpoint.md');
  });
});
