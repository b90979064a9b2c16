// The brief's Day 3 path end to end: the built-in integration-test-full-validation formula, a
// real git repository, the built CLI as a child process, a real "test runner" child process.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { junitReport } from '../gates/fixtures.js';
import { commitAll as commitAllIn, gastown, JGIL, makeRepo } from '../helpers/repo.js';

const NOW = { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: '2026-01-06T09:30:00Z' };
const MOL = '.beads/molecules/day3';

describe('Day 3: checkpoints and the test-validation gate', () => {
  let repo: { path: string; cleanup(): void };
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const r = await gastown(args, repo.path, { ...NOW, ...env });
    if (r.exitCode !== 0)
      throw new Error(`gastown ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}${r.stdout}`);
    return String(r.stdout);
  };
  const status = async () =>
    JSON.parse(await run(['molecule', 'status', 'day3', '--json'])) as {
      state: string;
      steps: { id: string; state: string; attempt: number; notes?: string[] }[];
    };
  const step = async (id: string) => (await status()).steps.find((s) => s.id === id);
  const read = (rel: string) => readFileSync(join(repo.path, rel), 'utf8');
  const commitAll = (message: string, env: Record<string, string> = {}) =>
    commitAllIn(repo.path, message, env);
  const done = async (id: string, output?: string) => {
    const args = ['step', 'done', 'day3', id, '--as', 'polecat-1'];
    if (output !== undefined) {
      writeFileSync(join(repo.path, `${id}.out.md`), output);
      args.push('--output', `${id}.out.md`);
    }
    return run(args);
  };

  beforeAll(async () => {
    repo = await makeRepo();
    const w = (rel: string, text: string) => writeFileSync(join(repo.path, rel), text);
    await execa('mkdir', ['-p', '.beads', 'test/integration/workflowexecution'], { cwd: repo.path });
    w(
      '.beads/config.toml',
      '[users.jgil]\nemails = ["jgil@example.com"]\n\n[agents.polecat-1]\nemails = ["agent@example.com"]\n\n[teams]\nleads = ["@jgil"]\n',
    );
    w('.beads/.gitignore', '.cache/\n');
    // The project's test runner: 3 of 35 fail until failing.txt says 0; exits 1 on failures.
    w(
      'run-tests.mjs',
      `import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
const failing = readFileSync('failing.txt', 'utf8').trim() !== '0';
mkdirSync('reports', { recursive: true });
writeFileSync('reports/junit.xml', failing ? ${JSON.stringify(junitReport(35, 3))} : ${JSON.stringify(junitReport(35, 0))});
process.exit(failing ? 1 : 0);
`,
    );
    w('failing.txt', '3\n');
    w(
      'test/integration/workflowexecution/audit_test.go',
      'package workflowexecution\n\nfunc TestSelection(t *testing.T) {\n\ttime.Sleep(5*time.Second)\n}\n',
    );
    w('.gitignore', 'reports/\n*.out.md\n');
    await commitAll('project');
    await run([
      'molecule',
      'create',
      '--formula',
      'integration-test-full-validation',
      '--name',
      'day3',
      '--assignee',
      'polecat-1',
      '--var',
      'approver=@jgil',
      '--var',
      `test_command=${process.execPath}`,
      '--var',
      'test_target=run-tests.mjs',
      '--var',
      'test_results=reports/junit.xml',
    ]);
    await commitAll('pour day3');
  });
  afterAll(() => repo.cleanup());

  it('analysis done → checkpoint file with decision: pending and the analysis for review', async () => {
    await done(
      'analysis',
      '---\nconfidence: 85\n---\n## Questions\n1. Test both selection and execution events?\n',
    );
    const cp = read(`${MOL}/checkpoints/analysis-checkpoint.md`);
    expect(cp).toMatch(/^decision: pending/m);
    expect(cp).toContain('1. Test both selection and execution events?');
    expect((await step('analysis-checkpoint'))?.state).toBe('pending');
    // The agent cannot complete the checkpoint step itself.
    const r = await gastown(
      ['step', 'done', 'day3', 'analysis-checkpoint', '--as', 'polecat-1'],
      repo.path,
      NOW,
    );
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('waiting for @jgil');
  });

  it('editing decision to approved and committing as @jgil, then advance → plan is ready', async () => {
    await commitAll('analysis');
    const file = join(repo.path, `${MOL}/checkpoints/analysis-checkpoint.md`);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^decision: pending.*$/m, 'decision: approved'));
    await commitAll('approve analysis', JGIL);
    await run(['advance']);
    expect(await step('analysis-checkpoint')).toMatchObject({ state: 'done' });
    expect(await step('plan')).toMatchObject({ state: 'ready', attempt: 1 });
  });

  it('rejecting the plan re-opens plan as attempt 2 and the assignee sees the reason', async () => {
    await done('plan', '# Plan\n3 specs\n');
    await commitAll('plan');
    const out = await run(
      [
        'checkpoint',
        'reject',
        'day3',
        'plan-checkpoint',
        '--reason',
        'Cover degraded mode (fallback workflows) too',
      ],
      JGIL,
    );
    expect(out).toContain('plan re-opened as attempt 2');
    expect(await step('plan')).toMatchObject({ state: 'ready', attempt: 2 });
    expect(read(`${MOL}/feedback/plan/2.rejected.md`)).toContain(
      'Cover degraded mode (fallback workflows) too',
    );
    expect(read(`${MOL}/events/plan.2.reopened.toml`)).toContain(
      'Cover degraded mode (fallback workflows) too',
    );

    await done('plan', '# Plan v2\n3 specs + degraded mode\n');
    expect(read(`${MOL}/checkpoints/plan-checkpoint.attempt-2.md`)).toMatch(/^decision: pending/m);
    await run(['checkpoint', 'approve', 'day3', 'plan-checkpoint'], JGIL);
    expect(await step('do-infrastructure')).toMatchObject({ state: 'ready' });
  });

  it('the 32/35 + time.Sleep gate blocks and re-opens do-refactor; after the fix it passes at 100% and the checkpoint opens', async () => {
    for (const id of ['do-infrastructure', 'do-red', 'do-green']) await done(id);
    await done('do-refactor');
    const report = read(`${MOL}/reports/test-validation.1.md`);
    expect(report).toMatch(/^verdict: fail$/m);
    expect(report).toContain('pass rate 91.4% is below the required 100% (3 of 35 failed)');
    for (const n of [33, 34, 35])
      expect(report).toContain(
        `TestAudit/spec_${n} (audit_workflow_selection_integration_test.go:${100 + n})`,
      );
    expect(report).toContain(
      'test/integration/workflowexecution/audit_test.go:4: `time.Sleep(5*time.Second)`',
    );
    expect(await step('do-refactor')).toMatchObject({ state: 'ready', attempt: 2 });
    expect(read(`${MOL}/feedback/do-refactor/2.gate-failed.md`)).toContain('reports/test-validation.1.md');
    expect(existsSync(join(repo.path, `${MOL}/checkpoints/test-validation-checkpoint.md`))).toBe(false);

    writeFileSync(join(repo.path, 'failing.txt'), '0\n');
    writeFileSync(
      join(repo.path, 'test/integration/workflowexecution/audit_test.go'),
      'package workflowexecution\n\nfunc TestSelection(t *testing.T) {\n\tEventually(events).Should(HaveLen(2))\n}\n',
    );
    await done('do-refactor');
    const second = read(`${MOL}/reports/test-validation.2.md`);
    expect(second).toMatch(/^verdict: pass$/m);
    expect(second).toMatch(/^pass_rate: 100$/m);
    expect(await step('test-validation')).toMatchObject({ state: 'done', attempt: 2 });
    expect(read(`${MOL}/checkpoints/test-validation-checkpoint.md`)).toMatch(/^decision: pending/m);
    const pending = JSON.parse(await run(['checkpoint', 'list', '--pending', '--json'])) as {
      checkpoint: string;
    }[];
    expect(pending.map((p) => p.checkpoint)).toEqual(['test-validation-checkpoint']);
  });
});
