// Loops lowered once their body is: `until` stays one runtime loop the engine re-opens; `count`
// and `range` unroll into numbered copies of the body (`<id>.iter<n>.<step>`), each copy after
// the previous one. resolve-lower.ts lowers the outer step and the body and calls these.
import { MAX_STEPS } from './limits.js';
import type { ResolveContext } from './resolve-context.js';
import { addNeed, prefixStep } from './resolve-steps.js';
import type { Composed, Origin, WorkStep } from './resolve-types.js';
import { rawIdProblem } from './resolve-work-step.js';
import type { RawLoop, RawStep } from './schema.js';
import { evaluateRange, rangeVarNames } from './vars.js';

/** The origin of a key under a loop's `loop` table (`''` for the table itself). */
export type LoopAt = (key: string) => Origin;

/** A loop whose outer step and body are lowered, ready to be expanded. */
export interface LoweredLoop {
  id: string;
  /** The loop step itself, without its loop table. */
  outer: WorkStep;
  body: readonly WorkStep[];
  at: LoopAt;
}

export function loopAt(file: string, path: string): LoopAt {
  return (key) => ({ file, path: `${path}.loop${key ? `.${key}` : ''}` });
}

/** The loop step's id when its id and loop table are well formed; otherwise reports and undefined. */
export function checkLoop(r: ResolveContext, raw: RawStep, path: string, file: string): string | undefined {
  const loop = raw.loop!;
  const at = loopAt(file, path);
  const id = raw.id;
  const problem = id === undefined ? 'id is required' : rawIdProblem(id);
  if (id === undefined || problem) {
    r.error(
      'formula.step-id',
      { file, path: `${path}.id` },
      id === undefined ? 'id is required' : `step id "${id}" cannot be stored: ${problem}`,
    );
    return undefined;
  }
  const kinds = [loop.count !== undefined, loop.until !== undefined, loop.range !== undefined].filter(
    Boolean,
  ).length;
  if (kinds !== 1) {
    r.error(
      'formula.loop',
      at(''),
      kinds === 0
        ? 'a loop needs one of count, range or until'
        : 'a loop takes only one of count, range or until',
    );
    return undefined;
  }
  if (!loop.body || loop.body.length === 0) {
    r.error('formula.loop', at('body'), 'a loop needs a body of steps');
    return undefined;
  }
  return id;
}

/** An `until` loop: the body once, and the loop step as a container the engine re-opens. */
export function lowerRuntimeLoop(
  r: ResolveContext,
  loop: RawLoop,
  lowered: LoweredLoop,
  out: WorkStep[],
): void {
  const { id, outer, body, at } = lowered;
  if (loop.max === undefined || loop.max < 1) {
    r.error('formula.loop', at('max'), 'max (at least 1) is required with until, so the loop ends');
    return;
  }
  const bodyIds = new Set(body.map((s) => s.id));
  const copies = body.map((s) => prefixStep(s, `${id}.`, bodyIds, {}));
  for (const s of copies) {
    if (!s.needs.some((n) => n.startsWith(`${id}.`) && bodyIds.has(n.slice(id.length + 1)))) {
      for (const n of outer.needs) addNeed(s, n, outer.needPaths.get(n) ?? outer.origin);
    }
  }
  outer.needs = [];
  outer.needPaths = new Map();
  for (const s of copies) addNeed(outer, s.id, at('body'));
  outer.loop = { until: loop.until!, max: loop.max, body: copies.map((s) => s.id) };
  out.push(...copies, outer);
}

/**
 * One entry per iteration of a `count` or `range` loop: the loop variable's value (none for
 * `count`), or undefined after reporting why the loop cannot be unrolled.
 */
export function loopValues(
  r: ResolveContext,
  loop: RawLoop,
  bodySize: number,
  rangeVars: Record<string, string>,
  at: LoopAt,
): (number | undefined)[] | undefined {
  let values: (number | undefined)[] | undefined;
  if (loop.count !== undefined) {
    if (loop.count < 1) {
      r.error('formula.loop', at('count'), 'count must be at least 1');
      return undefined;
    }
    values = Array.from({ length: loop.count }, () => undefined);
  } else {
    values = rangeValues(r, loop.range!, bodySize, rangeVars, at);
    if (!values) return undefined;
  }
  if (values.length * bodySize > MAX_STEPS) {
    r.error('formula.too-many-steps', at('count'), `loop would make more than ${MAX_STEPS} steps`);
    return undefined;
  }
  return values;
}

/** The values of `range` ("1..{n}"), evaluated with the vars known now. */
function rangeValues(
  r: ResolveContext,
  range: string,
  bodySize: number,
  rangeVars: Record<string, string>,
  at: LoopAt,
): number[] | undefined {
  let bounds: { start: number; end: number };
  try {
    bounds = evaluateRange(range, rangeVars);
  } catch (e) {
    const missing = rangeVarNames(range).filter((n) => rangeVars[n] === undefined);
    if (missing.length > 0 && r.opts.vars === undefined) {
      // Bounds come from vars given at cook time; check the body once meanwhile.
      r.warn(
        'formula.range-unresolved',
        at('range'),
        `range "${range}" needs ${missing.map((m) => `--var ${m}=N`).join(' ')}; unrolled once here`,
      );
      bounds = { start: 1, end: 1 };
    } else {
      r.error('formula.loop', at('range'), (e as Error).message);
      return undefined;
    }
  }
  if (bounds.end < bounds.start) {
    r.error('formula.loop', at('range'), `range "${range}" is empty (${bounds.start}..${bounds.end})`);
    return undefined;
  }
  if ((bounds.end - bounds.start + 1) * bodySize > MAX_STEPS) {
    r.error(
      'formula.too-many-steps',
      at('range'),
      `range "${range}" would make more than ${MAX_STEPS} steps`,
    );
    return undefined;
  }
  const values: number[] = [];
  for (let v = bounds.start; v <= bounds.end; v++) values.push(v);
  return values;
}

/**
 * The body copied once per value, each copy after the previous one (the first after the loop
 * step's needs); the loop id becomes an alias of the first and last copied steps.
 */
export function unrollLoop(
  c: Composed,
  loopVar: string | undefined,
  values: readonly (number | undefined)[],
  lowered: LoweredLoop,
  out: WorkStep[],
): void {
  const { id, outer, body, at } = lowered;
  const bodyIds = new Set(body.map((s) => s.id));
  let previousLast: string | undefined;
  let first: string | undefined;
  values.forEach((value, n) => {
    const prefix = `${id}.iter${n + 1}.`;
    const loopVars = loopVar !== undefined && value !== undefined ? { [loopVar]: String(value) } : {};
    const copies = body.map((s) => prefixStep(s, prefix, bodyIds, loopVars));
    for (const s of copies) {
      const internal = s.needs.some((x) => x.startsWith(prefix));
      if (internal) continue;
      if (previousLast) addNeed(s, previousLast, at(''));
      else for (const x of outer.needs) addNeed(s, x, outer.needPaths.get(x) ?? outer.origin);
    }
    first ??= copies[0]!.id;
    previousLast = copies.at(-1)!.id;
    out.push(...copies);
  });
  c.aliasLast.set(id, previousLast!);
  c.aliasFirst.set(id, first!);
}
