// The extension points, in-process on a real repository: a registered gate planner holds a step
// until a file people edit says so; the content-keyed cache notices that edit; an unregistered
// gate type runs like a normal step and status says it was not executed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  advance,
  createMolecule,
  moleculeStatus,
  recordStep,
  registerGatePlanner,
  registerGateRunner,
} from '../../src/engine/index.js';
import { makeRepo } from '../helpers/repo.js';
import { formula, step } from './formulas.js';

const now = new Date('2026-01-06T09:00:00Z');

describe('gate registry', () => {
  let repo: Awaited<ReturnType<typeof makeRepo>>;
  // Test files share a process: the planner registered here is removed after this file.
  let unregister = () => {};
  beforeAll(async () => {
    repo = await makeRepo();
    mkdirSync(join(repo.path, '.beads'), { recursive: true });
    // Holds the step until checkpoints/<step>.md says "approved"; writes that file when the
    // needs are met (deterministic content), then records done once approved.
    unregister = registerGatePlanner('test-approval', ({ state, step: s, stepState, needsMet }) => {
      if (!needsMet) return undefined;
      const path = `checkpoints/${s.id}.md`;
      const text = state.files.get(path);
      if (text === undefined)
        return {
          holdReady: true,
          effects: [{ type: 'write', molecule: state.id, path, content: 'decision: pending\n' }],
        };
      if (!text.includes('approved')) return { holdReady: true, note: 'waiting for approval' };
      return stepState.status === 'ready'
        ? {
            effects: [
              {
                type: 'run',
                molecule: state.id,
                step: s.id,
                attempt: stepState.attempt,
                gate: 'test-approval',
                summary: 'check approval',
              },
            ],
          }
        : undefined;
    });
    registerGateRunner('test-approval', async (effect, ctx) => [
      {
        type: 'write',
        molecule: effect.molecule,
        path: `reports/${effect.step}.${effect.attempt}.md`,
        content: `approved by file in ${ctx.state.id}\n`,
      },
      {
        type: 'transition',
        molecule: effect.molecule,
        fact: { step: effect.step, attempt: effect.attempt, kind: 'done', by: 'gate', extra: {} },
        summary: `${effect.step} approved`,
      },
    ]);
  });
  afterAll(() => {
    unregister();
    repo.cleanup();
  });

  it('holds, writes, re-plans after a human edit, runs the gate and moves on', async () => {
    const root = repo.path;
    const resolved = formula('gated', [
      step('work'),
      step('review', ['work'], { gate: { type: 'test-approval', raw: {} } }),
      step('ship', ['review']),
    ]);
    await createMolecule(root, { formula: 'gated', name: 'g1', resolved, now });
    await advance({ root, now, molecules: ['g1'] });
    const t = await recordStep(root, 'g1', 'work', 'done', { now });
    expect(t.map((x) => x.kind)).toEqual(['done']);
    await advance({ root, now });
    let s = await moleculeStatus(root, 'g1', now);
    expect(s.steps.find((x) => x.id === 'review')).toMatchObject({
      state: 'pending',
      notes: ['waiting for approval'],
    });
    // A no-op run (served from the cache), then a person edits the checkpoint in place.
    expect((await advance({ root, now })).written).toEqual([]);
    writeFileSync(join(root, '.beads/molecules/g1/checkpoints/review.md'), 'decision: approved\n');
    const r = await advance({ root, now });
    expect(r.transitions.map((x) => `${x.step}:${x.kind}`)).toEqual([
      'review:ready',
      'review:done',
      'ship:ready',
    ]);
    expect(r.written).toContain('.beads/molecules/g1/reports/review.1.md');
    s = await moleculeStatus(root, 'g1', now);
    expect(s.ready).toEqual(['ship']);
    expect((await advance({ root, now })).written).toEqual([]);
  });

  it('a gate type with no planner runs like a normal step and status says so', async () => {
    const root = repo.path;
    const resolved = formula('ext', [
      step('wait-ci', [], { gate: { type: 'gh:run', raw: { workflow: 'ci' } } }),
    ]);
    await createMolecule(root, { formula: 'ext', name: 'e1', resolved, now });
    const s = await moleculeStatus(root, 'e1', now);
    expect(s.steps[0]).toMatchObject({
      state: 'ready',
      gate: 'gh:run',
      notes: ['gate type "gh:run" is not executed: the step runs like a normal step'],
    });
  });
});
