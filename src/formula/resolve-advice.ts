// Aspects and advice: an aspect formula's own steps, and advice rules (the formula's own and
// those of the aspects it names) that wrap matching steps in before- and after-steps.
import type { ResolveContext } from './resolve-context.js';
import { lowerList } from './resolve-lower.js';
import { addNeed, mapStrings, matchGlob, matchPointcut, rewire } from './resolve-steps.js';
import type { At, Composed, WorkStep } from './resolve-types.js';
import { namedStep } from './resolve-work-step.js';
import type { RawAdvice, RawFormula, RawStep } from './schema.js';

interface AdviceRule {
  rule: RawAdvice;
  path: string;
  file: string;
}
type Pointcuts = NonNullable<RawFormula['pointcuts']>;

/** Gas Town's analysis aspects run like convoy legs: parallel steps. */
export function aspectSteps(r: ResolveContext, c: Composed): void {
  (c.raw.aspects ?? []).forEach((a, i) => {
    if (typeof a === 'string') return;
    const s = namedStep(r, a, `aspects[${i}]`, c.file);
    if (s) c.steps.push(s);
  });
}

/** The formula's own advice (when it has steps to advise), then each aspect it names, in order. */
export function applyAdviceAndAspects(r: ResolveContext, c: Composed, at: At): void {
  const raw = c.raw;
  if (raw.advice && raw.steps) {
    const rules = raw.advice.map((rule, i) => ({ rule, path: `advice[${i}]`, file: c.file }));
    applyAdvice(r, c, rules, raw.pointcuts ?? []);
  }
  const composeAspects = raw.compose?.aspects ?? [];
  const topAspectNames = (raw.aspects ?? []).filter((a): a is string => typeof a === 'string');
  [...composeAspects, ...topAspectNames].forEach((aspectName, i) => {
    const path =
      i < composeAspects.length ? `compose.aspects[${i}]` : `aspects[${i - composeAspects.length}]`;
    const a = r.composeRef(aspectName, at(path), 'aspect', 'aspect');
    if (!a) return;
    const rules = (a.raw.advice ?? []).map((rule, j) => ({ rule, path: `advice[${j}]`, file: a.file }));
    if (rules.length === 0)
      r.warn('formula.aspect-empty', at(path), `aspect "${aspectName}" has no advice to apply`);
    applyAdvice(r, c, rules, a.raw.pointcuts ?? []);
  });
}

/**
 * Advice inserts steps before and after every original step a rule's target glob matches (and,
 * for an aspect with pointcuts, one of them). Before-steps run in order after the target's
 * needs; after-steps run after the target, and the target's dependents wait for the last one.
 */
function applyAdvice(r: ResolveContext, c: Composed, rules: AdviceRule[], pointcuts: Pointcuts): void {
  const result: WorkStep[] = [];
  /** target id -> [last after-step id, ids of its after-steps] */
  const moved = new Map<string, { last: string; own: Set<string> }>();
  for (const step of c.steps) {
    if (step.convoy_role) {
      result.push(step);
      continue;
    }
    const { before, after } = adviceFor(r, c, step, rules, pointcuts);
    before.forEach((b, i) => {
      if (i === 0) for (const n of step.needs) addNeed(b, n, step.needPaths.get(n) ?? step.origin);
      else addNeed(b, before[i - 1]!.id, b.origin);
    });
    if (before.length > 0) {
      step.needs = [];
      step.needPaths = new Map();
      addNeed(step, before.at(-1)!.id, before.at(-1)!.origin);
    }
    after.forEach((a, i) => {
      addNeed(a, i === 0 ? step.id : after[i - 1]!.id, a.origin);
    });
    if (after.length > 0)
      moved.set(step.id, { last: after.at(-1)!.id, own: new Set(after.map((a) => a.id)) });
    result.push(...before, step, ...after);
  }
  // Dependents of an advised step wait for its last after-step.
  if (moved.size > 0) {
    for (const s of result) {
      for (const need of s.needs.slice()) {
        const m = moved.get(need);
        if (m && !m.own.has(s.id)) rewire(s, need, m.last);
      }
    }
  }
  c.steps = result;
}

/** The steps the matching rules put before and after `step`, lowered, in rule order. */
function adviceFor(
  r: ResolveContext,
  c: Composed,
  step: WorkStep,
  rules: AdviceRule[],
  pointcuts: Pointcuts,
): { before: WorkStep[]; after: WorkStep[] } {
  const before: WorkStep[] = [];
  const after: WorkStep[] = [];
  const add = (list: WorkStep[], raw: RawStep | undefined, p: string, file: string) => {
    if (!raw) return;
    const sub = mapStrings(raw, (s) =>
      s.replaceAll('{step.id}', step.id).replaceAll('{step.title}', step.title),
    ) as RawStep;
    const made: WorkStep[] = [];
    lowerList(r, [sub], p, file, made, c, {});
    list.push(...made);
  };
  for (const { rule, path, file } of rules) {
    if (!matchGlob(rule.target, step.id)) continue;
    if (pointcuts.length > 0 && !pointcuts.some((pc) => matchPointcut(pc, step))) continue;
    add(before, rule.before, `${path}.before`, file);
    rule.around?.before?.forEach((raw, i) => {
      add(before, raw, `${path}.around.before[${i}]`, file);
    });
    add(after, rule.after, `${path}.after`, file);
    rule.around?.after?.forEach((raw, i) => {
      add(after, raw, `${path}.around.after[${i}]`, file);
    });
  }
  return { before, after };
}
