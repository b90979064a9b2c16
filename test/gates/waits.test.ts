import { describe, expect, it } from 'vitest';
import type { ExprContext } from '../../src/gates/expr.js';
import { matchGlob } from '../../src/gates/glob.js';
import {
  decideLoop,
  evaluateDeadline,
  evaluateMoleculeWait,
  evaluateTimer,
  ForEachError,
  forEachSpawns,
  parseOutputFile,
} from '../../src/gates/waits.js';

const at = (s: string) => new Date(s);

describe('globs', () => {
  it('matches ** across directories, * within one, {a,b} and classes', () => {
    expect(matchGlob('test/**/*.go', 'test/a_test.go')).toBe(true);
    expect(matchGlob('test/**/*.go', 'test/integration/we/a_test.go')).toBe(true);
    expect(matchGlob('test/**/*.go', 'src/a.go')).toBe(false);
    expect(matchGlob('test/*.go', 'test/x/a.go')).toBe(false);
    expect(matchGlob('**/*.{ts,js}', 'a/b/c.js')).toBe(true);
    expect(matchGlob('./src/[ab].ts', 'src/b.ts')).toBe(true);
    expect(matchGlob('src/?.ts', 'src/ab.ts')).toBe(false);
  });
});

describe('timers and deadlines', () => {
  it('counts from the recorded start; not started until the fact is committed', () => {
    expect(evaluateDeadline('2h', undefined, at('2026-01-06T20:00:00Z'))).toMatchObject({
      started: false,
      overdue: false,
    });
    const d = evaluateDeadline('2h', at('2026-01-06T09:00:00Z'), at('2026-01-06T10:59:59Z'));
    expect(d).toMatchObject({ started: true, overdue: false, deadline: at('2026-01-06T11:00:00Z') });
    expect(d.summary).toBe('due 2026-01-06T11:00:00.000Z (in 1s)');
    expect(evaluateDeadline('2h', at('2026-01-06T09:00:00Z'), at('2026-01-06T11:00:00Z')).overdue).toBe(true);
    expect(
      evaluateTimer(
        { type: 'timer', timeout: '30m' },
        at('2026-01-06T09:00:00Z'),
        at('2026-01-06T09:31:00Z'),
      ),
    ).toMatchObject({ ready: true });
  });

  it('waits for another molecule to be completed', () => {
    const g = { type: 'molecule' as const, molecule: 'day3', state: 'completed' as const };
    expect(evaluateMoleculeWait(g, { exists: true, state: 'active' })).toEqual({
      ready: false,
      reason: 'waiting for molecule day3 to be completed (now active)',
    });
    expect(evaluateMoleculeWait(g, { exists: false })).toMatchObject({ ready: false });
    expect(evaluateMoleculeWait(g, { exists: true, state: 'completed' }).ready).toBe(true);
  });
});

describe('until loops', () => {
  const ctx = (passRate: number): ExprContext => ({
    vars: {},
    outputs: {},
    gates: { check: { pass_rate: passRate } },
    steps: { check: { state: 'done', attempt: 1 } },
  });
  const loop = { until: 'gate.check.pass_rate >= 100', max: 3, body: ['fix', 'check'] };
  it('repeats the body until the condition holds, then stops; gives up at max with a reason', () => {
    expect(decideLoop(loop, 1, ctx(80))).toMatchObject({ action: 'repeat', nextAttempt: 2 });
    expect(decideLoop(loop, 2, ctx(100))).toMatchObject({ action: 'done' });
    const out = decideLoop(loop, 3, ctx(97));
    expect(out.action).toBe('exhausted');
    expect(out.reason).toBe(
      'loop ran 3 times and `gate.check.pass_rate >= 100` still does not hold (gate.check.pass_rate = 97)',
    );
  });
});

describe('on_complete for_each', () => {
  const oc = {
    for_each: 'output.services',
    bond: 'integration-test-full-validation',
    vars: { service: '{item.name}', n: '{index}', raw: '{item}' },
  };
  it('spawns one molecule per front matter list item with deterministic ids', () => {
    const out = parseOutputFile('---\nservices:\n  - name: gateway\n  - name: aianalysis\n---\nbody\n');
    expect(forEachSpawns(oc, 'soc2', 'survey', out)).toEqual([
      {
        id: 'soc2-survey-1',
        formula: 'integration-test-full-validation',
        vars: { service: 'gateway', n: '0', raw: '{"name":"gateway"}' },
        index: 0,
      },
      {
        id: 'soc2-survey-2',
        formula: 'integration-test-full-validation',
        vars: { service: 'aianalysis', n: '1', raw: '{"name":"aianalysis"}' },
        index: 1,
      },
    ]);
  });

  it('reads a markdown bullet list under a heading of that name when the front matter has none', () => {
    const out = parseOutputFile(
      '# Survey\n\n## Services\n\n- `gateway`\n- orchestrator\n\n## Notes\n- not this\n',
    );
    expect(
      forEachSpawns({ ...oc, vars: { service: '{item}' } }, 'soc2', 'do.survey', out).map((s) => [
        s.id,
        s.vars.service,
      ]),
    ).toEqual([
      ['soc2-do-survey-1', 'gateway'],
      ['soc2-do-survey-2', 'orchestrator'],
    ]);
  });

  it('a re-opened step spawns its own molecules: later attempts carry the attempt in the id', () => {
    const out = parseOutputFile('---\nservices: [{ name: gateway }]\n---\n');
    expect(forEachSpawns(oc, 'soc2', 'survey', out, 1).map((s) => s.id)).toEqual(['soc2-survey-1']);
    expect(forEachSpawns(oc, 'soc2', 'survey', out, 2).map((s) => s.id)).toEqual(['soc2-survey-a2-1']);
  });

  it('says what is missing', () => {
    expect(() => forEachSpawns(oc, 'm', 's', undefined)).toThrow(ForEachError);
    expect(() => forEachSpawns(oc, 'm', 's', parseOutputFile('no list here'))).toThrow(
      /has no list `services`/,
    );
    expect(() => forEachSpawns({ ...oc, for_each: 'services' }, 'm', 's', parseOutputFile(''))).toThrow(
      /output.<field>/,
    );
  });
});
