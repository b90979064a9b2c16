// A Day 3 molecule (the built-in integration-test-full-validation formula) in a real repository,
// moved by the built CLI: the agent does the steps, @jgil approves the checkpoints in commits of
// their own, and the test-validation gate runs a real test runner.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { junitReport } from '../gates/fixtures.js';
import { commitAll, gastown, JGIL, makeRepo } from '../helpers/repo.js';

export const NOW = { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: '2026-01-06T09:30:00Z' };
export const MOL = '.beads/molecules/day3';
export const CONFIG =
  '[users.jgil]\nemails = ["jgil@example.com"]\n\n[agents.polecat-1]\nemails = ["agent@example.com"]\n\n[teams]\nleads = ["@jgil"]\n';

export interface Day3Repo {
  path: string;
  cleanup(): void;
  gt(args: string[], env?: Record<string, string>): Promise<string>;
  done(step: string): Promise<string>;
  /** Sets the checkpoint's decision to approved in the working tree (not committed). */
  approveFile(checkpoint: string): void;
  commit(message: string, env?: Record<string, string>): Promise<void>;
}

export async function day3Repo(config = CONFIG): Promise<Day3Repo> {
  const repo = await makeRepo();
  const cwd = repo.path;
  const w = (rel: string, text: string) => {
    mkdirSync(join(cwd, rel, '..'), { recursive: true });
    writeFileSync(join(cwd, rel), text);
  };
  const gt = async (args: string[], env: Record<string, string> = {}) => {
    const r = await gastown(args, cwd, { ...NOW, ...env });
    if (r.exitCode !== 0)
      throw new Error(`gastown ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}${r.stdout}`);
    return String(r.stdout);
  };
  w('.beads/config.toml', config);
  w('.beads/.gitignore', '.cache/\n');
  w(
    'run-tests.mjs',
    `import { mkdirSync, writeFileSync } from 'node:fs';
mkdirSync('reports', { recursive: true });
writeFileSync('reports/junit.xml', ${JSON.stringify(junitReport(35, 0))});
`,
  );
  w('test/integration/audit_test.go', 'package integration\n');
  w('.gitignore', '/reports/\n');
  await commitAll(cwd, 'project');
  await gt([
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
  await commitAll(cwd, 'pour day3');
  return {
    ...repo,
    gt,
    done: (step) => gt(['step', 'done', 'day3', step, '--as', 'polecat-1']),
    approveFile: (checkpoint) => {
      const file = join(cwd, `${MOL}/checkpoints/${checkpoint}.md`);
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^decision: pending.*$/m, 'decision: approved'));
    },
    commit: (message, env = {}) => commitAll(cwd, message, env),
  };
}

/** Analysis done and approved by @jgil, plan done and approved: plan-checkpoint is done. */
export async function throughPlan(r: Day3Repo, approver: Record<string, string> = JGIL): Promise<void> {
  await r.done('analysis');
  await r.commit('analysis');
  r.approveFile('analysis-checkpoint');
  await r.commit('approve analysis', approver);
  await r.gt(['advance']);
  await r.done('plan');
  await r.commit('plan');
  r.approveFile('plan-checkpoint');
  await r.commit('approve plan', approver);
  await r.gt(['advance']);
  await r.commit('advance');
}
