// One placeholder syntax: cook, a command gate's arguments and the planner's conditions read the
// same `{{name}}`, so a value a formula shows in a step's title is the value its gate runs with.
import { describe, expect, it } from 'vitest';
import { evaluateCondition } from '../../src/engine/plan.js';
import type { MoleculeState } from '../../src/engine/types.js';
import { substituteVars } from '../../src/formula/vars.js';
import { substituteArgv } from '../../src/gates/template.js';

const vars = { a: 'A', 'a.b': 'AB', '1a': 'ONE' };
const state = {} as MoleculeState;

describe('placeholders', () => {
  it.each(['{{a}}', '{{ a }}', '{{a.b}}', '{{1a}}', '{{.a}}', '{{if .a}}'])(
    '%s reads the same in cook, in a command gate and in a condition',
    (text) => {
      const cooked = substituteVars(text, vars);
      expect(substituteArgv([text], vars)).toEqual([cooked]);
      // The planner compares after substituting: equal exactly when cook gave the value.
      const value = Object.values(vars).find((v) => v === cooked);
      expect(evaluateCondition(`${text} == ${value ?? 'nothing'}`, state, vars) === true).toBe(
        value !== undefined,
      );
    },
  );
});
