// Raw steps lowered into work steps in file order: children after their parent, loops (through
// resolve-loops.ts) and inline expansions (`expand = "name"`), whose templates are lowered here
// too, for `{target}`.
import { MAX_STEPS } from './limits.js';
import type { ResolveContext } from './resolve-context.js';
import { checkLoop, loopAt, loopValues, lowerRuntimeLoop, unrollLoop } from './resolve-loops.js';
import { addNeed, mapStrings, replaceTarget } from './resolve-steps.js';
import type { Composed, Origin, TargetInfo, WorkStep } from './resolve-types.js';
import { workStep } from './resolve-work-step.js';
import type { RawStep } from './schema.js';
import { substituteVars } from './vars.js';

/** Lowers raw steps (children, loops, inline expansions) into `out`, in file order. */
export function lowerList(
  r: ResolveContext,
  raws: readonly RawStep[],
  base: string,
  file: string,
  out: WorkStep[],
  c: Composed,
  rangeVars: Record<string, string>,
): void {
  raws.forEach((raw, i) => {
    const path = `${base}[${i}]`;
    if (out.length > MAX_STEPS) return;
    if (raw.loop) {
      lowerLoop(r, raw, path, file, out, c, rangeVars);
      return;
    }
    if (raw.expand !== undefined) {
      lowerInlineExpand(r, raw, path, file, out, c);
      return;
    }
    const step = workStep(r, raw, path, file);
    if (!step) return;
    out.push(step);
    if (raw.children && raw.children.length > 0)
      lowerChildren(r, raw.children, step, path, file, out, c, rangeVars);
  });
}

/** A parent completes after its children; children wait for what the parent waits for. */
function lowerChildren(
  r: ResolveContext,
  children: readonly RawStep[],
  step: WorkStep,
  path: string,
  file: string,
  out: WorkStep[],
  c: Composed,
  rangeVars: Record<string, string>,
): void {
  const kids: WorkStep[] = [];
  lowerList(r, children, `${path}.children`, file, kids, c, rangeVars);
  for (const kid of kids) {
    for (const n of step.needs) addNeed(kid, n, step.needPaths.get(n) ?? step.origin);
  }
  // Aliases (a child that is a loop or an expansion) are resolved at the end of compose.
  children.forEach((k, j) => {
    if (k.id !== undefined) addNeed(step, k.id, { file, path: `${path}.children[${j}]` });
  });
  out.push(...kids);
}

function lowerLoop(
  r: ResolveContext,
  raw: RawStep,
  path: string,
  file: string,
  out: WorkStep[],
  c: Composed,
  rangeVars: Record<string, string>,
): void {
  const id = checkLoop(r, raw, path, file);
  if (id === undefined) return;
  const loop = raw.loop!;
  const outer = workStep(r, { ...raw, loop: undefined, children: undefined }, path, file);
  if (!outer) return;
  const body: WorkStep[] = [];
  lowerList(r, loop.body!, `${path}.loop.body`, file, body, c, rangeVars);
  if (body.length === 0) return;
  const lowered = { id, outer, body, at: loopAt(file, path) };
  if (loop.until !== undefined) {
    lowerRuntimeLoop(r, loop, lowered, out);
    return;
  }
  const values = loopValues(r, loop, body.length, rangeVars, lowered.at);
  if (values) unrollLoop(c, loop.var, values, lowered, out);
}

function lowerInlineExpand(
  r: ResolveContext,
  raw: RawStep,
  path: string,
  file: string,
  out: WorkStep[],
  c: Composed,
): void {
  const target = workStep(r, { ...raw, expand: undefined }, path, file);
  if (!target) return;
  const exp = r.composeRef(raw.expand!, { file, path: `${path}.expand` }, 'expansion', 'expansion');
  if (!exp) return;
  const steps = expandTemplate(r, exp, target, target.needs, target.needPaths, raw.expand_vars);
  if (!steps || steps.length === 0) return;
  c.aliasLast.set(target.id, steps.at(-1)!.id);
  c.aliasFirst.set(target.id, steps[0]!.id);
  out.push(...steps);
}

/**
 * The template of expansion `exp` instantiated for `target`: `{target}`, `{target.id}`,
 * `{target.title}`, `{target.description}` replaced; template roots inherit the target's needs.
 */
export function expandTemplate(
  r: ResolveContext,
  exp: Composed,
  target: TargetInfo,
  needs: readonly string[],
  needPaths: Map<string, Origin>,
  vars: Record<string, string> | undefined,
): WorkStep[] | undefined {
  const template = exp.raw.template ?? [];
  if (template.length === 0) {
    r.error(
      'formula.template',
      { file: exp.file, path: 'template' },
      'an expansion needs at least one [[template]] step',
    );
    return undefined;
  }
  const subst = (s: string): string => {
    const t = s.includes('{target') ? replaceTarget(s, target) : s;
    return vars ? substituteVars(t, vars) : t;
  };
  const raws = template.map((t) => mapStrings(t, subst) as RawStep);
  const steps: WorkStep[] = [];
  lowerList(r, raws, 'template', exp.file, steps, exp, {});
  const ids = new Set(steps.map((s) => s.id));
  for (const s of steps) {
    if (s.needs.some((n) => ids.has(n))) continue;
    for (const n of needs) addNeed(s, n, needPaths.get(n) ?? s.origin);
  }
  return steps;
}
