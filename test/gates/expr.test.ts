import { describe, expect, it } from 'vitest';
import { type ExprContext, ExprError, evaluateExpression, unknownNames } from '../../src/gates/expr.js';

const ctx: ExprContext = {
  vars: { env: 'prod', empty: '' },
  outputs: { review: { verdict: 'approve', findings: 0, approved: true }, plan: { title: 'x' } },
  gates: { check: { verdict: 'fail', pass_rate: 91.4 } },
  steps: {
    review: { state: 'done', attempt: 2 },
    check: { state: 'done', attempt: 1 },
    plan: { state: 'ready', attempt: 1 },
  },
  current: 'review',
};
const holds = (src: string) => evaluateExpression(src, ctx).holds;

describe('until/condition expressions', () => {
  it('compares outputs, vars, gate results and step states', () => {
    expect(holds('output.review.verdict == "approve"')).toBe(true);
    expect(holds("output.review.verdict == 'reject'")).toBe(false);
    expect(holds('vars.env != ""')).toBe(true);
    expect(holds('vars.missing != ""')).toBe(false);
    expect(holds('gate.check.pass_rate >= 100')).toBe(false);
    expect(holds('gate.check.pass_rate > 90 && gate.check.verdict == "fail"')).toBe(true);
    expect(holds('review.attempt >= 2 and not (plan.state == "done")')).toBe(true);
    expect(holds('output.review.findings == 0 || vars.empty')).toBe(true);
    expect(holds('!vars.empty')).toBe(true);
  });

  it("reads beads' spelling: step.status == 'complete', <step>.output.<field>, output.<field> of the current step", () => {
    expect(holds("step.status == 'complete'")).toBe(true);
    expect(holds('review.output.approved == true')).toBe(true);
    expect(holds('output.findings == 0')).toBe(true);
    expect(holds('steps.complete >= 2')).toBe(true);
  });

  it('says what it read', () => {
    expect(evaluateExpression('gate.check.pass_rate >= 100', ctx).seen).toEqual([
      'gate.check.pass_rate = 91.4',
    ]);
  });

  it('never evaluates code: syntax outside the language is an error naming the column', () => {
    expect(() => holds('process.exit(1)')).toThrow(ExprError);
    expect(() => holds('vars.env == "prod" ;')).toThrow(/unexpected `;` at column 20/);
    expect(() => holds('vars.env + 1')).toThrow(ExprError);
    expect(() => holds('(vars.env == "x"')).toThrow(/missing `\)`/);
    expect(() => holds('"unterminated')).toThrow(/unterminated string/);
  });

  it('refuses unknown names loudly instead of looping to max on a typo', () => {
    expect(() => holds('reveiw.state == "done"')).toThrow(/unknown name `reveiw.state`/);
    expect(
      unknownNames(
        'gate.chek.pass_rate >= 100 && review.state == "done" && vars.x',
        new Set(['review', 'check']),
      ),
    ).toEqual(['gate.chek.pass_rate']);
  });
});
