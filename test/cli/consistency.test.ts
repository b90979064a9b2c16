// Small inconsistencies a new user meets: where a frozen built-in formula says it came from,
// where an inputs file's [inputs] lands, what an engine commit's subject says, one exit code for
// names the repository does not hold, a rounded pass rate, an approval note kept apart from a
// rejection's reason, a missing var reported where it is declared, and a bad GASTOWN_NOW
// reported like a bad flag. Real git repositories and child processes, the CLI run in this process.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseApproval, parseCheckpoint, voteText } from '../../src/checkpoint/file.js';
import { renderGateReport } from '../../src/gates/report.js';
import { runCommandGate } from '../../src/gates/runner.js';
import { engineCommitMessage } from '../../src/triggers/commit.js';
import { junitReport } from '../gates/fixtures.js';
import { gastownInProcess } from '../helpers/inproc.js';
import { commitAll, JGIL, makeRepo, tempDir } from '../helpers/repo.js';

const NOBODY = { GASTOWN_AGENT: '' };

describe('small inconsistencies', () => {
  let repo: { path: string; cleanup(): void };
  const run = (args: string[], env: Record<string, string> = {}) =>
    gastownInProcess(args, repo.path, { ...NOBODY, ...env });
  const ok = async (args: string[], env: Record<string, string> = {}) => {
    const r = await run(args, env);
    if (r.exitCode !== 0) throw new Error(`gastown ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return String(r.stdout);
  };
  const write = (rel: string, text: string) => {
    mkdirSync(join(repo.path, rel, '..'), { recursive: true });
    writeFileSync(join(repo.path, rel), text);
  };
  const read = (rel: string) => readFileSync(join(repo.path, rel), 'utf8');

  beforeEach(async () => {
    repo = await makeRepo();
    mkdirSync(join(repo.path, '.beads/formulas'), { recursive: true });
  });
  afterEach(() => repo.cleanup());

  it('a frozen built-in formula names its source builtin:<name>, not a path on this machine', async () => {
    await ok(['molecule', 'create', '--formula', 'polecat-work', '--name', 'm', '--var', 'issue=x']);
    const frozen = read('.beads/molecules/m/formula.resolved.toml');
    expect(frozen).toMatch(/^source = "builtin:polecat-work"$/m);
    expect(frozen).not.toContain('/formulas/polecat-work.formula.toml');
  });

  it("an inputs file's [inputs] table lands in molecule.toml's [inputs] once, the rest under [context]", async () => {
    write(
      '.beads/formulas/withinputs.formula.toml',
      'formula = "withinputs"\n[inputs.section]\ndescription = "which section"\n[[steps]]\nid = "a"\ntitle = "A"\n',
    );
    write('day3.toml', 'owner = "@jgil"\n[inputs]\nsection = "Gap 5-6"\n[scope]\nservice = "we"\n');
    await ok(['molecule', 'create', '--formula', 'withinputs', '--name', 'm', '--inputs', 'day3.toml']);
    const meta = read('.beads/molecules/m/molecule.toml');
    expect(meta).not.toContain('[inputs.inputs]');
    expect(meta).toMatch(/^\[inputs\]\nsection = "Gap 5-6"$/m);
    expect(meta).toMatch(/^\[context\]\nowner = "@jgil"$/m);
    expect(meta).toMatch(/^\[context\.scope\]\nservice = "we"$/m);
    expect((await run(['molecule', 'status', 'm'])).exitCode).toBe(0);
  });

  it('an unknown molecule, step or checkpoint is the same kind of problem: exit 1', async () => {
    await ok(['molecule', 'create', '--formula', 'polecat-work', '--name', 'm', '--var', 'issue=x']);
    const step = await run(['step', 'done', 'm', 'nope']);
    expect(step.exitCode).toBe(1);
    expect(step.stderr).toContain('molecule m has no step "nope"');
    const molecule = await run(['step', 'done', 'ghost', 'implement']);
    expect(molecule.exitCode).toBe(1);
    expect(molecule.stderr).toContain('no molecule ghost');
    const checkpoint = await run(['checkpoint', 'show', 'm', 'nope']);
    expect(checkpoint.exitCode).toBe(1);
    const noMolecule = await run(['checkpoint', 'show', 'ghost', 'review']);
    expect(noMolecule.exitCode).toBe(1);
    // The command line itself being wrong stays a usage error.
    expect((await run(['step', 'done', 'm'])).exitCode).toBe(2);
    expect((await run(['step', 'done', 'Bad/Id', 'implement'])).exitCode).toBe(2);
  });

  it('checkpoint approve --text keeps the note in note:, not in the reason a rejection needs', async () => {
    write('.beads/config.toml', '[users.jgil]\nemails = ["jgil@example.com"]\n');
    write(
      '.beads/formulas/rev.formula.toml',
      'formula = "rev"\n[[steps]]\nid = "work"\ntitle = "W"\n[[steps]]\nid = "review"\ntitle = "R"\nneeds = ["work"]\n[steps.gate]\ntype = "human"\napprovers = ["@jgil"]\n',
    );
    await ok(['molecule', 'create', '--formula', 'rev', '--name', 'm']);
    await ok(['step', 'done', 'm', 'work']);
    await commitAll(repo.path, 'work');
    await ok(['checkpoint', 'approve', 'm', 'review', '--text', 'nice and small'], JGIL);
    const cp = read('.beads/molecules/m/checkpoints/review.md');
    expect(cp).toMatch(/^decision: approved/m);
    expect(cp).toMatch(/^note: "nice and small"$/m);
    expect(cp).toMatch(/^reason: "" # required when rejecting$/m);
    expect(read('.beads/molecules/m/events/review.1.done.toml')).toMatch(/^reason = "nice and small"$/m);
    const shown = JSON.parse(await ok(['checkpoint', 'show', 'm', 'review', '--json'], JGIL));
    expect(shown).toMatchObject({ decision: 'approved', reason: '', approval_note: 'nice and small' });
  });

  it('a file written before notes had a field still reads: its approval text stays in reason:', () => {
    const old = '---\nstep: review\nattempt: 1\ndecision: approved\nreason: "lgtm"\n---\n';
    const cp = parseCheckpoint('review.md', old);
    expect(cp).toMatchObject({ decision: 'approved', reason: 'lgtm', note: '' });
    expect(voteText(cp)).toBe('lgtm');
    expect(voteText(parseApproval('a.md', '---\ndecision: approved\nnote: "ok"\n---\n'))).toBe('ok');
  });

  it("a required var declared in a parent formula is reported against the parent's file", async () => {
    write(
      '.beads/formulas/base.formula.toml',
      'formula = "base"\n[vars.ticket]\nrequired = true\n[[steps]]\nid = "a"\ntitle = "A {{ticket}}"\n',
    );
    write(
      '.beads/formulas/child.formula.toml',
      'formula = "child"\nextends = "base"\n[[steps]]\nid = "b"\ntitle = "B"\nneeds = ["a"]\n',
    );
    const r = await run(['molecule', 'create', '--formula', 'child', '--name', 'm']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('.beads/formulas/base.formula.toml: vars.ticket: var "ticket" is required');
    expect(r.stderr).not.toContain('child.formula.toml');
  });

  it('a malformed GASTOWN_NOW is a one-line usage error, not an internal error', async () => {
    const r = await run(['molecule', 'list'], { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: '+5h' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      'error: GASTOWN_NOW "+5h" is not a date (use an ISO 8601 time such as 2026-01-06T09:00:00Z)',
    );
  });
});

describe('engine commit subjects', () => {
  const t = (molecule: string, step: string | undefined, kind: string) => ({
    molecule,
    ...(step ? { step } : {}),
    kind,
    summary: `${step ?? molecule} ${kind}`,
  });

  it('name what happened, the molecule once, and keep the trailers', () => {
    const msg = engineCommitMessage(
      [t('day3', 'analysis', 'done'), t('day3', 'analysis-checkpoint', 'checkpoint')],
      [],
    );
    expect(msg).toBe(
      'gastown: day3 analysis done; analysis-checkpoint opened\n\nGastown-Molecule: day3\nGastown-Transition: day3/analysis done\nGastown-Transition: day3/analysis-checkpoint checkpoint\n',
    );
    expect(
      engineCommitMessage([t('m1', 'review', 'checkpoint'), t('m2', undefined, 'completed')], []).split(
        '\n',
      )[0],
    ).toBe('gastown: m1 review checkpoint opened; m2 completed');
  });

  it('stay under 72 characters, summing up the rest as "and N more"', () => {
    const many = ['design', 'implement', 'review', 'test', 'submit', 'deploy'].map((s) =>
      t('day3-workflow-refs', s, 'reopened'),
    );
    const subject = engineCommitMessage(many, []).split('\n')[0] as string;
    expect(subject.length).toBeLessThanOrEqual(72);
    expect(subject).toMatch(
      /^gastown: day3-workflow-refs design re-opened(; [a-z]+ re-opened)* and \d more$/,
    );
  });
});

describe('pass rates', () => {
  let dir: { path: string; cleanup(): void };
  beforeEach(() => {
    dir = tempDir();
    mkdirSync(join(dir.path, 'reports'));
  });
  afterEach(() => dir.cleanup());

  it('2 of 3 passing reads 66.7%, and a rate just under the bar never reads as reaching it', async () => {
    const gate = (total: number, failing: number) => {
      writeFileSync(join(dir.path, 'out.xml'), junitReport(total, failing));
      return runCommandGate(
        {
          type: 'command',
          run: [[process.execPath, '-e', '0']],
          env: {},
          exit_codes: [0],
          results: [{ format: 'junit', path: 'out.xml' }],
          allow_skipped: false,
          forbid: [],
          max_attempts: 1,
          min_pass_rate: 50,
        },
        { root: dir.path, step: 's', attempt: 1 },
      );
    };
    const twoThirds = renderGateReport(await gate(3, 1), 'm');
    expect(twoThirds).toMatch(/^pass_rate: 66\.7$/m);
    expect(twoThirds).toContain('Pass rate: 66.7%');
    // 2499 of 2500 is 99.96%: not 100.
    const almost = renderGateReport(await gate(2500, 1), 'm');
    expect(almost).toMatch(/^pass_rate: 99\.9$/m);
  });
});
