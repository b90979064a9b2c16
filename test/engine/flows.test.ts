// Every formula type and the molecule commands, through the built CLI.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitIn, JGIL } from '../helpers/repo.js';
import { inProcess, repoWithFormulas, type Status, stepStates } from './cli.js';

// Rules and output only: the CLI runs in this worker (test/helpers/inproc.ts).
const { gt, gtJson, gtOk } = inProcess;

const DAY3 = `# .beads/convoys/soc2-audit-trail/molecules/day3-workflow-refs.toml
molecule_id = "day3-workflow-refs"
formula = "integration-test-full-validation"
created = 2026-01-06T09:00:00Z
owner = "@jgil"

[inputs]
authoritative_docs = [
    "docs/development/SOC2/DAY2_HYBRID_AUDIT_COMPLETE.md",
    "docs/requirements/11_SECURITY_ACCESS_CONTROL.md"  # BR-AUDIT-005
]
test_plan_section = "Gap 5-6: Workflow Selection and Execution"

[scope]
service = "workflow-execution"
expected_event_count = 2

[team_coordination]
primary_service_team = "workflow-execution"
dependent_teams = []

[vars]
approver = "@jgil"
`;

describe('molecule commands', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  beforeAll(async () => {
    repo = await repoWithFormulas(
      'gastown/shiny',
      'gastown/code-review',
      'gastown/rule-of-five',
      'beads/quick-check',
      'beads/feature-workflow',
      'gastown/security-audit',
    );
  });
  afterAll(() => repo.cleanup());

  it("creates the brief's Day 3 molecule from an inputs file with [inputs], [scope] and [team_coordination]", async () => {
    const cwd = repo.path;
    writeFileSync(join(cwd, 'day3.toml'), DAY3);
    const args = [
      'molecule',
      'create',
      '--formula',
      'integration-test-full-validation',
      '--name',
      'day3-workflow-refs',
      '--convoy',
      'soc2-audit-trail',
      '--inputs',
      'day3.toml',
    ];
    const created = await gtOk(cwd, args);
    expect(created.stdout).toContain('analysis is ready');
    const meta = readFileSync(join(cwd, '.beads/molecules/day3-workflow-refs/molecule.toml'), 'utf8');
    expect(meta).toContain('convoy = "soc2-audit-trail"');
    expect(meta).toMatch(/^\[inputs\]\nauthoritative_docs = /m);
    expect(meta).not.toContain('[inputs.inputs]');
    expect(meta).toContain('[context.scope]');
    expect(meta).toContain('service = "workflow-execution"');
    expect(meta).toContain('[context.team_coordination]');
    expect(meta).toMatch(/\[vars\][^[]*approver = "@jgil"/);
    const s = await gtJson<Status & { convoy: string }>(cwd, ['molecule', 'status', 'day3-workflow-refs']);
    expect(s).toMatchObject({ state: 'active', convoy: 'soc2-audit-trail', ready: ['analysis'] });
    // Creating it again is an error that changes nothing.
    const before = readFileSync(join(cwd, '.beads/molecules/day3-workflow-refs/molecule.toml'), 'utf8');
    const again = await gt(cwd, args);
    expect(again.exitCode).toBe(1);
    expect(readFileSync(join(cwd, '.beads/molecules/day3-workflow-refs/molecule.toml'), 'utf8')).toBe(before);
  });

  it('runs convoy legs in parallel with the synthesis after them (preset or --legs)', async () => {
    const cwd = repo.path;
    await gtOk(cwd, [
      'mol',
      'pour',
      '--formula',
      'code-review',
      '--name',
      'review-gate',
      '--preset',
      'gate',
      '--var',
      'pr=12',
    ]);
    const s = await gtJson<Status>(cwd, ['mol', 'status', 'review-gate']);
    expect(s.ready.sort()).toEqual(['security', 'smells', 'test-quality', 'wiring']);
    const synthesis = s.steps.find((x) => !s.ready.includes(x.id));
    expect(synthesis?.state).toBe('pending');
    await gtOk(cwd, [
      'mol',
      'create',
      '--formula',
      'code-review',
      '--name',
      'review-two',
      '--legs',
      'security,style',
      '--var',
      'pr=12',
    ]);
    for (const leg of ['security', 'style']) await gtOk(cwd, ['step', 'done', 'review-two', leg]);
    const two = await gtJson<Status>(cwd, ['mol', 'status', 'review-two']);
    expect(two.steps).toHaveLength(3);
    expect(two.ready).toEqual([two.steps[2]?.id]);
  });

  it('runs an expansion on its own and a workflow with --after another molecule', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['molecule', 'create', '--formula', 'rule-of-five', '--name', 'polish']);
    const polish = await gtJson<Status>(cwd, ['molecule', 'status', 'polish']);
    expect(polish.steps.map((x) => x.id)).toEqual([
      'main.draft',
      'main.refine-1',
      'main.refine-2',
      'main.refine-3',
      'main.refine-4',
    ]);
    expect(polish.ready).toEqual(['main.draft']);

    await gtOk(cwd, ['molecule', 'create', '--formula', 'quick-check', '--name', 'day3']);
    await gtOk(cwd, [
      'molecule',
      'create',
      '--formula',
      'shiny',
      '--name',
      'day4',
      '--after',
      'day3',
      '--var',
      'feature=errors',
    ]);
    const waiting = await gtJson<Status>(cwd, ['molecule', 'status', 'day4']);
    expect(waiting).toMatchObject({
      state: 'blocked',
      blocked_reason: 'waiting for molecule day3',
      ready: [],
    });
    const early = await gt(cwd, ['step', 'done', 'day4', 'design']);
    expect(early.stderr).toContain('waiting for molecule day3');
    for (const step of ['lint', 'test', 'build']) await gtOk(cwd, ['step', 'done', 'day3', step]);
    const last = await gtJson<{ transitions: { molecule: string; step?: string; kind: string }[] }>(cwd, [
      'step',
      'done',
      'day3',
      'report',
    ]);
    // Completing day3 wakes the molecule waiting for it in the same command.
    expect(last.transitions.map((t) => `${t.molecule}:${t.kind}`)).toEqual([
      'day3:done',
      'day3:completed',
      'day4:ready',
    ]);
    expect(last.transitions).toContainEqual(
      expect.objectContaining({ molecule: 'day4', step: 'design', kind: 'ready' }),
    );
    expect((await gtJson<Status>(cwd, ['molecule', 'status', 'day4'])).state).toBe('active');
    const bad = await gt(cwd, [
      'molecule',
      'create',
      '--formula',
      'shiny',
      '--name',
      'day5',
      '--after',
      'nope',
      '--var',
      'feature=x',
    ]);
    // A name the repository does not hold is a problem found (1), not a usage error (2).
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('--after names molecule nope, which does not exist');
  });

  it('re-opens a step and its successors as attempt 2, claims with --continue, and lists current work', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['molecule', 'create', '--formula', 'shiny', '--name', 'loop', '--var', 'feature=x']);
    await gtOk(cwd, ['step', 'done', 'loop', 'design', '--as', 'polecat-1']);
    const cont = await gtOk(cwd, ['step', 'done', 'loop', 'implement', '--as', 'polecat-1', '--continue']);
    expect(cont.stdout).toContain('next: loop/review: Review implementation');
    const current = await gtJson<{ molecule: string; step: string; state: string }[]>(cwd, [
      'mol',
      'current',
      'loop',
      '--for',
      'polecat-1',
    ]);
    expect(current).toEqual([
      expect.objectContaining({ molecule: 'loop', step: 'review', state: 'in_progress' }),
    ]);

    writeFileSync(join(cwd, 'notes.md'), 'The design misses the cache.\n');
    const reopened = await gtJson<{ transitions: { step?: string; attempt?: number; kind: string }[] }>(cwd, [
      'step',
      'reopen',
      'loop',
      'design',
      '--reason',
      'design misses the cache',
    ]);
    expect(reopened.transitions.map((t) => `${t.step}.${t.attempt}.${t.kind}`)).toEqual([
      'design.2.reopened',
      'implement.2.reopened',
      'review.2.reopened',
      'design.2.ready',
    ]);
    const s = await gtJson<Status>(cwd, ['molecule', 'status', 'loop']);
    expect(s.steps.map((x) => [x.id, x.state, x.attempt])).toEqual([
      ['design', 'ready', 2],
      ['implement', 'pending', 2],
      ['review', 'pending', 2],
      ['test', 'pending', 1],
      ['submit', 'pending', 1],
    ]);
    expect(readFileSync(join(cwd, '.beads/molecules/loop/events/design.2.reopened.toml'), 'utf8')).toContain(
      'reason = "design misses the cache"',
    );
    await gtOk(cwd, ['step', 'done', 'loop', 'design', '--output', 'notes.md']);
    expect(readFileSync(join(cwd, '.beads/molecules/loop/outputs/design.2.md'), 'utf8')).toBe(
      'The design misses the cache.\n',
    );
  });

  it('runs a beads step of type "human" as a checkpoint: an agent\'s done does not close it', async () => {
    const cwd = repo.path;
    // Whoever acts by name is listed: an agent (--as polecat-1), the CI runner (--as ci), a person.
    writeFileSync(
      join(cwd, '.beads/config.toml'),
      '[users.jgil]\nemails = ["jgil@example.com"]\n\n[agents.polecat-1]\nemails = ["polecat-1@agents.example.com"]\n\n[agents.ci]\nemails = ["ci@agents.example.com"]\n',
    );
    await gtOk(cwd, [
      'molecule',
      'create',
      '--formula',
      'feature-workflow',
      '--name',
      'fw',
      '--var',
      'feature_name=x',
    ]);
    const refused = await gt(cwd, ['step', 'done', 'fw', 'design', '--as', 'polecat-1']);
    expect(refused.exitCode).toBe(1);
    expect(String(refused.stderr)).toContain('checkpoint');
    expect(readFileSync(join(cwd, '.beads/molecules/fw/checkpoints/design.md'), 'utf8')).toMatch(
      /^decision: pending/m,
    );
    await gitIn(cwd, 'add', '-A');
    await gitIn(cwd, 'commit', '-q', '-m', 'pour fw');
    await gtOk(cwd, ['checkpoint', 'approve', 'fw', 'design'], JGIL);
    expect(stepStates(await gtJson<Status>(cwd, ['molecule', 'status', 'fw']))).toMatchObject({
      design: 'done',
      implement: 'ready',
    });
  });

  it('refuses to pour an aspect on its own: it has no steps, only advice for formulas that compose it', async () => {
    const r = await gt(repo.path, ['molecule', 'create', '--formula', 'security-audit', '--name', 'sa']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toContain('an aspect applies to other formulas through `compose`');
    expect(existsSync(join(repo.path, '.beads/molecules/sa'))).toBe(false);
  });

  it('squashes a completed molecule into a digest and burns a molecule', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['molecule', 'create', '--formula', 'quick-check', '--name', 'sq']);
    const notYet = await gt(cwd, ['molecule', 'squash', 'sq']);
    expect(notYet.exitCode).toBe(1);
    expect(notYet.stderr).toContain('only a completed molecule can be squashed');
    for (const step of ['lint', 'test', 'build', 'report'])
      await gtOk(cwd, ['step', 'done', 'sq', step, '--as', 'ci']);
    await gitIn(cwd, 'add', '-A');
    await gitIn(cwd, 'commit', '-q', '-m', 'sq done');
    await gtOk(cwd, ['molecule', 'squash', 'sq']);
    expect(existsSync(join(cwd, '.beads/molecules/sq/events'))).toBe(false);
    const s = await gtJson<Status>(cwd, ['molecule', 'status', 'sq']);
    expect(s).toMatchObject({ state: 'completed', progress: { done: 4, total: 4 } });
    expect(s.steps.every((x) => x.assignee === 'ci')).toBe(true);
    // History stays in git.
    expect(await gitIn(cwd, 'log', '--format=%s', '--', '.beads/molecules/sq/events')).toContain('sq done');
    expect((await gtJson<{ written: string[] }>(cwd, ['advance'])).written).toEqual([]);

    await gtOk(cwd, ['molecule', 'burn', 'sq']);
    expect(existsSync(join(cwd, '.beads/molecules/sq'))).toBe(false);
    const list = await gtJson<{ id: string; state: string }[]>(cwd, ['molecule', 'list']);
    expect(list.map((m) => m.id)).not.toContain('sq');
    expect(list.find((m) => m.id === 'day3')?.state).toBe('completed');
  });

  it('has --help for every command', async () => {
    for (const args of [
      ['molecule'],
      ['molecule', 'create'],
      ['mol', 'status'],
      ['step', 'done'],
      ['advance'],
    ]) {
      const r = await gt(repo.path, [...args, '--help']);
      expect(r.exitCode, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: gastown/);
    }
  });
});

it('step states stay pending until their needs are done (quick-check fork/join)', async () => {
  const repo = await repoWithFormulas('beads/quick-check');
  try {
    await gtOk(repo.path, ['molecule', 'create', '--formula', 'quick-check', '--name', 'fj']);
    await gtOk(repo.path, ['step', 'done', 'fj', 'lint']);
    await gtOk(repo.path, ['step', 'fail', 'fj', 'test', '--reason', '3 tests fail']);
    const s = await gtJson<Status>(repo.path, ['molecule', 'status', 'fj']);
    expect(stepStates(s)).toEqual({ lint: 'done', test: 'failed', build: 'ready', report: 'pending' });
    expect(s).toMatchObject({ state: 'failed', blocked_reason: 'step test (attempt 1) failed' });
    await gtOk(repo.path, ['step', 'reopen', 'fj', 'test']);
    expect(stepStates(await gtJson<Status>(repo.path, ['molecule', 'status', 'fj'])).test).toBe('ready');
  } finally {
    repo.cleanup();
  }
});
