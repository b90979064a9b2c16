// Resolution: one formula file plus everything it refers to (extends, compose.expand/map, aspects,
// inline expand) becomes one flat, validated list of steps in stable topological order.
// Pure: files come from the injected FormulaLibrary; nothing here touches the disk.
//
// The parts, one concern a module: resolve-context (diagnostics, referenced formulas composed
// once), resolve-compose (one file: name, type, extends, the order of everything below),
// resolve-vars, resolve-work-step (one raw step), resolve-lower (children, inline expansions,
// templates), resolve-loops, resolve-convoy, resolve-expansions (compose.expand/map/branch),
// resolve-advice (aspects), resolve-checks (ids, graph, placeholders), resolve-steps (step-list
// edits) and resolve-types.
import { isPathSegment } from '../store/ids.js';
import { topoIndexes } from './graph.js';
import { setLazyHash } from './hash.js';
import type { ResolvedFormula, ResolvedStep } from './model.js';
import { checkPlaceholders } from './resolve-checks.js';
import { composeFile } from './resolve-compose.js';
import { ResolveContext } from './resolve-context.js';
import type {
  Composed,
  FormulaLibrary,
  FormulaResult,
  FormulaSource,
  ResolveOptions,
  WorkStep,
} from './resolve-types.js';
import type { RawFormula } from './schema.js';

export { MAX_STEPS } from './limits.js';
export { stem } from './resolve-context.js';
export type { FormulaLibrary, FormulaResult, FormulaSource, ResolveOptions } from './resolve-types.js';
export { varOrigin } from './resolve-vars.js';

/** Step ids become file names and commit trailers: the store's rule (store/ids.ts). */
export const isSafeId = isPathSegment;

export function resolveSource(
  source: FormulaSource,
  lib: FormulaLibrary,
  opts: ResolveOptions = {},
): FormulaResult {
  const r = new ResolveContext(lib, opts, composeFile);
  const composed = r.compose(source);
  let formula: ResolvedFormula | undefined;
  if (composed) formula = finish(r, composed);
  const diagnostics = r.diagnostics();
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  if (formula) formula.warnings = diagnostics.filter((d) => d.severity === 'warning');
  return { ...(formula ? { formula } : {}), diagnostics };
}

/** The composed formula flattened: steps in topological order, without their origins. */
function finish(r: ResolveContext, c: Composed): ResolvedFormula {
  checkPlaceholders(r, c);
  const raw = c.raw;
  const order = topoIndexes(c.steps);
  const steps: ResolvedStep[] = new Array(order.length);
  for (let i = 0; i < order.length; i++) steps[i] = publicStep(c.steps[order[i]!]!);
  const f: ResolvedFormula = {
    formula: c.name,
    description: raw.description ?? '',
    type: c.type,
    source: c.file,
    hash: '',
    vars: c.vars,
    steps,
    legs: c.legs,
    inputs: c.inputs,
    presets: c.presets,
    prompts: raw.prompts ?? {},
    warnings: [],
    extra: c.extra,
  };
  if (raw.version !== undefined) f.version = raw.version;
  if (c.synthesis) f.synthesis = c.synthesis;
  if (raw.output !== undefined) f.output = raw.output;
  if (raw.squash !== undefined) f.squash = raw.squash;
  if (raw.pour !== undefined) f.pour = raw.pour;
  if (raw.phase !== undefined) f.phase = raw.phase;
  if (raw.agent !== undefined) f.agent = raw.agent;
  if (raw.review_only !== undefined) f.review_only = raw.review_only;
  const definition = pickDefinition(raw);
  if (definition) f.definition = definition;
  return setLazyHash(f);
}

/**
 * The step without what only resolution uses (origin, need paths, references), keys in their
 * order. A loop, not rest destructuring: that is a slow generic copy in V8, once per step.
 */
function publicStep(s: WorkStep): ResolvedStep {
  const step: Record<string, unknown> = {};
  for (const k in s)
    if (k !== 'origin' && k !== 'needPaths' && k !== 'refs') step[k] = s[k as keyof WorkStep];
  return step as unknown as ResolvedStep;
}

/** Structure resolution consumed, kept verbatim so nothing a file said is lost. */
function pickDefinition(raw: RawFormula): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const k of ['extends', 'compose', 'advice', 'pointcuts', 'template', 'aspects'] as const) {
    if (raw[k] !== undefined) out[k] = raw[k];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
