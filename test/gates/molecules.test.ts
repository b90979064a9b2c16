// Molecules waiting for molecules ("Day 4 is blocked until Day 3 passes"), the same-command
// cascade when `step done` completes one, and `molecule cancel`. The CLI run in this process, real git repos.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gastownInProcess } from '../helpers/inproc.js';
import { gitIn, makeRepo } from '../helpers/repo.js';

const DAY3 = `formula = "day3"
type = "workflow"

[[steps]]
id = "validate"
title = "Run the validation suite"
`;

const DAY4 = `formula = "day4"
type = "workflow"

[vars.previous]
description = "the molecule that must be completed first"
required = true

[[steps]]
id = "prep"
title = "Read the plan"

[[steps]]
id = "implement"
title = "Implement day 4"
needs = ["prep"]

[steps.gate]
type = "molecule"
molecule = "{{previous}}"
`;

interface Status {
  state: string;
  blocked_reason?: string;
  ready: string[];
  cancelled?: { by?: string; reason?: string };
  steps: { id: string; state: string; notes?: string[] }[];
}

describe('molecules that wait for molecules', () => {
  let repo: { path: string; cleanup(): void };
  const run = (args: string[]) =>
    gastownInProcess(args, repo.path, { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: '2026-01-06T10:00:00Z' });
  const ok = async (args: string[]) => {
    const r = await run(args);
    if (r.exitCode !== 0) throw new Error(`gastown ${args.join(' ')}: ${r.stderr}`);
    return String(r.stdout);
  };
  const status = async (id: string) => JSON.parse(await ok(['molecule', 'status', id, '--json'])) as Status;
  const step = (s: Status, id: string) => s.steps.find((x) => x.id === id);

  beforeEach(async () => {
    repo = await makeRepo();
    mkdirSync(join(repo.path, '.beads/formulas'), { recursive: true });
    writeFileSync(join(repo.path, '.beads/formulas/day3.formula.toml'), DAY3);
    writeFileSync(join(repo.path, '.beads/formulas/day4.formula.toml'), DAY4);
    writeFileSync(join(repo.path, '.beads/.gitignore'), '.cache/\n');
  });
  afterEach(() => repo.cleanup());

  it('a molecule gate keeps its step pending, saying why, until the other molecule completes', async () => {
    await ok(['molecule', 'create', '--formula', 'day3', '--name', 'day3']);
    await ok(['molecule', 'create', '--formula', 'day4', '--name', 'day4', '--var', 'previous=day3']);
    await ok(['step', 'done', 'day4', 'prep']);

    let s = await status('day4');
    expect(step(s, 'implement')).toMatchObject({
      state: 'pending',
      notes: ['waiting for molecule day3 to be completed (now active)'],
    });
    const early = await run(['step', 'start', 'day4', 'implement']);
    expect(early.exitCode).toBe(1);
    expect(early.stderr).toContain('waiting for molecule day3 to be completed');
    // Advance while it waits, so its summary is cached as quiet...
    expect(JSON.parse(await ok(['advance', '--json'])).written).toEqual([]);
    await gitIn(repo.path, 'add', '-A');
    await gitIn(repo.path, 'commit', '-qm', 'day 3 and 4 poured');

    // ...then day 3 finishes through a commit trailer; the next reconcile frees day 4.
    await gitIn(
      repo.path,
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'suite green\n\nGastown-Done: day3/validate',
    );
    const adv = JSON.parse(await ok(['advance', '--from-commit', 'HEAD', '--json'])) as {
      transitions: { molecule: string; step?: string; kind: string }[];
    };
    expect(adv.transitions).toContainEqual(expect.objectContaining({ molecule: 'day3', kind: 'completed' }));
    expect(adv.transitions).toContainEqual(
      expect.objectContaining({ molecule: 'day4', step: 'implement', kind: 'ready' }),
    );
    s = await status('day4');
    expect(s.ready).toEqual(['implement']);
  });

  it('`step done` that completes a molecule advances the molecules waiting for it in the same command', async () => {
    await ok(['molecule', 'create', '--formula', 'day3', '--name', 'day3']);
    await ok(['molecule', 'create', '--formula', 'day3', '--name', 'after-day3', '--after', 'day3']);
    await ok(['molecule', 'create', '--formula', 'day4', '--name', 'day4', '--var', 'previous=day3']);
    await ok(['step', 'done', 'day4', 'prep']);
    expect((await status('after-day3')).blocked_reason).toBe('waiting for molecule day3');

    const done = JSON.parse(await ok(['step', 'done', 'day3', 'validate', '--json'])) as {
      transitions: { molecule: string; step?: string; kind: string }[];
    };
    expect(done.transitions.map((t) => `${t.molecule}/${t.step ?? ''}/${t.kind}`)).toEqual([
      'day3/validate/done',
      'day3//completed',
      'after-day3/validate/ready',
      'day4/implement/ready',
    ]);
    expect((await status('after-day3')).state).toBe('active');
    expect((await status('day4')).ready).toEqual(['implement']);
    // Nothing was left for a later advance.
    expect(JSON.parse(await ok(['advance', '--json'])).written).toEqual([]);
  });

  it('`molecule cancel` records who and why; the molecule never advances again; a waiter says so', async () => {
    await ok(['molecule', 'create', '--formula', 'day3', '--name', 'day3']);
    await ok(['molecule', 'create', '--formula', 'day4', '--name', 'day4', '--var', 'previous=day3']);
    await ok(['step', 'done', 'day4', 'prep']);

    const r = JSON.parse(
      await ok(['molecule', 'cancel', 'day3', '--reason', 'superseded by day3b', '--as', 'jgil', '--json']),
    );
    expect(r).toEqual({
      id: 'day3',
      cancelled: true,
      written: ['.beads/molecules/day3/events/molecule.cancelled.toml'],
      transitions: [
        {
          molecule: 'day3',
          kind: 'cancelled',
          summary: 'molecule day3 cancelled by jgil: superseded by day3b',
        },
      ],
    });
    const s = await status('day3');
    expect(s).toMatchObject({ state: 'cancelled', cancelled: { by: 'jgil', reason: 'superseded by day3b' } });
    const text = await ok(['molecule', 'status', 'day3']);
    expect(text).toContain('Cancelled by jgil: superseded by day3b');

    const refused = await run(['step', 'done', 'day3', 'validate']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('molecule day3 is cancelled');
    expect(existsSync(join(repo.path, '.beads/molecules/day3/events/validate.1.done.toml'))).toBe(false);
    expect(JSON.parse(await ok(['advance', '--json'])).written).toEqual([]);
    expect(step(await status('day4'), 'implement')?.notes).toEqual([
      'waiting for molecule day3 to be completed (now cancelled)',
    ]);

    expect(JSON.parse(await ok(['molecule', 'cancel', 'day3', '--json'])).cancelled).toBe(false);
    expect(await ok(['molecule', 'cancel', 'day3'])).toContain('day3 is already cancelled');
  });

  it('refuses to cancel a completed or unknown molecule, changing nothing', async () => {
    await ok(['molecule', 'create', '--formula', 'day3', '--name', 'day3']);
    await ok(['step', 'done', 'day3', 'validate']);
    const completed = await run(['molecule', 'cancel', 'day3']);
    expect(completed.exitCode).toBe(1);
    expect(completed.stderr).toContain('molecule day3 is completed; there is nothing to cancel');
    expect(existsSync(join(repo.path, '.beads/molecules/day3/events/molecule.cancelled.toml'))).toBe(false);
    const unknown = await run(['molecule', 'cancel', 'nope']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('no molecule nope');
  });
});
