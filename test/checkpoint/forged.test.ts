// Facts an agent writes by hand do not pass a gate: a `done` for a checkpoint step with no
// counted approval, a `done` for a command gate whose report failed, a later attempt nothing
// re-opened, a step finished before the steps it needs. Each makes the molecule invalid, names
// the file, moves nothing, and doctor exits 1; the way out (remove the file, approve properly)
// works. Real git repositories and the CLI run in this process.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gastownInProcess } from '../helpers/inproc.js';
import { commitAll as commitAllIn, gitIn, JGIL, testEnv } from '../helpers/repo.js';
import { GUARDED_CONFIG, guardedWorkDone } from './guarded.js';

const FORMULA = `formula = "guarded"
type = "workflow"

[[steps]]
id = "work"
title = "Do the work"

[[steps]]
id = "review"
title = "Review the work"
needs = ["work"]

[steps.gate]
type = "human"
approvers = ["@jgil"]
prevent_self_approval = true

[[steps]]
id = "tests"
title = "Run the tests"
needs = ["review"]

[steps.gate]
type = "command"
run = [["node", "-e", "process.exit(1)"]]
max_attempts = 1

[[steps]]
id = "ship"
title = "Ship it"
needs = ["tests"]
`;

const MOL = '.beads/molecules/m1';

