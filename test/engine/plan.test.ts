// The pure core: fold files into state and plan effects, no disk.
import { beforeAll, describe, expect, it } from 'vitest';
import { fold } from '../../src/engine/fold.js';
import { eventPathOf, renderEvent } from '../../src/engine/io.js';
import { evaluateCondition, planMolecule, reopenEffects } from '../../src/engine/plan.js';
import { loadGatePlugins } from '../../src/engine/plugins.js';
import type { Effect, PlanEnv } from '../../src/engine/types.js';
import { defaultConfig } from '../../src/store/config.js';
import { stringifyToml } from '../../src/store/toml.js';
import type { EventFact } from '../../src/store/types.js';
import { chain, forkJoin, formula, step } from './formulas.js';

const env: PlanEnv = {
  config: defaultConfig(),
  now: new Date('2026-01-06T09:00:00Z'),
  moleculeStatus: () => undefined,
};

function filesFor(
  f: ReturnType<typeof chain>,
  facts: EventFact[],
  meta: Record<string, unknown> = {},
): Map<string, string> {
  const files = new Map<string, string>();
  files.set(
    'molecule.toml',
    stringifyToml({ id: 'm1', formula: f.formula, formula_hash: f.hash, vars: {}, ...meta }),
  );
  files.set('formula.resolved.toml', stringifyToml(f as unknown as Record<string, unknown>));
  for (const fact of facts) files.set(eventPathOf(fact), renderEvent(fact));
  return files;
}
const fact = (step: string, kind: string, attempt = 1, more: Partial<EventFact> = {}): EventFact => ({
  step,
  attempt,
  kind,
  extra: {},
  ...more,
});
const readyIds = (effects: Effect[]) =>
  effects.flatMap((e) => (e.type === 'transition' && e.fact.kind === 'ready' ? [e.fact.step] : []));

