// Small resolved formulas built by hand, so engine tests do not depend on the formula engine.
import { formulaHash } from '../../src/formula/hash.js';
import type { ResolvedFormula, ResolvedStep } from '../../src/formula/model.js';

export function step(id: string, needs: string[] = [], extra: Partial<ResolvedStep> = {}): ResolvedStep {
  return { id, title: `Do ${id}`, description: '', needs, labels: [], extra: {}, ...extra };
}

export function formula(
  name: string,
  steps: ResolvedStep[],
  extra: Partial<ResolvedFormula> = {},
): ResolvedFormula {
  const f: ResolvedFormula = {
    formula: name,
    description: `${name} for tests`,
    type: 'workflow',
    version: 1,
    source: `${name}.formula.toml`,
    hash: '',
    vars: {},
    steps,
    legs: [],
    inputs: {},
    presets: {},
    prompts: {},
    warnings: [],
    extra: {},
    ...extra,
  };
  // What molecule.toml's formula_hash must say for fold to accept the frozen copy.
  if (extra.hash === undefined) f.hash = formulaHash(f);
  return f;
}

/** design → implement → review → test → submit, like `shiny`. */
export const chain = (name = 'chain') =>
  formula(name, [
    step('design'),
    step('implement', ['design']),
    step('review', ['implement']),
    step('test', ['review']),
    step('submit', ['test']),
  ]);

/** lint, test, build in parallel; report needs all three, like `quick-check`. */
export const forkJoin = (name = 'fork-join') =>
  formula(name, [step('lint'), step('test'), step('build'), step('report', ['lint', 'test', 'build'])]);