describe('hand-written facts do not pass a gate', () => {
  let repo: { path: string; cleanup(): void };
  const run = (args: string[], env: Record<string, string> = {}) => gastownInProcess(args, repo.path, env);
  const ok = async (args: string[], env: Record<string, string> = {}) => {
    const r = await run(args, env);
    if (r.exitCode !== 0) throw new Error(`gastown ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return String(r.stdout);
  };
  const status = async () =>
    JSON.parse(String((await run(['molecule', 'status', 'm1', '--json'])).stdout)) as {
      state: string;
      steps: { id: string; state: string; attempt: number }[];
      problems: { file: string; message: string }[];
    };
  const stepState = async (id: string) => (await status()).steps.find((s) => s.id === id)?.state;
  const write = (rel: string, text: string) => writeFileSync(join(repo.path, rel), text);
  const read = (rel: string) => readFileSync(join(repo.path, rel), 'utf8');
  const commitAll = (message: string, env: Record<string, string> = {}) =>
    commitAllIn(repo.path, message, env);
  /** Every tracked and untracked file under .beads/ except the cache, with its bytes. */
  const snapshot = async () => {
    const files = (await gitIn(repo.path, 'ls-files', '--cached', '--others', '--exclude-standard', '.beads'))
      .split('\n')
      .filter((f) => f !== '');
    return Object.fromEntries(files.map((f) => [f, read(f)]));
  };

  beforeEach(async () => {
    // Made once, copied for each test.
    // The fixed test identity (agent@example.com) is the agent: it commits the forgeries.
    repo = await guardedWorkDone('checkpoint-forged-m1-work-done', {
      config: GUARDED_CONFIG,
      formula: FORMULA,
    });
    expect(read(`${MOL}/checkpoints/review.md`)).toMatch(/^decision: pending/m);
  });
  afterEach(() => repo.cleanup());

  it('a done for the checkpoint step, committed by the agent, is refused; removing it and a real approval go on', async () => {
    write(`${MOL}/events/review.1.done.toml`, 'step = "review"\nattempt = 1\nkind = "done"\nby = "@jgil"\n');
    await commitAll('review done');
    const before = await snapshot();

    const adv = await run(['advance']);
    expect(adv.exitCode).toBe(1);
    expect(adv.stderr).toContain(`${MOL}/events/review.1.done.toml`);
    expect(adv.stderr).toContain('review is recorded done but no approval is recorded');
    expect(await snapshot()).toEqual(before);
    const st = await status();
    expect(st.state).toBe('invalid');
    expect(st.problems[0]?.file).toBe(`${MOL}/events/review.1.done.toml`);
    expect(await stepState('tests')).toBe('pending');
    const doctor = await run(['doctor']);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout + doctor.stderr).toContain('events/review.1.done.toml');

    // The agent also sets the decision itself: an approval by the agent does not count either.
    write(
      `${MOL}/checkpoints/review.md`,
      read(`${MOL}/checkpoints/review.md`).replace(/^decision: pending.*$/m, 'decision: approved'),
    );
    await commitAll('approve it myself');
    const again = await run(['advance']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('no counted approval backs it');
    expect(again.stderr).toContain('agent@example.com');
    expect(existsReport()).toBe(false);

    // The way out: the forged file goes, the decision goes back, @jgil approves.
    rmSync(join(repo.path, `${MOL}/events/review.1.done.toml`));
    write(
      `${MOL}/checkpoints/review.md`,
      read(`${MOL}/checkpoints/review.md`).replace(/^decision: approved.*$/m, 'decision: pending'),
    );
    await commitAll('undo the forgery');
    await ok(['advance']);
    expect(await stepState('review')).toBe('pending');
    await ok(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    await commitAll('approved', JGIL);
    await ok(['advance']);
    expect(await stepState('review')).toBe('done');
    expect((await status()).state).not.toBe('invalid');
    expect((await run(['doctor'])).stdout).not.toContain('events/review.1.done.toml');
  });

  const existsReport = () => {
    try {
      read(`${MOL}/reports/tests.1.md`);
      return true;
    } catch {
      return false;
    }
  };

  it('a done for a command gate whose report failed, and a later attempt nothing re-opened, are refused', async () => {
    await ok(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    await commitAll('approved', JGIL);
    await ok(['advance']);
    expect(read(`${MOL}/reports/tests.1.md`)).toMatch(/^verdict: fail$/m);
    expect((await status()).state).toBe('blocked');

    write(`${MOL}/events/tests.1.done.toml`, 'step = "tests"\nattempt = 1\nkind = "done"\nby = "gate"\n');
    await commitAll('tests pass, trust me');
    const adv = await run(['advance']);
    expect(adv.exitCode).toBe(1);
    expect(adv.stderr).toContain(`${MOL}/events/tests.1.done.toml`);
    expect(adv.stderr).toContain('says fail');
    expect(await stepState('ship')).toBe('pending');
    // Nor can the agent go on with the next step.
    const next = await run(['step', 'start', 'm1', 'ship', '--as', 'polecat-1']);
    expect(next.exitCode).not.toBe(0);

    rmSync(join(repo.path, `${MOL}/events/tests.1.done.toml`));
    write(`${MOL}/events/tests.2.done.toml`, 'step = "tests"\nattempt = 2\nkind = "done"\nby = "gate"\n');
    await commitAll('attempt two, trust me');
    const second = await run(['advance']);
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain('nothing re-opened it');
    expect(await stepState('ship')).toBe('pending');
    expect((await run(['doctor'])).exitCode).toBe(1);
  });

  it('an approval by timeout still stands after a rebase moved the commit times it was counted from', async () => {
    write(
      '.beads/formulas/timed.formula.toml',
      'formula = "timed"\n\n[[steps]]\nid = "draft"\n\n[[steps]]\nid = "approve"\nneeds = ["draft"]\n\n[steps.gate]\ntype = "human"\napprovers = ["@jgil"]\ntimeout = "1h"\non_timeout = "approve"\n\n[[steps]]\nid = "ship"\nneeds = ["approve"]\n',
    );
    await ok(['molecule', 'create', '--formula', 'timed', '--name', 't1']);
    await ok(['step', 'done', 't1', 'draft', '--as', 'polecat-1']);
    await commitAll('request committed at 09:00');
    const at = { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: '2026-01-06T10:30:00Z' };
    await ok(['advance'], at);
    // Committed when it was decided: a timeout approval is checked against commit times.
    await commitAll('approved by timeout', {
      GIT_AUTHOR_DATE: '2026-01-06T10:30:00Z',
      GIT_COMMITTER_DATE: '2026-01-06T10:30:00Z',
    });
    const st = async () =>
      JSON.parse(String((await run(['molecule', 'status', 't1', '--json'], at)).stdout)) as {
        state: string;
        steps: { id: string; state: string }[];
      };
    expect((await st()).steps.find((x) => x.id === 'ship')?.state).toBe('ready');
    // Rebased at 10:15: the request's commit now says 10:15, so its deadline would be 11:15.
    const rebase = await execa('git', ['rebase', '-q', '--force-rebase', '--root'], {
      cwd: repo.path,
      env: { ...testEnv(), GIT_COMMITTER_DATE: '2026-01-06T10:15:00Z' },
      extendEnv: false,
      reject: false,
    });
    expect(rebase.exitCode, String(rebase.stderr)).toBe(0);
    await ok(['advance'], at);
    expect((await st()).state).toBe('active');
  });

  it('an approval made in a shared working tree and committed by the agent: the approver votes again and it stands', async () => {
    // @jgil approves in the working tree; the engine records it; the agent commits everything.
    await ok(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    expect(read(`${MOL}/events/review.1.done.toml`)).toContain('@jgil');
    await commitAll('agent commits the lot');
    const adv = await run(['advance']);
    expect(adv.exitCode).toBe(1);
    expect(adv.stderr).toContain('gastown checkpoint approve m1 review');
    // The way back: @jgil's own vote, committed by @jgil.
    const again = await run(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    expect(again.exitCode, String(again.stderr)).toBe(0);
    expect(again.stdout).toContain('review.approvals/');
    await commitAll('my approval', JGIL);
    expect((await run(['advance'])).exitCode).toBe(0);
    expect((await status()).state).not.toBe('invalid');
    // Once it stands, approving again is the no-op it was.
    const third = await run(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    expect(third.stdout).toContain('nothing written');
  });

  it('a checkpoint opened for an attempt that a merged re-open replaced is re-opened, not reused', async () => {
    // What a merge leaves when another clone re-opened work before this one opened the review.
    write(
      `${MOL}/events/work.2.reopened.toml`,
      'step = "work"\nattempt = 2\nkind = "reopened"\nreason = "redo"\n',
    );
    await commitAll('merge a re-open of work');
    const adv = await run(['advance']);
    expect(adv.exitCode, String(adv.stderr)).toBe(0);
    expect(adv.stdout).toContain('review re-opened as attempt 2');
    const st = await status();
    expect(st.state).toBe('active');
    expect(st.steps.find((x) => x.id === 'review')).toMatchObject({ state: 'pending', attempt: 2 });
    // Work attempt 2 done: a fresh request for attempt 2, not the old one.
    await ok(['step', 'done', 'm1', 'work', '--as', 'polecat-1']);
    expect(read(`${MOL}/checkpoints/review.attempt-2.md`)).toMatch(/^decision: pending/m);
  });

  it('a step recorded done before the checkpoint it needs is refused', async () => {
    write(`${MOL}/events/ship.1.done.toml`, 'step = "ship"\nattempt = 1\nkind = "done"\nby = "polecat-1"\n');
    await commitAll('shipped early');
    const adv = await run(['advance']);
    expect(adv.exitCode).toBe(1);
    expect(adv.stderr).toContain('ship is recorded done in attempt 1 but it needs tests (pending)');
    expect(adv.stderr).toContain('gastown step reopen m1 ship');
    // Re-opening the step is the way out: the early fact becomes history.
    await ok(['step', 'reopen', 'm1', 'ship', '--reason', 'done before its needs']);
    expect((await status()).state).not.toBe('invalid');
    expect(await stepState('ship')).toBe('pending');
  });
});
