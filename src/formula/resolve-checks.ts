// Checks on a composed formula: duplicate ids, the step graph (storable ids, known needs and
// references, no cycle, not too many steps) and placeholders that name nothing declared.
import { pathSegmentProblem } from '../store/ids.js';
import { findCycle } from './graph.js';
import { MAX_STEPS } from './limits.js';
import type { ResolveContext } from './resolve-context.js';
import { forEachString } from './resolve-steps.js';
import type { At, Composed, WorkStep } from './resolve-types.js';
import { placeholderNames, RUNTIME_PLACEHOLDERS } from './vars.js';

/** Go-template actions that look like `{{name}}` (Gas Town's prose keeps them verbatim). */
const GO_TEMPLATE_WORDS = new Set(['else', 'end', 'break', 'continue']);

export function checkDuplicateIds(r: ResolveContext, steps: readonly WorkStep[]): void {
  const first = new Map<string, WorkStep>();
  for (const s of steps) {
    const prev = first.get(s.id);
    if (prev) {
      r.error(
        'formula.duplicate-id',
        { file: s.origin.file, path: `${s.origin.path}.id` },
        `duplicate step id "${s.id}" (first defined at ${prev.origin.path})`,
      );
    } else first.set(s.id, s);
  }
}

export function checkGraph(r: ResolveContext, c: Composed, at: At): void {
  if (c.steps.length > MAX_STEPS) {
    r.error(
      'formula.too-many-steps',
      at('steps'),
      `${c.steps.length} steps after expansion; the limit is ${MAX_STEPS}`,
    );
    return;
  }
  checkDuplicateIds(r, c.steps);
  const ids = new Set(c.steps.map((s) => s.id));
  for (const s of c.steps) checkStepLinks(r, s, ids);
  if (c.type === 'workflow' && c.steps.length === 0) {
    r.error('formula.empty', at('steps'), 'a workflow needs at least one step');
  }
  const cycle = findCycle(c.steps);
  if (cycle) {
    const s = c.steps.find((x) => x.id === cycle[0])!;
    const o = s.needPaths.get(cycle[1]!) ?? s.origin;
    r.error('formula.cycle', o, `dependency cycle: ${cycle.join(' -> ')}`);
  }
}

/** One step's final id can be stored, and what it needs and names are steps of the formula. */
function checkStepLinks(r: ResolveContext, s: WorkStep, ids: ReadonlySet<string>): void {
  // Ids made by expansion, advice or aliases, once their placeholders are filled in.
  const problem = pathSegmentProblem(s.id);
  if (problem)
    r.error(
      'formula.step-id',
      { file: s.origin.file, path: `${s.origin.path}.id` },
      `step id "${s.id}" cannot be stored: ${problem}`,
    );
  for (const n of s.needs) {
    if (!ids.has(n)) {
      const o = s.needPaths.get(n) ?? s.origin;
      r.error('formula.unknown-need', o, `step "${s.id}" needs unknown step "${n}"`);
    } else if (n === s.id) {
      r.error('formula.cycle', s.needPaths.get(n) ?? s.origin, `step "${s.id}" needs itself`);
    }
  }
  for (const ref of s.refs) {
    if (!ids.has(ref.id))
      r.error('formula.unknown-step', ref.origin, `${ref.key} names unknown step "${ref.id}"`);
  }
}

/**
 * `{{name}}` in a step that names no declared var, input or runtime value: a typo or a missing
 * `[vars.name]`. It stays as written in every molecule, so it is a warning naming the field.
 * Expansions and aspects are checked where they are applied (their vars are the host's).
 */
export function checkPlaceholders(r: ResolveContext, c: Composed): void {
  if (c.type === 'expansion' || c.type === 'aspect') return;
  const known = new Set([...Object.keys(c.vars), ...Object.keys(c.inputs), ...RUNTIME_PLACEHOLDERS]);
  for (const s of c.steps) {
    const step = s as unknown as Record<string, unknown>;
    for (const field of PLACEHOLDER_FIELDS) {
      const value = step[field];
      if (value === undefined) continue;
      // Most fields are text without a placeholder: no walk, no closure.
      if (typeof value === 'string') {
        if (value.includes('{{')) warnUndeclared(r, s, known, value, field);
      } else forEachString(value, field, (text, path) => warnUndeclared(r, s, known, text, path));
    }
  }
}

const PLACEHOLDER_FIELDS = [
  'title',
  'description',
  'acceptance',
  'assignee',
  'notes',
  'labels',
  'condition',
  'gate',
];

function warnUndeclared(
  r: ResolveContext,
  s: WorkStep,
  known: ReadonlySet<string>,
  text: string,
  path: string,
): void {
  for (const name of placeholderNames(text)) {
    if (known.has(name) || GO_TEMPLATE_WORDS.has(name)) continue;
    r.warn(
      'formula.var-undeclared',
      { file: s.origin.file, path: `${s.origin.path}.${path}` },
      `step "${s.id}" uses {{${name}}}, which no [vars.${name}] or input declares; it stays as written (declare it, or fix the name)`,
    );
  }
}
