// One formula file composed: its name and type, what it inherits (`extends`), its vars and own
// steps, then its convoy parts, expansions, advice and aspects, with replaced ids aliased and the
// graph checked. The parts live in the resolve-*.ts module named after each.
import { isFormulaName } from '../store/ids.js';
import type { FormulaType } from './model.js';
import { applyAdviceAndAspects, aspectSteps } from './resolve-advice.js';
import { checkDuplicateIds, checkGraph } from './resolve-checks.js';
import { type ResolveContext, stem } from './resolve-context.js';
import { convoyParts } from './resolve-convoy.js';
import { applyCompose, expandLoneTemplate } from './resolve-expansions.js';
import { lowerList } from './resolve-lower.js';
import { mergeById } from './resolve-steps.js';
import type { At, Composed, FormulaSource, Origin, WorkStep } from './resolve-types.js';
import { declareVars, defaultsOf } from './resolve-vars.js';
import { type RawFormula, TOP_KEYS } from './schema.js';

const FORMULA_TYPES: readonly FormulaType[] = ['workflow', 'convoy', 'expansion', 'aspect'];

export function composeFile(r: ResolveContext, source: FormulaSource): Composed | undefined {
  const raw = r.load(source).raw;
  if (!raw) return undefined;
  const file = source.file;
  const at = (path: string): Origin => ({ file, path });
  const errorsBefore = r.errorCount();
  const name = formulaName(r, raw, file, at);
  const parents = raw.extends === undefined ? [] : Array.isArray(raw.extends) ? raw.extends : [raw.extends];
  const c = emptyComposed(file, name, formulaType(r, raw, parents.length > 0, at), raw);
  inherit(r, c, parents, at);
  Object.assign(c.vars, declareVars(r, raw, at));
  const rangeVars = { ...defaultsOf(c.vars), ...r.opts.vars };
  const own: WorkStep[] = [];
  lowerList(r, raw.steps ?? [], 'steps', file, own, c, rangeVars);
  checkDuplicateIds(r, own);
  c.steps = mergeById(c.steps, own);
  convoyParts(r, raw, c, at);
  if (c.type === 'expansion') expandLoneTemplate(r, c, at);
  if (c.type === 'aspect') aspectSteps(r, c);
  applyCompose(r, c, at);
  applyAdviceAndAspects(r, c, at);
  applyAliases(c);
  if (r.errorCount() === errorsBefore) checkGraph(r, c, at);
  return c;
}

function formulaName(r: ResolveContext, raw: RawFormula, file: string, at: At): string {
  const name = raw.formula;
  if (name === undefined || name.trim() === '') {
    r.error('formula.name', at('formula'), 'the formula name is required (`formula = "name"`)');
    return stem(file);
  }
  if (!isFormulaName(name))
    r.error(
      'formula.name',
      at('formula'),
      `formula name "${name}" may only contain letters, digits, ".", "_" and "-"`,
    );
  return name;
}

function formulaType(r: ResolveContext, raw: RawFormula, hasParents: boolean, at: At): FormulaType {
  if (raw.type !== undefined) {
    if ((FORMULA_TYPES as readonly string[]).includes(raw.type)) return raw.type as FormulaType;
    r.error('formula.type', at('type'), `type "${raw.type}" must be one of ${FORMULA_TYPES.join(', ')}`);
  }
  // Gas Town's inference, extended to beads' keys.
  if ((raw.steps?.length ?? 0) > 0 || hasParents) return 'workflow';
  if ((raw.legs?.length ?? 0) > 0) return 'convoy';
  if ((raw.template?.length ?? 0) > 0) return 'expansion';
  if ((raw.aspects?.length ?? 0) > 0 || (raw.advice?.length ?? 0) > 0) return 'aspect';
  if (raw.type === undefined) {
    r.error(
      'formula.type',
      at(''),
      'cannot tell the formula type: it has no steps, legs, template, aspects or advice',
    );
  }
  return 'workflow';
}

function emptyComposed(file: string, name: string, type: FormulaType, raw: RawFormula): Composed {
  return {
    file,
    name,
    type,
    raw,
    vars: {},
    steps: [],
    aliasLast: new Map(),
    aliasFirst: new Map(),
    legs: [],
    inputs: {},
    presets: {},
    extra: pickExtra(raw),
  };
}

/** Parents in order, before the file's own definitions, so the child's override them by id. */
function inherit(r: ResolveContext, c: Composed, parents: readonly string[], at: At): void {
  parents.forEach((parentName, i) => {
    const origin = at(Array.isArray(c.raw.extends) ? `extends[${i}]` : 'extends');
    const p = r.composeRef(parentName, origin, 'parent formula');
    if (!p) return;
    Object.assign(c.vars, p.vars);
    c.steps = mergeById(c.steps, p.steps);
    for (const [k, v] of p.aliasLast) c.aliasLast.set(k, v);
    for (const [k, v] of p.aliasFirst) c.aliasFirst.set(k, v);
    c.legs = mergeById(c.legs, p.legs);
    c.synthesis = p.synthesis ?? c.synthesis;
    Object.assign(c.inputs, p.inputs);
    Object.assign(c.presets, p.presets);
  });
}

/** Needs on a replaced id move to its last step; gates re-opening it (and refs) to its first. */
function applyAliases(c: Composed): void {
  if (c.aliasLast.size === 0 && c.aliasFirst.size === 0) return;
  const final = (map: Map<string, string>, id: string): string => {
    let cur = id;
    for (let hops = 0; map.has(cur) && hops < 64; hops++) cur = map.get(cur)!;
    return cur;
  };
  for (const s of c.steps) {
    if (s.needs.some((n) => c.aliasLast.has(n))) {
      const needs: string[] = [];
      const paths = new Map<string, Origin>();
      for (const n of s.needs) {
        const to = final(c.aliasLast, n);
        if (to === s.id || paths.has(to)) continue;
        needs.push(to);
        paths.set(to, s.needPaths.get(n) ?? s.origin);
      }
      s.needs = needs;
      s.needPaths = paths;
    }
    for (const ref of s.refs) ref.id = final(c.aliasFirst, ref.id);
    const gate = s.gate as { on_reject?: string; on_fail?: string } | undefined;
    if (gate?.on_reject) gate.on_reject = final(c.aliasFirst, gate.on_reject);
    if (gate?.on_fail) gate.on_fail = final(c.aliasFirst, gate.on_fail);
  }
}

function pickExtra(raw: RawFormula): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!TOP_KEYS.has(k)) out[k] = v;
  return out;
}
