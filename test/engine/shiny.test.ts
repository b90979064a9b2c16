// A shiny molecule from create to completed through the CLI, in a real git repository.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitIn } from '../helpers/repo.js';
import { inProcess, repoWithFormulas, type Status, stepStates, treeHash } from './cli.js';

// The CLI runs in this process (test/cli/inproc.test.ts holds it to the built one's output).
const { gt, gtJson, gtOk } = inProcess;

describe('shiny from create to completed', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  beforeAll(async () => {
    repo = await repoWithFormulas('gastown/shiny');
  });
  afterAll(() => repo.cleanup());

  it('makes each step ready exactly when its needs are done, then completes', async () => {
    const cwd = repo.path;
    const created = await gtOk(cwd, [
      'molecule',
      'create',
      '--formula',
      'shiny',
      '--name',
      'feat-x',
      '--var',
      'feature=x',
      '--assignee',
      'polecat-1',
    ]);
    expect(created.stdout).toContain('design is ready for polecat-1');

    const order = ['design', 'implement', 'review', 'test', 'submit'];
    for (const [i, step] of order.entries()) {
      const s = await gtJson<Status>(cwd, ['molecule', 'status', 'feat-x']);
      expect(s.state).toBe('active');
      expect(s.ready).toEqual([step]);
      expect(s.progress).toEqual({ done: i, total: 5 });
      // Every later step is still pending: nothing becomes ready early.
      for (const later of order.slice(i + 1)) expect(stepStates(s)[later]).toBe('pending');
      if (i + 1 < order.length) {
        const early = await gt(cwd, ['step', 'done', 'feat-x', order[i + 1] as string]);
        expect(early.exitCode).toBe(1);
        expect(early.stderr).toContain(`waits on ${step} (ready)`);
      }
      await gtOk(cwd, ['step', 'done', 'feat-x', step, '--as', 'polecat-1']);
    }
    const done = await gtJson<Status>(cwd, ['molecule', 'status', 'feat-x']);
    expect(done.state).toBe('completed');
    expect(done.progress).toEqual({ done: 5, total: 5 });
    expect(done.steps.every((s) => s.assignee === 'polecat-1')).toBe(true);
    const events = readdirSync(join(cwd, '.beads/molecules/feat-x/events')).sort();
    expect(events).toContain('molecule.completed.toml');
    expect(readFileSync(join(cwd, '.beads/molecules/feat-x/events/design.1.done.toml'), 'utf8')).toBe(
      'step = "design"\nattempt = 1\nkind = "done"\nby = "polecat-1"\n',
    );
  });

  it('running advance twice changes no file the second time', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['molecule', 'create', '--formula', 'shiny', '--name', 'feat-y', '--var', 'feature=y']);
    // Facts arrive as files (as from a pull) without a reconcile: advance must catch up.
    const ev = join(cwd, '.beads/molecules/feat-y/events');
    await gitIn(cwd, 'add', '-A');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(ev, 'design.1.done.toml'), 'step = "design"\nattempt = 1\nkind = "done"\n');
    const first = await gtJson<{ transitions: { step?: string; kind: string }[]; written: string[] }>(cwd, [
      'advance',
    ]);
    expect(first.transitions.map((t) => `${t.step}:${t.kind}`)).toEqual(['implement:ready']);
    const before = await treeHash(cwd);
    const second = await gtJson<{ transitions: unknown[]; written: string[] }>(cwd, ['advance']);
    expect(second).toMatchObject({ transitions: [], written: [] });
    expect(await treeHash(cwd)).toBe(before);
  });

  it('applies commit trailers once, even when the commit is rewritten', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['molecule', 'create', '--formula', 'shiny', '--name', 'feat-z', '--var', 'feature=z']);
    await gitIn(cwd, 'add', '-A');
    await gitIn(
      cwd,
      'commit',
      '-q',
      '-m',
      'design for z',
      '-m',
      'Gastown-Done: feat-z/design\ngastown-start: feat-z/nope\nGastown-Done: ghost/design',
    );
    const r = await gtJson<{
      transitions: { step?: string; kind: string }[];
      problems: { message: string }[];
    }>(cwd, ['advance', '--from-commit', 'HEAD']);
    expect(r.transitions.map((t) => `${t.step}:${t.kind}`)).toEqual(['design:done', 'implement:ready']);
    expect(r.problems.map((p) => p.message).join('\n')).toMatch(/no step "nope"[\s\S]*no molecule ghost/);
    const fact = readFileSync(join(cwd, '.beads/molecules/feat-z/events/design.1.done.toml'), 'utf8');
    expect(fact).toMatch(/^by = "Test Agent"$/m);
    await gitIn(cwd, 'add', '-A');
    await gitIn(
      cwd,
      'commit',
      '-q',
      '--amend',
      '-m',
      'design for z (reworded)',
      '-m',
      'Gastown-Done: feat-z/design',
    );
    const again = await gtJson<{ transitions: unknown[]; written: string[] }>(cwd, [
      'advance',
      '--from-commit',
      'HEAD',
    ]);
    expect(again).toMatchObject({ transitions: [], written: [] });
    expect(readFileSync(join(cwd, '.beads/molecules/feat-z/events/design.1.done.toml'), 'utf8')).toBe(fact);
  });
});