describe('plan', () => {
  it('makes a step ready exactly when all its needs are done', () => {
    const f = forkJoin();
    let state = fold('m1', 'x', filesFor(f, []));
    expect(readyIds(planMolecule(state, f, env).effects)).toEqual(['lint', 'test', 'build']);
    state = fold(
      'm1',
      'x',
      filesFor(f, ['lint', 'test', 'build'].flatMap((s) => [fact(s, 'ready'), fact(s, 'done')]).slice(0, 5)),
    );
    // build is ready but not done: report must wait.
    expect(readyIds(planMolecule(state, f, env).effects)).toEqual([]);
    state = fold(
      'm1',
      'x',
      filesFor(
        f,
        ['lint', 'test', 'build'].flatMap((s) => [fact(s, 'ready'), fact(s, 'done')]),
      ),
    );
    expect(readyIds(planMolecule(state, f, env).effects)).toEqual(['report']);
  });

  it('completes the molecule when every step is done or skipped', () => {
    // A skip stands when the step's condition is false (plan.ts unbackedFacts).
    const f = formula('chain', [
      step('design'),
      step('implement', ['design']),
      step('review', ['implement'], { condition: 'false' }),
      step('test', ['review']),
    ]);
    const facts = f.steps.flatMap((s) =>
      s.id === 'review' ? [fact(s.id, 'skipped')] : [fact(s.id, 'ready'), fact(s.id, 'done')],
    );
    const result = planMolecule(fold('m1', 'x', filesFor(f, facts)), f, env);
    expect(result.effects).toHaveLength(1);
    expect(result.effects[0]).toMatchObject({ type: 'transition', fact: { kind: 'completed' } });
  });

  it('skips a step whose condition is false after var substitution', () => {
    const f = formula('cond', [
      step('a'),
      step('b', ['a'], { condition: '{{mode}} == "full"' }),
      step('c', ['b']),
    ]);
    const state = fold(
      'm1',
      'x',
      filesFor(f, [fact('a', 'ready'), fact('a', 'done')], { vars: { mode: 'quick' } }),
    );
    const effects = planMolecule(state, f, env).effects;
    expect(effects).toHaveLength(1);
    expect(effects[0]).toMatchObject({ fact: { step: 'b', kind: 'skipped' } });
  });

  it('re-opens a step and everything after it as the next attempt', () => {
    const f = chain();
    const facts = ['design', 'implement', 'review'].flatMap((s) => [fact(s, 'ready'), fact(s, 'done')]);
    facts.push(fact('test', 'ready'));
    const state = fold('m1', 'x', filesFor(f, facts));
    const effects = reopenEffects(state, f, 'implement', { reason: 'design changed' });
    expect(effects.map((e) => [e.fact.step, e.fact.attempt])).toEqual([
      ['implement', 2],
      ['review', 2],
      ['test', 2],
    ]);
    const after = fold('m1', 'x', filesFor(f, [...facts, ...effects.map((e) => e.fact)]));
    expect(after.stepById.get('implement')).toMatchObject({ status: 'pending', attempt: 2 });
    expect(after.stepById.get('submit')).toMatchObject({ status: 'pending', attempt: 1 });
    expect(readyIds(planMolecule(after, f, env).effects)).toEqual(['implement']);
  });

  it('waits for the molecule named by after', () => {
    const f = chain();
    const state = fold('m1', 'x', filesFor(f, [], { after: 'day2' }));
    const blocked = planMolecule(state, f, { ...env, moleculeStatus: () => 'active' });
    expect(blocked).toMatchObject({
      status: 'blocked',
      blockedReason: 'waiting for molecule day2',
      effects: [],
    });
    expect(readyIds(planMolecule(state, f, { ...env, moleculeStatus: () => 'completed' }).effects)).toEqual([
      'design',
    ]);
  });

  it('reports done and failed for the same attempt as a conflict and plans nothing', () => {
    const f = forkJoin();
    const state = fold(
      'm1',
      'x',
      filesFor(f, [fact('lint', 'ready'), fact('lint', 'done'), fact('lint', 'failed')]),
    );
    expect(state.conflicts.map((c) => c.file).sort()).toEqual([
      'x/events/lint.1.done.toml',
      'x/events/lint.1.failed.toml',
    ]);
    expect(planMolecule(state, f, env)).toMatchObject({ status: 'conflict', effects: [] });
  });

  it('names the file and field of a corrupted event', () => {
    const f = forkJoin();
    const files = filesFor(f, [fact('lint', 'ready')]);
    files.set('events/lint.1.ready.toml', 'step = "lint"\nattempt = "one"\nkind = "ready"\n');
    const state = fold('m1', 'x', files);
    expect(state.errors).toEqual([
      {
        file: 'x/events/lint.1.ready.toml',
        path: 'attempt',
        message: '`attempt` must be an integer, found string "one"',
      },
    ]);
    expect(planMolecule(state, f, env).status).toBe('invalid');
  });

  it('fills the assignee from the step template, else the molecule default', () => {
    const f = formula('a', [step('one', [], { assignee: '{{who}}' }), step('two')]);
    const state = fold('m1', 'x', filesFor(f, [], { vars: { who: 'polecat-7' }, assignee: 'crew' }));
    const effects = planMolecule(state, f, env).effects;
    expect(effects.map((e) => (e.type === 'transition' ? e.fact.assignee : undefined))).toEqual([
      'polecat-7',
      'crew',
    ]);
  });
});

describe('step conditions', () => {
  // The runtime condition evaluator, installed as the CLI's entry installs it (setup-plugins).
  beforeAll(() => loadGatePlugins());

  it('reads `vars.x` as a name, and compares written-out values as they are', () => {
    const f = chain();
    const as = (env: string) => fold('m1', 'x', filesFor(f, [], { vars: { env } }));
    expect(evaluateCondition('vars.env == "prod"', as('prod'), { env: 'prod' })).toBe(true);
    expect(evaluateCondition("vars.env == 'prod'", as('dev'), { env: 'dev' })).toBe(false);
    expect(evaluateCondition('vars.env != "prod"', as('dev'), { env: 'dev' })).toBe(true);
    // After substitution `{{env}} == prod` is two written-out values.
    expect(evaluateCondition('{{env}} == prod', as('prod'), { env: 'prod' })).toBe(true);
    expect(evaluateCondition('{{env}} == 1.2', as('1.2'), { env: '1.2' })).toBe(true);
  });
});
