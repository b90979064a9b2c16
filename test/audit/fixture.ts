// A Day 3 molecule (the built-in integration-test-full-validation formula) in a real repository,
// moved by the CLI (run in this process): the agent does the steps, @jgil approves the checkpoints in commits of
// their own, and the test-validation gate runs a real test runner.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { junitReport } from '../gates/fixtures.js';
import { gastownInProcess } from '../helpers/inproc.js';
import { commitAll, JGIL } from '../helpers/repo.js';
import { copyOfRepo } from '../helpers/template.js';

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

/** Handles on a Day 3 repository at `cwd`. */
function handle(repo: { path: string; cleanup(): void }): Day3Repo {
  const cwd = repo.path;
  const gt = async (args: string[], env: Record<string, string> = {}) => {
    const r = await gastownInProcess(args, cwd, { ...NOW, ...env });
    if (r.exitCode !== 0)
      throw new Error(`gastown ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}${r.stdout}`);
    return String(r.stdout);
  };
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

/** The project and the poured day3 molecule, committed, in `cwd` (a repository with one commit). */
async function pour(cwd: string, config: string): Promise<void> {
  const w = (rel: string, text: string) => {
    mkdirSync(join(cwd, rel, '..'), { recursive: true });
    writeFileSync(join(cwd, rel), text);
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
  await handle({ path: cwd, cleanup: () => {} }).gt([
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
}

/**
 * A Day 3 repository under `config`: the molecule just poured, or (`planned`) moved through
 * `throughPlan` by @jgil. Built once per run for each config and stage, copied for each caller.
 */
export async function day3Repo(config = CONFIG, stage: 'poured' | 'planned' = 'poured'): Promise<Day3Repo> {
  const key = `audit-day3-${stage}-${createHash('sha256').update(config).digest('hex').slice(0, 16)}`;
  const repo = await copyOfRepo(key, async (dir) => {
    await pour(dir, config);
    if (stage === 'planned') await throughPlan(handle({ path: dir, cleanup: () => {} }));
  });
  return handle(repo);
}

/** Analysis done and approved by @jgil, plan done and approved: plan-checkpoint is done. */
async function throughPlan(r: Day3Repo, approver: Record<string, string> = JGIL): Promise<void> {
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
