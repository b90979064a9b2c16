// Day 3 through the agent's desk: the built-in integration-test-full-validation formula in a real
// git repository, the built CLI as a child process. The engine's typed mail lands in the right
// inboxes once, `step show` and `prime` give the agent its full instructions and the rejection.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitAll as commitAllIn, gastown, JGIL, makeRepo, testEnv } from '../helpers/repo.js';

const NOW = { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: '2026-01-06T09:30:00Z' };

interface InboxEntry {
  id: string;
  type: string;
  subject: string;
  step?: string;
  attempt?: number;
}

describe('Day 3 mail, step show and prime', () => {
  let repo: { path: string; cleanup(): void };
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const r = await gastown(args, repo.path, { ...NOW, ...env });
    if (r.exitCode !== 0)
      throw new Error(`gastown ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}${r.stdout}`);
    return String(r.stdout);
  };
  const inbox = async (who: string) =>
    JSON.parse(await run(['mail', 'inbox', '--for', who, '--all', '--json'])) as InboxEntry[];
  const mailFiles = () => {
    const out: string[] = [];
    const walk = (rel: string) => {
      for (const e of readdirSync(join(repo.path, rel), { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${rel}/${e.name}`);
        else out.push(`${rel}/${e.name}`);
      }
    };
    walk('.beads/mail');
    return out.sort();
  };
  const commitAll = (message: string, env: Record<string, string> = {}) =>
    commitAllIn(repo.path, message, env);
  const done = async (id: string, output: string) => {
    writeFileSync(join(repo.path, `${id}.out.md`), output);
    return run(['step', 'done', 'day3', id, '--as', 'polecat-1', '--output', `${id}.out.md`]);
  };
  const prime = () => run(['prime', '--for', 'polecat-1']);

  beforeAll(async () => {
    repo = await makeRepo();
    const w = (rel: string, text: string) => writeFileSync(join(repo.path, rel), text);
    await execa('mkdir', ['-p', '.beads'], { cwd: repo.path });
    w(
      '.beads/config.toml',
      '[users.jgil]\nemails = ["jgil@example.com"]\n\n[agents.polecat-1]\nemails = ["agent@example.com"]\n\n[teams]\nleads = ["@jgil"]\n',
    );
    w('.beads/.gitignore', '.cache/\n');
    w('.gitignore', '*.out.md\n');
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
      'test_results=reports/day3-junit.xml',
    ]);
    await commitAll('pour day3');
  });
  afterAll(() => repo.cleanup());

  it('prime shows the first step with its full instructions; the assignee has STEP_READY', async () => {
    const out = await prime();
    expect(out).toContain('You are polecat-1.');
    expect(out).toContain('On your hook: day3/analysis: Analyse the requirements');
    // The whole description, not its first line.
    expect(out).toContain('questions, concerns, recommendation, and your confidence.');
    expect(out).toContain('Gastown-Done: day3/analysis');
    expect((await inbox('polecat-1')).map((m) => m.type)).toEqual(['STEP_READY']);
    // Quiet when there is nothing for someone.
    expect(await run(['prime', '--for', '@jgil'])).toBe('');
  });

  it('analysis done → exactly one CHECKPOINT_READY for @jgil, holding the analysis', async () => {
    await done('analysis', '## Questions\n1. Test both selection and execution events?\n');
    const mail = await inbox('@jgil');
    expect(mail.map((m) => m.type)).toEqual(['CHECKPOINT_READY']);
    const read = await run(['mail', 'read', mail[0]?.id as string, '--for', '@jgil']);
    expect(read).toContain('1. Test both selection and execution events?');
    expect(read).toContain('gastown checkpoint approve day3 analysis-checkpoint');
    // The agent has nothing to do while the checkpoint waits.
    expect(await prime()).not.toContain('On your hook');
  });

  it('approving puts one CHECKPOINT_DECIDED in the assignee inbox; prime moves on to plan', async () => {
    await commitAll('analysis');
    await run(['checkpoint', 'approve', 'day3', 'analysis-checkpoint'], JGIL);
    await commitAll('approve analysis', JGIL);
    const decided = (await inbox('polecat-1')).filter((m) => m.type === 'CHECKPOINT_DECIDED');
    expect(decided).toHaveLength(1);
    expect(decided[0]?.subject).toBe('Approved: day3/analysis-checkpoint');
    const out = await prime();
    expect(out).toContain('On your hook: day3/plan: Plan the tests and the implementation');
    expect(out).toContain('red/green/refactor sequence and the success criteria.');
    expect(out).toContain('analysis-checkpoint (done)');
    // What the checkpoint reviewed is named with its path.
    expect(await run(['step', 'show', 'day3', 'analysis-checkpoint'])).toContain(
      'analysis (done): .beads/molecules/day3/outputs/analysis.md',
    );
  });

  it('rejecting the plan puts the reason in the assignee mail, step show and prime (attempt 2)', async () => {
    await done('plan', '# Plan\n3 specs\n');
    await commitAll('plan');
    await run(
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
    await commitAll('reject plan', JGIL);
    const rejected = (await inbox('polecat-1')).filter(
      (m) => m.type === 'CHECKPOINT_DECIDED' && m.step === 'plan-checkpoint',
    );
    expect(rejected).toHaveLength(1);
    const body = await run(['mail', 'read', rejected[0]?.id as string, '--for', 'polecat-1']);
    expect(body).toContain('Cover degraded mode (fallback workflows) too');

    const show = JSON.parse(await run(['step', 'show', 'day3', 'plan', '--json'])) as {
      attempt: number;
      state: string;
      feedback: { kind: string; text: string }[];
      needs: { step: string }[];
    };
    expect(show).toMatchObject({ attempt: 2, state: 'ready', needs: [{ step: 'analysis-checkpoint' }] });
    expect(show.feedback.map((f) => f.kind)).toEqual(['rejected']);
    expect(show.feedback[0]?.text).toContain('Cover degraded mode (fallback workflows) too');
    expect(await run(['step', 'show', 'day3', 'plan'])).toContain(
      'Cover degraded mode (fallback workflows) too',
    );

    const out = await prime();
    expect(out).toContain('On your hook: day3/plan');
    expect(out).toContain('attempt 2');
    expect(out).toContain('Cover degraded mode (fallback workflows) too');
    expect(out).toContain('red/green/refactor sequence and the success criteria.');
  });

  it('a Gastown-Done commit: the engine commit holds the new checkpoint and its mail; again adds none', async () => {
    await run(['hooks', 'install']);
    writeFileSync(join(repo.path, 'plan-v2.md'), '# Plan v2\n3 specs + degraded mode\n');
    await commitAll('plan v2\n\nGastown-Done: day3/plan');
    const { stdout } = await execa('git', ['log', '-1', '--name-only', '--format=%s'], { cwd: repo.path });
    expect(stdout).toMatch(/^gastown: /);
    expect(stdout).toContain('.beads/molecules/day3/events/plan-checkpoint.2.checkpoint.toml');
    expect(stdout).toContain('.beads/mail/@jgil/day3.plan-checkpoint.2.checkpoint-ready.md');
    const ready = (await inbox('@jgil')).filter((m) => m.type === 'CHECKPOINT_READY');
    expect(ready.map((m) => `${m.step}.${m.attempt}`)).toEqual([
      'analysis-checkpoint.1',
      'plan-checkpoint.1',
      'plan-checkpoint.2',
    ]);
    const before = mailFiles();
    await run(['advance']);
    await run(['advance', '--commit']);
    await run(['advance']);
    expect(mailFiles()).toEqual(before);
    const status = await execa('git', ['status', '--porcelain', '--', '.beads'], { cwd: repo.path });
    expect(status.stdout).toBe('');
  });

  it('advance --commit publishes the mail a command wrote without committing', async () => {
    await run(['checkpoint', 'approve', 'day3', 'plan-checkpoint'], JGIL);
    // The person commits their decision alone; the facts and mail it led to are not in that commit.
    await execa('git', ['commit', '-q', '-m', 'approve plan v2', '--', '.beads/molecules/day3/checkpoints'], {
      cwd: repo.path,
      env: testEnv(JGIL),
      extendEnv: false,
    });
    const adv = await run(['advance', '--commit']);
    const { stdout } = await execa('git', ['log', '-1', '--name-only', '--format=%s'], { cwd: repo.path });
    expect(`${adv}${stdout}`).toContain('.beads/molecules/day3/events/plan-checkpoint.2.done.toml');
    expect(stdout).toContain('.beads/mail/polecat-1/day3.plan-checkpoint.2.checkpoint-decided.md');
    expect(stdout).toContain('.beads/mail/polecat-1/day3.do-infrastructure.1.step-ready.md');
    const status = await execa('git', ['status', '--porcelain', '--', '.beads'], { cwd: repo.path });
    expect(status.stdout).toBe('');
  });
});
