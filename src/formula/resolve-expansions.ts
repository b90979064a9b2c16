// Expansions applied to a composed formula: a lone expansion instantiated for its target,
// `compose.expand` and `compose.map` replacing steps with an expansion's template, and
// `compose.branch` adding fan-out needs. Other compose keys are kept, not executed.
import { pathSegmentProblem } from '../store/ids.js';
import type { ResolveContext } from './resolve-context.js';
import { expandTemplate } from './resolve-lower.js';
import { addNeed, matchGlob, mergeById } from './resolve-steps.js';
import type { At, Composed, TargetInfo } from './resolve-types.js';
import type { RawFormula } from './schema.js';

type ComposeRules = NonNullable<RawFormula['compose']>;

/** An expansion resolved on its own: its template for the target given (`main` by default). */
export function expandLoneTemplate(r: ResolveContext, c: Composed, at: At): void {
  const target: TargetInfo = {
    id: r.opts.target ?? 'main',
    title: r.opts.target ?? 'main',
    description: c.raw.description ?? '',
  };
  const problem = pathSegmentProblem(target.id);
  if (problem)
    r.error('formula.target', at('template'), `target "${target.id}" is not a valid step id: ${problem}`);
  const steps = expandTemplate(r, c, target, [], new Map(), undefined);
  if (steps) c.steps = mergeById(c.steps, steps);
}

export function applyCompose(r: ResolveContext, c: Composed, at: At): void {
  const compose = c.raw.compose;
  if (!compose) return;
  const expanded = new Set<string>();
  applyExpand(r, c, compose, at, expanded);
  applyMap(r, c, compose, at, expanded);
  applyBranch(r, c, compose, at);
  // Kept verbatim in `definition.compose`; reported so nobody expects them to run.
  for (const key of ['gate', 'bond_points', 'hooks'] as const) {
    const v = compose[key];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    r.warn(
      'formula.not-executed',
      at(`compose.${key}`),
      `compose.${key} is parsed, not executed (kept under definition.compose)`,
    );
  }
}

/** `compose.expand`: each named target replaced once; the ids replaced go into `expanded`. */
function applyExpand(
  r: ResolveContext,
  c: Composed,
  compose: ComposeRules,
  at: At,
  expanded: Set<string>,
): void {
  compose.expand?.forEach((rule, i) => {
    const path = `compose.expand[${i}]`;
    const idx = c.steps.findIndex((s) => s.id === rule.target);
    if (idx < 0) {
      r.error(
        'formula.expand-target',
        at(`${path}.target`),
        `expand target "${rule.target}" is not a step of this formula`,
      );
      return;
    }
    if (expanded.has(rule.target)) return;
    const exp = r.composeRef(rule.with, at(`${path}.with`), 'expansion', 'expansion');
    if (!exp) return;
    replaceWithExpansion(r, c, idx, exp, rule.vars);
    expanded.add(rule.target);
  });
}

/** `compose.map`: every step the glob selects, not already expanded, replaced. */
function applyMap(
  r: ResolveContext,
  c: Composed,
  compose: ComposeRules,
  at: At,
  expanded: Set<string>,
): void {
  compose.map?.forEach((rule, i) => {
    const path = `compose.map[${i}]`;
    const exp = r.composeRef(rule.with, at(`${path}.with`), 'expansion', 'expansion');
    if (!exp) return;
    const targets = c.steps
      .filter((s) => !expanded.has(s.id) && matchGlob(rule.select, s.id))
      .map((s) => s.id);
    if (targets.length === 0)
      r.warn('formula.map-empty', at(`${path}.select`), `map select "${rule.select}" matches no step`);
    for (const id of targets) {
      const idx = c.steps.findIndex((s) => s.id === id);
      replaceWithExpansion(r, c, idx, exp, rule.vars);
      expanded.add(id);
    }
  });
}

/** `compose.branch`: each branch step after `from`, and `join` after every branch step. */
function applyBranch(r: ResolveContext, c: Composed, compose: ComposeRules, at: At): void {
  compose.branch?.forEach((b, i) => {
    const path = `compose.branch[${i}]`;
    const byId = new Map(c.steps.map((s) => [s.id, s]));
    const from = byId.get(b.from);
    const join = byId.get(b.join);
    if (!from) r.error('formula.branch', at(`${path}.from`), `branch from "${b.from}" is not a step`);
    if (!join) r.error('formula.branch', at(`${path}.join`), `branch join "${b.join}" is not a step`);
    b.steps.forEach((id, j) => {
      const s = byId.get(id);
      if (!s) r.error('formula.branch', at(`${path}.steps[${j}]`), `branch step "${id}" is not a step`);
      else {
        addNeed(s, b.from, at(`${path}.from`));
        if (join) addNeed(join, id, at(`${path}.steps[${j}]`));
      }
    });
  });
}

function replaceWithExpansion(
  r: ResolveContext,
  c: Composed,
  idx: number,
  exp: Composed,
  vars: Record<string, string> | undefined,
): void {
  const target = c.steps[idx]!;
  const steps = expandTemplate(r, exp, target, target.needs, target.needPaths, vars);
  if (!steps || steps.length === 0) return;
  c.steps.splice(idx, 1, ...steps);
  c.aliasLast.set(target.id, steps.at(-1)!.id);
  c.aliasFirst.set(target.id, steps[0]!.id);
}
