// Ways around a gate that an agent with write access to the working tree tried (issue 14): a
// hand-written `skipped`, an edited frozen formula, an approver list rewritten in the approving
// commit, an injected clock. Each makes its molecule invalid or leaves the gate closed, names the
// file, and `doctor` exits 1. Real git repositories and the built CLI; the fixed test identity
// (agent@example.com, `[agents.polecat-1]`) is the agent.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { frozenFormulaHash, parseFrozenFormula } from '../../src/engine/fold.js';
import { gastownInProcess as gastown } from '../helpers/inproc.js';
import { commitAll as commitAllIn, gitIn, JGIL } from '../helpers/repo.js';
import { GUARDED_CONFIG, guardedWorkDone } from './guarded.js';

const FORMULA = `formula = "guarded"
type = "workflow"

[vars.extra]
default = "no"

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

[[steps]]
id = "tests"
title = "Run the tests"
needs = ["review"]

[steps.gate]
type = "command"
run = [["node", "-e", "process.exit(1)"]]
max_attempts = 1

[[steps]]
id = "docs"
title = "Write docs when asked"
needs = ["work"]
condition = "vars.extra == 'yes' || vars.extra == 'always'"

[[steps]]
id = "ship"
title = "Ship it"
needs = ["tests", "docs"]
`;

const MOL = '.beads/molecules/m1';

interface Status {
  state: string;
  steps: { id: string; state: string; attempt: number; notes?: string[] }[];
  problems: { file: string; message: string }[];
}

