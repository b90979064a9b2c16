// One raw step checked and turned into a work step: its id, needs, plain fields, `waits_for`,
// gate and `on_complete`. Children, loops and expansions are lowered around it (resolve-lower.ts).
import { pathSegmentProblem } from '../store/ids.js';
import { normalizeGate } from './gates.js';
import type { OnComplete } from './model.js';
import type { ResolveContext } from './resolve-context.js';
import type { Origin, WorkStep } from './resolve-types.js';
import { type RawNamed, type RawOnComplete, type RawStep, STEP_KEYS } from './schema.js';

export function workStep(r: ResolveContext, raw: RawStep, path: string, file: string): WorkStep | undefined {
  const id = checkedStepId(r, raw.id, path, file);
  if (id === undefined) return undefined;
  const step = baseStep(raw, id, path, file);
  copyFields(r, raw, step, path, file);
  if (raw.waits_for !== undefined) addWaitsFor(r, raw.waits_for, step, path, file);
  addGate(r, raw, step, path, file);
  if (raw.on_complete !== undefined) addOnComplete(r, raw.on_complete, step, path, file);
  // Unknown keys (already reported) and keys a dialect defines that we do not model.
  for (const k of Object.keys(raw)) if (!STEP_KEYS.has(k)) step.extra[k] = raw[k as keyof RawStep];
  return step;
}

/** A convoy leg or an analysis aspect as a parallel step. */
export function namedStep(r: ResolveContext, n: RawNamed, path: string, file: string): WorkStep | undefined {
  const s = workStep(r, { id: n.id, title: n.title, description: n.description ?? '' }, path, file);
  if (!s) return undefined;
  s.parallel = true;
  if (n.focus !== undefined) s.extra.focus = n.focus;
  return s;
}

/**
 * A step id as written. One with a placeholder (`{target}.draft`) is checked whole once it is
 * filled in (checkGraph); until then only what no substitution can repair is refused.
 */
export function rawIdProblem(id: string): string | undefined {
  if (!id.includes('{')) return pathSegmentProblem(id);
  if (/[/\\\s\u0000-\u001f\u007f]/.test(id) || id.includes('..'))
    return 'it must not contain "/", "..", whitespace or control characters';
  return undefined;
}

/** The step's id, or undefined after reporting why it cannot be one. */
export function checkedStepId(
  r: ResolveContext,
  id: string | undefined,
  path: string,
  file: string,
): string | undefined {
  if (id === undefined || id === '') {
    r.error('formula.step-id', { file, path: `${path}.id` }, 'id is required');
    return undefined;
  }
  const problem = rawIdProblem(id);
  if (problem) {
    r.error('formula.step-id', { file, path: `${path}.id` }, `step id "${id}" cannot be stored: ${problem}`);
    return undefined;
  }
  return id;
}

/** The step with its needs (`needs` then `depends_on`, first mention kept) and defaults. */
function baseStep(raw: RawStep, id: string, path: string, file: string): WorkStep {
  const needs: string[] = [];
  const needPaths = new Map<string, Origin>();
  const addNeeds = (list: string[] | undefined, key: string) =>
    list?.forEach((n, i) => {
      if (!needPaths.has(n)) {
        needs.push(n);
        needPaths.set(n, { file, path: `${path}.${key}[${i}]` });
      }
    });
  addNeeds(raw.needs, 'needs');
  addNeeds(raw.depends_on, 'depends_on');
  return {
    id,
    title: raw.title ?? id,
    description: raw.description ?? '',
    needs,
    labels: raw.labels ?? [],
    extra: {},
    origin: { file, path },
    needPaths,
    refs: [],
  };
}

/** Fields kept as written (priority checked), in the order the resolved step lists them. */
function copyFields(r: ResolveContext, raw: RawStep, step: WorkStep, path: string, file: string): void {
  if (raw.acceptance !== undefined) step.acceptance = raw.acceptance;
  if (raw.assignee !== undefined) step.assignee = raw.assignee;
  if (raw.type !== undefined) step.type = raw.type;
  if (raw.priority !== undefined) {
    if (raw.priority < 0 || raw.priority > 4)
      r.error('formula.priority', { file, path: `${path}.priority` }, 'priority must be 0-4');
    step.priority = raw.priority;
  }
  if (raw.metadata !== undefined) step.metadata = raw.metadata;
  if (raw.notes !== undefined) step.notes = raw.notes;
  if (raw.condition !== undefined && raw.condition.trim() !== '') step.condition = raw.condition;
  if (raw.parallel !== undefined) step.parallel = raw.parallel;
  if (raw.interactive !== undefined) step.interactive = raw.interactive;
}

function addWaitsFor(r: ResolveContext, waitsFor: string, step: WorkStep, path: string, file: string): void {
  step.waits_for = waitsFor;
  const m = /^children-of\((.*)\)$/.exec(waitsFor);
  if (m) step.refs.push({ key: 'waits_for', id: m[1]!, origin: { file, path: `${path}.waits_for` } });
  else if (waitsFor !== 'all-children' && waitsFor !== 'any-children') {
    r.error(
      'formula.waits-for',
      { file, path: `${path}.waits_for` },
      `"${waitsFor}" must be all-children, any-children or children-of(<step>)`,
    );
  }
}

function addGate(r: ResolveContext, raw: RawStep, step: WorkStep, path: string, file: string): void {
  if (raw.gate !== undefined) {
    const g = normalizeGate(raw.gate);
    for (const p of g.problems) {
      r.report(p.severity, p.code, { file, path: `${path}.gate${p.key ? `.${p.key}` : ''}` }, p.message);
    }
    if (g.gate) step.gate = g.gate;
    if (Object.keys(g.unknown).length > 0) step.extra.gate = g.unknown;
    for (const ref of g.stepRefs)
      step.refs.push({
        key: `gate.${ref.key}`,
        id: ref.id,
        origin: { file, path: `${path}.gate.${ref.key}` },
      });
  } else if (raw.type === 'human') {
    // beads' step type for work a person does: run it as a checkpoint any configured person
    // decides, so an agent cannot close it by saying "done".
    const g = normalizeGate({ type: 'human' });
    if (g.gate) step.gate = g.gate;
  }
}

function addOnComplete(
  r: ResolveContext,
  oc: RawOnComplete,
  step: WorkStep,
  path: string,
  file: string,
): void {
  const ocPath = { file, path: `${path}.on_complete` };
  if ((oc.for_each === undefined) !== (oc.bond === undefined))
    r.error('formula.on-complete', ocPath, 'for_each and bond go together');
  if (oc.for_each !== undefined && !oc.for_each.startsWith('output.')) {
    r.error(
      'formula.on-complete',
      { file, path: `${path}.on_complete.for_each` },
      `for_each must start with "output." (got "${oc.for_each}")`,
    );
  }
  if (oc.parallel && oc.sequential)
    r.error('formula.on-complete', ocPath, 'parallel and sequential exclude each other');
  if (oc.for_each !== undefined && oc.bond !== undefined) {
    const out: OnComplete = { for_each: oc.for_each, bond: oc.bond, vars: oc.vars ?? {} };
    if (oc.parallel !== undefined || oc.sequential !== undefined)
      out.parallel = oc.parallel === true || oc.sequential !== true;
    step.on_complete = out;
    if (oc.sequential !== undefined) step.extra.on_complete = { sequential: oc.sequential };
  }
}
