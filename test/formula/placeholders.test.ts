// One placeholder syntax: cook, a command gate's arguments and the planner read the
// same `{{name}}`, so a value a formula shows in a step's title is the value its gate runs with
// and the assignee the planner hands the step to.
import { describe, expect, it } from 'vitest';
import { stepAssignee } from '../../src/engine/plan.js';
import type { MoleculeState } from '../../src/engine/types.js';
import type { ResolvedStep } from '../../src/formula/model.js';
import { substituteVars } from '../../src/formula/vars.js';
import { substituteArgv } from '../../src/gates/template.js';

const vars = { a: 'A', 'a.b': 'AB', '1a': 'ONE' };
const state = { meta: { vars, assignee: 'the-molecule-assignee' } } as unknown as MoleculeState;

describe('placeholders', () => {
  it.each(['{{a}}', '{{ a }}', '{{a.b}}', '{{1a}}', '{{.a}}', '{{if .a}}'])(
    '%s reads the same in cook, in a command gate and in the planner',
    (text) => {
      const cooked = substituteVars(text, vars);
      expect(substituteArgv([text], vars)).toEqual([cooked]);
      // The planner takes a fully substituted assignee, else falls back to the molecule's.
      const assignee = stepAssignee({ assignee: text } as ResolvedStep, state);
      expect(assignee).toBe(cooked.includes('{{') ? 'the-molecule-assignee' : cooked);
    },
  );
});