describe('ways around a gate', () => {
  let repo: { path: string; cleanup(): void };
  const run = (args: string[], env: Record<string, string> = {}) => gastown(args, repo.path, env);
  const ok = async (args: string[], env: Record<string, string> = {}) => {
    const r = await run(args, env);
    if (r.exitCode !== 0) throw new Error(`gastown ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return String(r.stdout);
  };
  const status = async (id = 'm1', env: Record<string, string> = {}) =>
    JSON.parse(String((await run(['molecule', 'status', id, '--json'], env)).stdout)) as Status;
  const stepState = async (step: string, id = 'm1') =>
    (await status(id)).steps.find((s) => s.id === step)?.state;
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
  const approveAs = async (env: Record<string, string>, message: string) => {
    write(
      `${MOL}/checkpoints/review.md`,
      read(`${MOL}/checkpoints/review.md`).replace(/^decision: pending.*$/m, 'decision: approved'),
    );
    await commitAll(message, env);
  };

  beforeEach(async () => {
    // Made once, copied for each test.
    repo = await guardedWorkDone('checkpoint-bypass-m1-work-done', {
      config: GUARDED_CONFIG,
      formula: FORMULA,
    });
    expect(read(`${MOL}/checkpoints/review.md`)).toMatch(/^decision: pending/m);
  });
  afterEach(() => repo.cleanup());

  describe('a hand-written skipped fact', () => {
    it('does not skip a human gate: the molecule is invalid naming the file, and doctor exits 1', async () => {
      write(`${MOL}/events/review.1.skipped.toml`, 'step = "review"\nattempt = 1\nkind = "skipped"\n');
      await commitAll('skip the review');
      const before = await snapshot();

      const adv = await run(['advance']);
      expect(adv.exitCode).toBe(1);
      expect(adv.stderr).toContain(`${MOL}/events/review.1.skipped.toml`);
      expect(adv.stderr).toContain('review is recorded skipped but it has no condition');
      expect(await snapshot()).toEqual(before);
      const st = await status();
      expect(st.state).toBe('invalid');
      expect(st.problems[0]?.file).toBe(`${MOL}/events/review.1.skipped.toml`);
      expect(await stepState('tests')).toBe('pending');
      const doctor = await run(['doctor']);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout + doctor.stderr).toContain('events/review.1.skipped.toml');

      // The way out: remove it; the checkpoint is waiting again.
      rmSync(join(repo.path, `${MOL}/events/review.1.skipped.toml`));
      await commitAll('undo');
      await ok(['advance']);
      expect((await status()).state).not.toBe('invalid');
      expect(await stepState('review')).toBe('pending');
    });

    it('does not skip a command gate either', async () => {
      await approveAs(JGIL, 'approved');
      // The gate ran and failed (max_attempts 1): the molecule is blocked on it.
      expect((await run(['advance'])).exitCode).toBe(0);
      expect(read(`${MOL}/reports/tests.1.md`)).toMatch(/^verdict: fail$/m);
      write(`${MOL}/events/tests.1.skipped.toml`, 'step = "tests"\nattempt = 1\nkind = "skipped"\n');
      await commitAll('skip the tests');
      const adv = await run(['advance']);
      expect(adv.exitCode).toBe(1);
      expect(adv.stderr).toContain(`${MOL}/events/tests.1.skipped.toml`);
      expect(adv.stderr).toContain('tests is recorded skipped but it has no condition');
      expect(await stepState('ship')).toBe('pending');
      expect(read(`${MOL}/checkpoints/review.md`)).toMatch(/^decision: approved/m);
      expect((await run(['doctor'])).exitCode).toBe(1);
    });

    it('a skip stands only while its condition is false', async () => {
      // The engine skipped `docs` itself (extra = "no"): that skip stands, doctor is content.
      expect(await stepState('docs')).toBe('skipped');
      expect((await run(['doctor'])).exitCode).toBe(0);

      // Hand-written for a molecule whose condition holds: not what the engine would do.
      await ok(['molecule', 'create', '--formula', 'guarded', '--name', 'm2', '--var', 'extra=yes']);
      await ok(['step', 'done', 'm2', 'work', '--as', 'polecat-1']);
      expect(await stepState('docs', 'm2')).toBe('ready');
      rmSync(join(repo.path, '.beads/molecules/m2/events/docs.1.ready.toml'));
      write(
        '.beads/molecules/m2/events/docs.1.skipped.toml',
        'step = "docs"\nattempt = 1\nkind = "skipped"\n',
      );
      await commitAll('skip the docs');
      const adv = await run(['advance']);
      expect(adv.exitCode).toBe(1);
      expect(adv.stderr).toContain('.beads/molecules/m2/events/docs.1.skipped.toml');
      expect(adv.stderr).toContain(
        `docs is recorded skipped but its condition "vars.extra == 'yes' || vars.extra == 'always'" is true`,
      );
      expect((await status('m2')).state).toBe('invalid');
      expect((await status('m1')).state).not.toBe('invalid');
    });
  });

  describe('the approver list rewritten by the approving commit', () => {
    // The agent adds its own email to @jgil and removes itself as an agent.
    const forged = '[users.jgil]\nemails = ["jgil@example.com", "agent@example.com"]\n';

    it('does not count: judged against the config before the commit, and reported naming commit and files', async () => {
      write('.beads/config.toml', forged);
      await approveAs({}, 'approve, and make myself @jgil');
      const commit = (await gitIn(repo.path, 'rev-parse', 'HEAD')).trim();

      const adv = await run(['advance']);
      expect(adv.exitCode).toBe(1);
      expect(adv.stderr).toContain(`${MOL}/checkpoints/review.md`);
      expect(adv.stderr).toContain(
        `commit ${commit.slice(0, 12)} changes who may approve (.beads/config.toml [users], [agents], [teams]) and makes this decision`,
      );
      expect(await stepState('review')).toBe('pending');
      expect(await stepState('tests')).toBe('pending');
      expect((await status()).problems.map((p) => p.file)).toContain(`${MOL}/checkpoints/review.md`);

      // A done recorded for it by hand does not stand either (doctor audits it).
      write(
        `${MOL}/events/review.1.done.toml`,
        'step = "review"\nattempt = 1\nkind = "done"\nby = "@jgil"\n',
      );
      await commitAll('review done');
      const doctor = await run(['doctor']);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout + doctor.stderr).toContain('events/review.1.done.toml');
    });

    it('an uncommitted edit of both is judged against the config at HEAD', async () => {
      write('.beads/config.toml', forged);
      write(
        `${MOL}/checkpoints/review.md`,
        read(`${MOL}/checkpoints/review.md`).replace(/^decision: pending.*$/m, 'decision: approved'),
      );
      await run(['advance']);
      const review = (await status()).steps.find((s) => s.id === 'review');
      expect(review?.state).toBe('pending');
      expect(review?.notes?.join('\n')).toContain(
        'made by agent@example.com (an uncommitted edit), which is polecat-1',
      );
    });

    it("an approver's own commit still counts, and so does a config change in a commit of its own", async () => {
      write('.beads/config.toml', `${GUARDED_CONFIG}\n[users.ana]\nemails = ["ana@example.com"]\n`);
      await commitAll('add ana', JGIL);
      await approveAs(JGIL, 'approved');
      await ok(['advance']);
      expect(await stepState('review')).toBe('done');
      expect((await run(['doctor'])).exitCode).toBe(0);
    });
  });

  describe('the clock', () => {
    const timed = (timeout: string) =>
      `formula = "timed"\n\n[[steps]]\nid = "draft"\n\n[[steps]]\nid = "approve"\nneeds = ["draft"]\n\n[steps.gate]\ntype = "human"\napprovers = ["@jgil"]\ntimeout = "${timeout}"\non_timeout = "approve"\n\n[[steps]]\nid = "ship"\nneeds = ["approve"]\n`;
    const T1 = '.beads/molecules/t1';
    const at = (iso: string) => ({ GIT_AUTHOR_DATE: iso, GIT_COMMITTER_DATE: iso });
    /** A molecule whose approval request is committed at 09:00 (the fixed test date). */
    const requested = async (timeout: string) => {
      write('.beads/formulas/timed.formula.toml', timed(timeout));
      await ok(['molecule', 'create', '--formula', 'timed', '--name', 't1']);
      await ok(['step', 'done', 't1', 'draft', '--as', 'polecat-1']);
      await commitAll('request committed at 2026-01-06T09:00');
    };
    const approveState = async () => (await status('t1')).steps.find((s) => s.id === 'approve')?.state;

    it('GASTOWN_NOW set by the agent is ignored without the test switch: nothing times out', async () => {
      await requested('36500d'); // ends in December 2125, after the system clock
      const adv = await run(['advance'], { GASTOWN_NOW: '2200-01-01T00:00:00Z' });
      expect(adv.exitCode).toBe(0);
      expect(adv.stderr).toContain('GASTOWN_NOW is ignored: the clock can be set only by the test harness');
      expect(await approveState()).toBe('pending');
      expect(() => read(`${T1}/events/approve.1.timed-out.toml`)).toThrow();
    });

    it('under the test switch the facts say so, doctor reports them, and commit times refute them', async () => {
      await requested('36500d');
      await ok(['advance'], { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: '2200-01-01T00:00:00Z' });
      expect(read(`${T1}/events/approve.1.timed-out.toml`)).toContain('clock = "injected"');
      expect(read(`${T1}/events/approve.1.done.toml`)).toContain('clock = "injected"');
      const doctor = await run(['doctor']);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout + doctor.stderr).toContain(
        `${T1}/events/approve.1.timed-out.toml: recorded under an injected clock`,
      );

      // Committed (at the fixed 09:00): the deadline, counted from commit times, had not passed.
      await commitAll('approved by timeout, trust me');
      const adv = await run(['advance']);
      expect(adv.exitCode).toBe(1);
      expect(adv.stderr).toContain(`${T1}/events/approve.1.done.toml`);
      expect(adv.stderr).toContain(
        `approve is recorded done but it was approved by timeout before its deadline: ${T1}/checkpoints/approve.md was committed at 2026-01-06T09:00:00.000Z, its 36500d timeout ends at 2125-12-13T09:00:00.000Z, and the commit that added ${T1}/events/approve.1.timed-out.toml is from 2026-01-06T09:00:00.000Z`,
      );
      expect((await status('t1')).state).toBe('invalid');
    });

    it('a timeout decided by the system clock stands when committed after the deadline, not before', async () => {
      await requested('1h'); // ended at 10:00, long before the system clock
      await ok(['advance']);
      expect(await approveState()).toBe('done');
      expect(read(`${T1}/events/approve.1.timed-out.toml`)).not.toContain('clock');

      // Committed as if decided at 09:30: refuted by the commit times.
      await commitAll('approved by timeout at 09:30', at('2026-01-06T09:30:00Z'));
      const adv = await run(['advance']);
      expect(adv.exitCode).toBe(1);
      expect(adv.stderr).toContain(
        'its 1h timeout ends at 2026-01-06T10:00:00.000Z, and the commit that added .beads/molecules/t1/events/approve.1.timed-out.toml is from 2026-01-06T09:30:00.000Z',
      );
      expect((await run(['doctor'])).exitCode).toBe(1);

      // The same files committed at 10:30 stand.
      await gitIn(repo.path, 'reset', '-q', '--soft', 'HEAD~1');
      await commitAll('approved by timeout', at('2026-01-06T10:30:00Z'));
      expect((await run(['advance'])).exitCode).toBe(0);
      expect((await status('t1')).state).toBe('active');
      expect((await run(['doctor'])).exitCode).toBe(0);
    });
  });

  describe('an edited frozen formula', () => {
    const frozen = `${MOL}/formula.resolved.toml`;

    it('is invalid, naming both files, whatever was edited; restoring it from git goes on', async () => {
      const original = read(frozen);
      const edits: [string, string][] = [
        ['the approvers', original.replace('approvers = [ "@jgil" ]', 'approvers = [ "@polecat-1" ]')],
        ['the command', original.replace('process.exit(1)', 'process.exit(0)')],
      ];
      for (const [what, text] of edits) {
        expect(text, what).not.toBe(original);
        write(frozen, text);
        await commitAll(`edit ${what}`);
        const before = await snapshot();
        const adv = await run(['advance']);
        expect(adv.exitCode, what).toBe(1);
        expect(adv.stderr).toContain(frozen);
        expect(adv.stderr).toContain(`does not match ${MOL}/molecule.toml`);
        expect(await snapshot()).toEqual(before);
        expect((await status()).state).toBe('invalid');
        const doctor = await run(['doctor']);
        expect(doctor.exitCode, what).toBe(1);
        expect(doctor.stdout + doctor.stderr).toContain('formula.resolved.toml');
      }

      await gitIn(repo.path, 'checkout', 'HEAD~2', '--', frozen);
      await commitAll('restore the frozen formula');
      await ok(['advance']);
      expect((await status()).state).not.toBe('invalid');
      expect((await run(['doctor'])).exitCode).toBe(0);
    });

    it('rewritten together with formula_hash, doctor reports both files from history', async () => {
      const text = read(frozen).replace('process.exit(1)', 'process.exit(0)');
      const hash = frozenFormulaHash(parseFrozenFormula(text, frozen));
      write(frozen, text);
      const meta = `${MOL}/molecule.toml`;
      write(meta, read(meta).replace(/^formula_hash = ".*"$/m, `formula_hash = "${hash}"`));
      // The two agree, so the engine takes the edited copy; doctor looks at what changed them.
      expect((await status()).state).not.toBe('invalid');
      const uncommitted = await run(['doctor']);
      expect(uncommitted.exitCode).toBe(1);
      expect(uncommitted.stdout).toContain(
        `${frozen}: changed in the working tree after the molecule was created`,
      );
      await commitAll('tests pass now');
      const commit = (await gitIn(repo.path, 'rev-parse', 'HEAD')).trim().slice(0, 12);
      const doctor = await run(['doctor']);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout).toContain(
        `${frozen}: changed by commit ${commit} after the molecule was created`,
      );
      expect(doctor.stdout).toContain(`${meta}: changed by commit ${commit} after the molecule was created`);
    });

    it('is caught on a cold start, also where molecules share a verdict', async () => {
      // Three molecules of a formula with no gate: a cold advance reads them by name and lets
      // molecules at the same point of progress share one verdict (engine/shapes.ts).
      write(
        '.beads/formulas/plain.formula.toml',
        'formula = "plain"\n\n[[steps]]\nid = "a"\n\n[[steps]]\nid = "b"\nneeds = ["a"]\n',
      );
      for (const id of ['p1', 'p2', 'p3'])
        await ok(['molecule', 'create', '--formula', 'plain', '--name', id]);
      // p2: molecule.toml's hash no longer matches the (unchanged) frozen formula it shares with p1.
      const meta = '.beads/molecules/p2/molecule.toml';
      write(meta, read(meta).replace(/^formula_hash = ".{8}/m, 'formula_hash = "00000000'));
      // p3: its frozen formula loses step b's need.
      const p3 = '.beads/molecules/p3/formula.resolved.toml';
      write(p3, read(p3).replace(/^needs = \[ "a" \]\n/m, ''));
      await commitAll('edits');
      rmSync(join(repo.path, '.beads/.cache'), { recursive: true, force: true });

      const adv = await run(['advance']);
      expect(adv.exitCode).toBe(1);
      expect(adv.stderr).toContain(
        '.beads/molecules/p2/formula.resolved.toml: the frozen formula does not match',
      );
      expect(adv.stderr).toContain(
        '.beads/molecules/p3/formula.resolved.toml: the frozen formula does not match',
      );
      expect(adv.stderr).not.toContain('molecules/p1/');
      expect((await status('p3')).steps.find((s) => s.id === 'b')?.state).toBe('pending');
      expect((await status('p2')).state).toBe('invalid');
      expect((await status('p1')).state).toBe('active');
    });
  });
});
