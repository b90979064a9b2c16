// Resolution: one formula file plus everything it refers to (extends, compose.expand/map, aspects,
// inline expand) becomes one flat, validated list of steps in stable topological order.
// Pure: files come from the injected FormulaLibrary; nothing here touches the disk.

import { isFormulaName, isPathSegment, pathSegmentProblem } from '../store/ids.js';
import { normalizeGate } from './gates.js';
import { findCycle, topoOrder } from './graph.js';
import { setLazyHash } from './hash.js';
import { lineOfPath, tomlKeyLines } from './locate.js';
import type {
  Diagnostic,
  FormulaType,
  InputDef,
  Leg,
  OnComplete,
  Preset,
  ResolvedFormula,
  ResolvedStep,
  Severity,
  VarDef,
} from './model.js';
import { type ParsedFile, parseFormulaText } from './parse.js';
import { patternMatches, patternProblem } from './pattern.js';
import {
  addNeed,
  forEachString,
  mapStrings,
  matchGlob,
  matchPointcut,
  mergeById,
  prefixStep,
  replaceTarget,
  rewire,
} from './resolve-steps.js';
import type { Composed, Origin, TargetInfo, WorkStep } from './resolve-types.js';
import {
  type RawAdvice,
  type RawFormula,
  type RawNamed,
  type RawStep,
  STEP_KEYS,
  TOP_KEYS,
} from './schema.js';
import {
  evaluateRange,
  isVarName,
  placeholderNames,
  RUNTIME_PLACEHOLDERS,
  rangeVarNames,
  reservedVarProblem,
  substituteVars,
} from './vars.js';

export interface FormulaSource {
  file: string;
  text: string;
  /** Size in bytes when the library did not read the text because it is over the limit. */
  size?: number;
}

export interface FormulaLibrary {
  /** By name: first search dir wins (repo .beads/formulas shadows built-ins). */
  find(name: string): FormulaSource | undefined;
  list(): { name: string; file: string }[];
}

export interface FormulaResult {
  /** Undefined if and only if a diagnostic is an error. */
  formula?: ResolvedFormula;
  diagnostics: Diagnostic[];
}

/** After unrolling loops and expansions a formula may not have more steps than this. */
export const MAX_STEPS = 20_000;
const FORMULA_TYPES: readonly FormulaType[] = ['workflow', 'convoy', 'expansion', 'aspect'];

/** Options for the resolver: variables known now (range bounds) and the target of a lone expansion. */
export interface ResolveOptions {
  vars?: Record<string, string>;
  target?: string;
}

/**
 * Where each var was declared, which is not always the formula's own file (a parent's, through
 * `extends`): cooking reports a missing value there. Kept beside the definitions, not in them,
 * so frozen formulas and their hashes do not change.
 */
const varOrigins = new WeakMap<VarDef, Origin>();

/** The file and key path that declared `def`, when it came from the resolver. */
export function varOrigin(def: VarDef): { file: string; path: string } | undefined {
  return varOrigins.get(def);
}

export function resolveSource(
  source: FormulaSource,
  lib: FormulaLibrary,
  opts: ResolveOptions = {},
): FormulaResult {
  const r = new Resolver(lib, opts);
  const composed = r.compose(source);
  let formula: ResolvedFormula | undefined;
  if (composed) formula = r.finish(composed);
  const diagnostics = r.diagnostics();
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  if (formula) formula.warnings = diagnostics.filter((d) => d.severity === 'warning');
  return { ...(formula ? { formula } : {}), diagnostics };
}

class Resolver {
  private readonly diags: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  private readonly parsed = new Map<string, ParsedFile>();
  private readonly memo = new Map<string, Composed | null>();
  private readonly stack: string[] = [];

  constructor(
    private readonly lib: FormulaLibrary,
    private readonly opts: ResolveOptions,
  ) {}

  report(severity: Severity, code: string, origin: Origin, message: string): void {
    const key = `${severity}\0${code}\0${origin.file}\0${origin.path}\0${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.diags.push({ severity, code, file: origin.file, path: origin.path, message });
  }
  error(code: string, origin: Origin, message: string): void {
    this.report('error', code, origin, message);
  }
  warn(code: string, origin: Origin, message: string): void {
    this.report('warning', code, origin, message);
  }

  /** All diagnostics with lines filled in from the TOML text where the parser gave none. */
  diagnostics(): Diagnostic[] {
    const lineMaps = new Map<string, Map<string, number>>();
    return this.diags.map((d) => {
      if (d.line !== undefined || d.path === '') return d;
      const pf = this.parsed.get(d.file);
      if (!pf?.isToml) return d;
      let lines = lineMaps.get(d.file);
      if (!lines) lineMaps.set(d.file, (lines = tomlKeyLines(pf.text)));
      const line = lineOfPath(lines, d.path);
      return line === undefined ? d : { ...d, line };
    });
  }

  private load(source: FormulaSource): ParsedFile {
    const pf = parseFormulaText(source.file, source.text, source.size);
    if (!this.parsed.has(source.file)) {
      this.parsed.set(source.file, pf);
      for (const d of pf.diagnostics) {
        const key = `${d.severity}\0${d.code}\0${d.file}\0${d.path}\0${d.message}`;
        if (!this.seen.has(key)) {
          this.seen.add(key);
          this.diags.push(d);
        }
      }
    }
    return pf;
  }

  /** Looks a referenced formula up; reports a missing one at `origin`. */
  private find(name: string, origin: Origin, what: string): FormulaSource | undefined {
    const src = this.lib.find(name);
    if (!src)
      this.error('formula.not-found', origin, `${what} "${name}" not found in the formula search path`);
    return src;
  }

  /** A referenced formula, composed, of the wanted type. */
  private composeRef(name: string, origin: Origin, what: string, type?: FormulaType): Composed | undefined {
    const src = this.find(name, origin, what);
    if (!src) return undefined;
    if (this.stack.includes(src.file)) {
      const names = this.stack.map((f) => this.memoName(f));
      const from = this.stack.indexOf(src.file);
      this.error(
        'formula.extends-cycle',
        origin,
        `formulas refer to each other in a cycle: ${[...names.slice(from), this.memoName(src.file)].join(' -> ')}`,
      );
      return undefined;
    }
    const c = this.compose(src);
    if (!c) {
      this.error('formula.ref-invalid', origin, `${what} "${name}" (${src.file}) has errors`);
      return undefined;
    }
    if (type && c.type !== type) {
      this.error(
        'formula.ref-type',
        origin,
        `${what} "${name}" is a ${c.type} formula, not ${type === 'aspect' ? 'an' : 'a'} ${type}`,
      );
      return undefined;
    }
    return c;
  }

  private memoName(file: string): string {
    const pf = this.parsed.get(file);
    return pf?.raw?.formula ?? stem(file);
  }

  compose(source: FormulaSource): Composed | undefined {
    const cached = this.memo.get(source.file);
    if (cached !== undefined) return cached ?? undefined;
    this.stack.push(source.file);
    try {
      const c = this.composeUncached(source);
      this.memo.set(source.file, c ?? null);
      return c;
    } finally {
      this.stack.pop();
    }
  }

  private composeUncached(source: FormulaSource): Composed | undefined {
    const pf = this.load(source);
    const raw = pf.raw;
    if (!raw) return undefined;
    const file = source.file;
    const at = (path: string): Origin => ({ file, path });
    const errorsBefore = this.errorCount();

    let name = raw.formula;
    if (name === undefined || name.trim() === '') {
      this.error('formula.name', at('formula'), 'the formula name is required (`formula = "name"`)');
      name = stem(file);
    } else if (!isFormulaName(name)) {
      this.error(
        'formula.name',
        at('formula'),
        `formula name "${name}" may only contain letters, digits, ".", "_" and "-"`,
      );
    }

    const parents = raw.extends === undefined ? [] : Array.isArray(raw.extends) ? raw.extends : [raw.extends];
    const type = this.formulaType(raw, parents.length > 0, at);
    const c: Composed = {
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

    // Inherit first, so the child's own definitions override by id.
    parents.forEach((parentName, i) => {
      const origin = at(Array.isArray(raw.extends) ? `extends[${i}]` : 'extends');
      const p = this.composeRef(parentName, origin, 'parent formula');
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

    Object.assign(c.vars, this.vars(raw, at));
    const rangeVars = { ...defaultsOf(c.vars), ...this.opts.vars };
    const own: WorkStep[] = [];
    this.lowerList(raw.steps ?? [], 'steps', file, own, c, rangeVars);
    this.checkDuplicateIds(own);
    c.steps = mergeById(c.steps, own);

    this.convoyParts(raw, c, at);

    if (type === 'expansion') {
      const target: TargetInfo = {
        id: this.opts.target ?? 'main',
        title: this.opts.target ?? 'main',
        description: raw.description ?? '',
      };
      const problem = pathSegmentProblem(target.id);
      if (problem)
        this.error(
          'formula.target',
          at('template'),
          `target "${target.id}" is not a valid step id: ${problem}`,
        );
      const steps = this.expandTemplate(c, target, [], new Map(), undefined);
      if (steps) c.steps = mergeById(c.steps, steps);
    }
    if (type === 'aspect') {
      // Gas Town's analysis aspects run like convoy legs: parallel steps.
      (raw.aspects ?? []).forEach((a, i) => {
        if (typeof a === 'string') return;
        const s = this.namedStep(a, `aspects[${i}]`, file);
        if (s) c.steps.push(s);
      });
    }

    this.applyCompose(c, at, rangeVars);
    if (raw.advice && raw.steps) {
      const rules = raw.advice.map((rule, i) => ({ rule, path: `advice[${i}]`, file }));
      this.applyAdvice(c, rules, raw.pointcuts ?? []);
    }
    const topAspectNames = (raw.aspects ?? []).filter((a): a is string => typeof a === 'string');
    const aspectNames = [...(raw.compose?.aspects ?? []), ...topAspectNames];
    aspectNames.forEach((aspectName, i) => {
      const path =
        i < (raw.compose?.aspects?.length ?? 0)
          ? `compose.aspects[${i}]`
          : `aspects[${i - (raw.compose?.aspects?.length ?? 0)}]`;
      const a = this.composeRef(aspectName, at(path), 'aspect', 'aspect');
      if (!a) return;
      const rules = (a.raw.advice ?? []).map((rule, j) => ({ rule, path: `advice[${j}]`, file: a.file }));
      if (rules.length === 0)
        this.warn('formula.aspect-empty', at(path), `aspect "${aspectName}" has no advice to apply`);
      this.applyAdvice(c, rules, a.raw.pointcuts ?? []);
    });

    this.applyAliases(c);
    if (this.errorCount() === errorsBefore) this.checkGraph(c, at);
    return c;
  }

  private errorCount(): number {
    let n = 0;
    for (const d of this.diags) if (d.severity === 'error') n++;
    return n;
  }

  private formulaType(raw: RawFormula, hasParents: boolean, at: (p: string) => Origin): FormulaType {
    if (raw.type !== undefined) {
      if ((FORMULA_TYPES as readonly string[]).includes(raw.type)) return raw.type as FormulaType;
      this.error('formula.type', at('type'), `type "${raw.type}" must be one of ${FORMULA_TYPES.join(', ')}`);
    }
    // Gas Town's inference, extended to beads' keys.
    if ((raw.steps?.length ?? 0) > 0 || hasParents) return 'workflow';
    if ((raw.legs?.length ?? 0) > 0) return 'convoy';
    if ((raw.template?.length ?? 0) > 0) return 'expansion';
    if ((raw.aspects?.length ?? 0) > 0 || (raw.advice?.length ?? 0) > 0) return 'aspect';
    if (raw.type === undefined) {
      this.error(
        'formula.type',
        at(''),
        'cannot tell the formula type: it has no steps, legs, template, aspects or advice',
      );
    }
    return 'workflow';
  }

  private vars(raw: RawFormula, at: (p: string) => Origin): Record<string, VarDef> {
    const out: Record<string, VarDef> = {};
    for (const [name, v] of Object.entries(raw.vars ?? {})) {
      const path = `vars.${name}`;
      if (!isVarName(name)) {
        this.error(
          'formula.var-name',
          at(path),
          `variable name "${name}" may only contain letters, digits, "_" and "-"`,
        );
        continue;
      }
      const reserved = reservedVarProblem(name);
      if (reserved) {
        this.error('formula.var-name', at(path), reserved);
        continue;
      }
      if (typeof v !== 'object') {
        out[name] = { name, required: false, default: String(v) };
        varOrigins.set(out[name], at(path));
        continue;
      }
      const def: VarDef = { name, required: v.required === true };
      if (v.description !== undefined) def.description = v.description;
      if (v.default !== undefined) def.default = String(v.default);
      if (v.enum !== undefined) def.enum = v.enum.map(String);
      if (v.type !== undefined) def.type = v.type;
      if (v.pattern !== undefined) {
        def.pattern = v.pattern;
        const problem = patternProblem(v.pattern);
        if (problem) this.error('formula.var-pattern', at(`${path}.pattern`), problem);
      }
      if (def.required && def.default !== undefined) {
        this.warn(
          'formula.var-required-default',
          at(path),
          `var "${name}" is required and has a default; the default is used when no value is given`,
        );
      }
      if (def.default !== undefined && def.default !== '') {
        if (def.enum && !def.enum.includes(def.default)) {
          this.error(
            'formula.var-default',
            at(`${path}.default`),
            `default "${def.default}" is not one of ${def.enum.join(', ')}`,
          );
        }
        if (def.pattern && patternMatches(def.pattern, def.default) === false) {
          this.error(
            'formula.var-default',
            at(`${path}.default`),
            `default "${def.default}" does not match pattern ${def.pattern}`,
          );
        }
      }
      out[name] = def;
      varOrigins.set(def, at(path));
    }
    return out;
  }

  // ---- steps ---------------------------------------------------------------------------------

  private workStep(raw: RawStep, path: string, file: string): WorkStep | undefined {
    const origin = { file, path };
    const id = raw.id;
    if (id === undefined || id === '') {
      this.error('formula.step-id', { file, path: `${path}.id` }, 'id is required');
      return undefined;
    }
    const problem = rawIdProblem(id);
    if (problem) {
      this.error(
        'formula.step-id',
        { file, path: `${path}.id` },
        `step id "${id}" cannot be stored: ${problem}`,
      );
      return undefined;
    }
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
    const step: WorkStep = {
      id,
      title: raw.title ?? id,
      description: raw.description ?? '',
      needs,
      labels: raw.labels ?? [],
      extra: {},
      origin,
      needPaths,
      refs: [],
    };
    if (raw.acceptance !== undefined) step.acceptance = raw.acceptance;
    if (raw.assignee !== undefined) step.assignee = raw.assignee;
    if (raw.type !== undefined) step.type = raw.type;
    if (raw.priority !== undefined) {
      if (raw.priority < 0 || raw.priority > 4)
        this.error('formula.priority', { file, path: `${path}.priority` }, 'priority must be 0-4');
      step.priority = raw.priority;
    }
    if (raw.metadata !== undefined) step.metadata = raw.metadata;
    if (raw.notes !== undefined) step.notes = raw.notes;
    if (raw.condition !== undefined && raw.condition.trim() !== '') step.condition = raw.condition;
    if (raw.parallel !== undefined) step.parallel = raw.parallel;
    if (raw.interactive !== undefined) step.interactive = raw.interactive;
    if (raw.waits_for !== undefined) {
      step.waits_for = raw.waits_for;
      const m = /^children-of\((.*)\)$/.exec(raw.waits_for);
      if (m) step.refs.push({ key: 'waits_for', id: m[1]!, origin: { file, path: `${path}.waits_for` } });
      else if (raw.waits_for !== 'all-children' && raw.waits_for !== 'any-children') {
        this.error(
          'formula.waits-for',
          { file, path: `${path}.waits_for` },
          `"${raw.waits_for}" must be all-children, any-children or children-of(<step>)`,
        );
      }
    }
    if (raw.gate !== undefined) {
      const g = normalizeGate(raw.gate);
      for (const p of g.problems) {
        this.report(p.severity, p.code, { file, path: `${path}.gate${p.key ? `.${p.key}` : ''}` }, p.message);
      }
      if (g.gate) step.gate = g.gate;
      if (Object.keys(g.unknown).length > 0) step.extra.gate = g.unknown;
      for (const r of g.stepRefs)
        step.refs.push({ key: `gate.${r.key}`, id: r.id, origin: { file, path: `${path}.gate.${r.key}` } });
    } else if (raw.type === 'human') {
      // beads' step type for work a person does: run it as a checkpoint any configured person
      // decides, so an agent cannot close it by saying "done".
      const g = normalizeGate({ type: 'human' });
      if (g.gate) step.gate = g.gate;
    }
    if (raw.on_complete !== undefined) {
      const oc = raw.on_complete;
      const ocPath = { file, path: `${path}.on_complete` };
      if ((oc.for_each === undefined) !== (oc.bond === undefined))
        this.error('formula.on-complete', ocPath, 'for_each and bond go together');
      if (oc.for_each !== undefined && !oc.for_each.startsWith('output.')) {
        this.error(
          'formula.on-complete',
          { file, path: `${path}.on_complete.for_each` },
          `for_each must start with "output." (got "${oc.for_each}")`,
        );
      }
      if (oc.parallel && oc.sequential)
        this.error('formula.on-complete', ocPath, 'parallel and sequential exclude each other');
      if (oc.for_each !== undefined && oc.bond !== undefined) {
        const out: OnComplete = { for_each: oc.for_each, bond: oc.bond, vars: oc.vars ?? {} };
        if (oc.parallel !== undefined || oc.sequential !== undefined)
          out.parallel = oc.parallel === true || oc.sequential !== true;
        step.on_complete = out;
        if (oc.sequential !== undefined) step.extra.on_complete = { sequential: oc.sequential };
      }
    }
    // Unknown keys (already reported) and keys a dialect defines that we do not model.
    for (const k of Object.keys(raw)) if (!STEP_KEYS.has(k)) step.extra[k] = raw[k as keyof RawStep];
    return step;
  }

  /** Lowers raw steps (children, loops, inline expansions) into `out`, in file order. */
  private lowerList(
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
        this.lowerLoop(raw, path, file, out, c, rangeVars);
        return;
      }
      if (raw.expand !== undefined) {
        this.lowerInlineExpand(raw, path, file, out, c);
        return;
      }
      const step = this.workStep(raw, path, file);
      if (!step) return;
      out.push(step);
      if (raw.children && raw.children.length > 0) {
        const kids: WorkStep[] = [];
        this.lowerList(raw.children, `${path}.children`, file, kids, c, rangeVars);
        // A parent completes after its children; children wait for what the parent waits for.
        for (const kid of kids) {
          for (const n of step.needs) addNeed(kid, n, step.needPaths.get(n) ?? step.origin);
        }
        // Aliases (a child that is a loop or an expansion) are resolved at the end of compose.
        raw.children.forEach((k, j) => {
          if (k.id !== undefined) addNeed(step, k.id, { file, path: `${path}.children[${j}]` });
        });
        out.push(...kids);
      }
    });
  }

  private lowerLoop(
    raw: RawStep,
    path: string,
    file: string,
    out: WorkStep[],
    c: Composed,
    rangeVars: Record<string, string>,
  ): void {
    const loop = raw.loop!;
    const at = (key: string): Origin => ({ file, path: `${path}.loop${key ? `.${key}` : ''}` });
    const id = raw.id;
    const problem = id === undefined ? 'id is required' : rawIdProblem(id);
    if (id === undefined || problem) {
      this.error(
        'formula.step-id',
        { file, path: `${path}.id` },
        id === undefined ? 'id is required' : `step id "${id}" cannot be stored: ${problem}`,
      );
      return;
    }
    const kinds = [loop.count !== undefined, loop.until !== undefined, loop.range !== undefined].filter(
      Boolean,
    ).length;
    if (kinds !== 1) {
      this.error(
        'formula.loop',
        at(''),
        kinds === 0
          ? 'a loop needs one of count, range or until'
          : 'a loop takes only one of count, range or until',
      );
      return;
    }
    if (!loop.body || loop.body.length === 0) {
      this.error('formula.loop', at('body'), 'a loop needs a body of steps');
      return;
    }
    const outer = this.workStep({ ...raw, loop: undefined, children: undefined }, path, file);
    if (!outer) return;
    const body: WorkStep[] = [];
    this.lowerList(loop.body, `${path}.loop.body`, file, body, c, rangeVars);
    if (body.length === 0) return;
    const bodyIds = new Set(body.map((s) => s.id));

    if (loop.until !== undefined) {
      if (loop.max === undefined || loop.max < 1) {
        this.error('formula.loop', at('max'), 'max (at least 1) is required with until, so the loop ends');
        return;
      }
      // Runtime loop: the body once, and the loop step as a container the engine re-opens.
      const copies = body.map((s) => prefixStep(s, `${id}.`, bodyIds, {}));
      for (const s of copies) {
        if (!s.needs.some((n) => n.startsWith(`${id}.`) && bodyIds.has(n.slice(id.length + 1)))) {
          for (const n of outer.needs) addNeed(s, n, outer.needPaths.get(n) ?? outer.origin);
        }
      }
      outer.needs = [];
      outer.needPaths = new Map();
      for (const s of copies) addNeed(outer, s.id, at('body'));
      outer.loop = { until: loop.until, max: loop.max, body: copies.map((s) => s.id) };
      out.push(...copies, outer);
      return;
    }

    let values: (number | undefined)[];
    if (loop.count !== undefined) {
      if (loop.count < 1) {
        this.error('formula.loop', at('count'), 'count must be at least 1');
        return;
      }
      values = Array.from({ length: loop.count }, () => undefined);
    } else {
      const range = loop.range!;
      let bounds: { start: number; end: number };
      try {
        bounds = evaluateRange(range, rangeVars);
      } catch (e) {
        const missing = rangeVarNames(range).filter((n) => rangeVars[n] === undefined);
        if (missing.length > 0 && this.opts.vars === undefined) {
          // Bounds come from vars given at cook time; check the body once meanwhile.
          this.warn(
            'formula.range-unresolved',
            at('range'),
            `range "${range}" needs ${missing.map((m) => `--var ${m}=N`).join(' ')}; unrolled once here`,
          );
          bounds = { start: 1, end: 1 };
        } else {
          this.error('formula.loop', at('range'), (e as Error).message);
          return;
        }
      }
      if (bounds.end < bounds.start) {
        this.error('formula.loop', at('range'), `range "${range}" is empty (${bounds.start}..${bounds.end})`);
        return;
      }
      if ((bounds.end - bounds.start + 1) * body.length > MAX_STEPS) {
        this.error(
          'formula.too-many-steps',
          at('range'),
          `range "${range}" would make more than ${MAX_STEPS} steps`,
        );
        return;
      }
      values = [];
      for (let v = bounds.start; v <= bounds.end; v++) values.push(v);
    }
    if (values.length * body.length > MAX_STEPS) {
      this.error('formula.too-many-steps', at('count'), `loop would make more than ${MAX_STEPS} steps`);
      return;
    }
    let previousLast: string | undefined;
    let first: string | undefined;
    values.forEach((value, n) => {
      const prefix = `${id}.iter${n + 1}.`;
      const loopVars = loop.var !== undefined && value !== undefined ? { [loop.var]: String(value) } : {};
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

  private lowerInlineExpand(raw: RawStep, path: string, file: string, out: WorkStep[], c: Composed): void {
    const target = this.workStep({ ...raw, expand: undefined }, path, file);
    if (!target) return;
    const exp = this.composeRef(raw.expand!, { file, path: `${path}.expand` }, 'expansion', 'expansion');
    if (!exp) return;
    const steps = this.expandTemplate(exp, target, target.needs, target.needPaths, raw.expand_vars);
    if (!steps || steps.length === 0) return;
    c.aliasLast.set(target.id, steps.at(-1)!.id);
    c.aliasFirst.set(target.id, steps[0]!.id);
    out.push(...steps);
  }

  /**
   * The template of expansion `exp` instantiated for `target`: `{target}`, `{target.id}`,
   * `{target.title}`, `{target.description}` replaced; template roots inherit the target's needs.
   */
  private expandTemplate(
    exp: Composed,
    target: TargetInfo,
    needs: readonly string[],
    needPaths: Map<string, Origin>,
    vars: Record<string, string> | undefined,
  ): WorkStep[] | undefined {
    const template = exp.raw.template ?? [];
    if (template.length === 0) {
      this.error(
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
    this.lowerList(raws, 'template', exp.file, steps, exp, {});
    const ids = new Set(steps.map((s) => s.id));
    for (const s of steps) {
      if (s.needs.some((n) => ids.has(n))) continue;
      for (const n of needs) addNeed(s, n, needPaths.get(n) ?? s.origin);
    }
    return steps;
  }

  private namedStep(n: RawNamed, path: string, file: string): WorkStep | undefined {
    const s = this.workStep({ id: n.id, title: n.title, description: n.description ?? '' }, path, file);
    if (!s) return undefined;
    s.parallel = true;
    if (n.focus !== undefined) s.extra.focus = n.focus;
    return s;
  }

  // ---- convoy --------------------------------------------------------------------------------

  private convoyParts(raw: RawFormula, c: Composed, at: (p: string) => Origin): void {
    const legIds = new Set(c.legs.map((l) => l.id));
    (raw.legs ?? []).forEach((l, i) => {
      const path = `legs[${i}]`;
      const problem = l.id === undefined ? undefined : pathSegmentProblem(l.id);
      if (l.id === undefined || problem) {
        this.error(
          'formula.leg-id',
          at(`${path}.id`),
          l.id === undefined ? 'id is required' : `leg id "${l.id}" cannot be stored: ${problem}`,
        );
        return;
      }
      if ((raw.legs ?? []).slice(0, i).some((x) => x.id === l.id)) {
        this.error('formula.duplicate-id', at(`${path}.id`), `duplicate leg id "${l.id}"`);
        return;
      }
      const leg: Leg = {
        id: l.id,
        title: l.title ?? l.id,
        description: l.description ?? '',
        extra: extraOf(l, ['id', 'title', 'description', 'focus']),
      };
      if (l.focus !== undefined) leg.focus = l.focus;
      c.legs = mergeById(c.legs, [leg]);
      legIds.add(l.id);
    });
    if (raw.synthesis) {
      const s = raw.synthesis;
      const id = s.id ?? 'synthesis';
      const problem = pathSegmentProblem(id);
      if (problem)
        this.error(
          'formula.step-id',
          at('synthesis.id'),
          `synthesis id "${id}" cannot be stored: ${problem}`,
        );
      if (legIds.has(id))
        this.error('formula.duplicate-id', at('synthesis'), `a leg is already called "${id}"`);
      (s.depends_on ?? []).forEach((d, i) => {
        if (!legIds.has(d))
          this.error(
            'formula.unknown-leg',
            at(`synthesis.depends_on[${i}]`),
            `synthesis depends on unknown leg "${d}"`,
          );
      });
      c.synthesis = {
        id,
        title: s.title ?? 'Synthesis',
        description: s.description ?? '',
        depends_on: s.depends_on ?? [...legIds],
        extra: extraOf(s, ['id', 'title', 'description', 'depends_on']),
      };
    }
    for (const [name, inp] of Object.entries(raw.inputs ?? {})) {
      const def: InputDef = {
        name,
        required: inp.required === true,
        required_unless: inp.required_unless ?? [],
      };
      if (inp.description !== undefined) def.description = inp.description;
      if (inp.type !== undefined) def.type = inp.type;
      if (inp.default !== undefined) def.default = inp.default;
      c.inputs[name] = def;
    }
    for (const [name, inp] of Object.entries(c.inputs)) {
      inp.required_unless.forEach((ref, i) => {
        if (!(ref in c.inputs))
          this.error(
            'formula.unknown-input',
            at(`inputs.${name}.required_unless[${i}]`),
            `required_unless names unknown input "${ref}"`,
          );
      });
    }
    for (const [name, p] of Object.entries(raw.presets ?? {})) {
      const legs = p.legs ?? [];
      if (p.legs === undefined)
        this.error('formula.preset', at(`presets.${name}`), `preset "${name}" lists no legs`);
      legs.forEach((l, i) => {
        if (!legIds.has(l))
          this.error(
            'formula.unknown-leg',
            at(`presets.${name}.legs[${i}]`),
            `preset "${name}" selects unknown leg "${l}"`,
          );
      });
      const preset: Preset = { name, legs };
      if (p.description !== undefined) preset.description = p.description;
      c.presets[name] = preset;
    }
    if (c.type === 'convoy') {
      if (c.legs.length === 0)
        this.error('formula.convoy', at('legs'), 'a convoy needs at least one [[legs]] entry');
      for (const leg of c.legs) {
        const step: WorkStep = {
          id: leg.id,
          title: leg.title,
          description: leg.description,
          needs: [],
          labels: [],
          parallel: true,
          convoy_role: 'leg',
          extra: leg.focus === undefined ? {} : { focus: leg.focus },
          origin: at(`legs[${(raw.legs ?? []).findIndex((l) => l.id === leg.id)}]`),
          needPaths: new Map(),
          refs: [],
        };
        c.steps = mergeById(c.steps, [step]);
      }
      if (c.synthesis) {
        const syn = c.synthesis;
        const step: WorkStep = {
          id: syn.id,
          title: syn.title,
          description: syn.description,
          needs: [...syn.depends_on],
          labels: [],
          convoy_role: 'synthesis',
          extra: {},
          origin: at('synthesis'),
          needPaths: new Map(syn.depends_on.map((d, i) => [d, at(`synthesis.depends_on[${i}]`)])),
          refs: [],
        };
        c.steps = mergeById(c.steps, [step]);
      }
    }
  }

  // ---- compose -------------------------------------------------------------------------------

  private applyCompose(c: Composed, at: (p: string) => Origin, _rangeVars: Record<string, string>): void {
    const compose = c.raw.compose;
    if (!compose) return;
    const expanded = new Set<string>();
    compose.expand?.forEach((rule, i) => {
      const path = `compose.expand[${i}]`;
      const idx = c.steps.findIndex((s) => s.id === rule.target);
      if (idx < 0) {
        this.error(
          'formula.expand-target',
          at(`${path}.target`),
          `expand target "${rule.target}" is not a step of this formula`,
        );
        return;
      }
      if (expanded.has(rule.target)) return;
      const exp = this.composeRef(rule.with, at(`${path}.with`), 'expansion', 'expansion');
      if (!exp) return;
      this.replaceWithExpansion(c, idx, exp, rule.vars);
      expanded.add(rule.target);
    });
    compose.map?.forEach((rule, i) => {
      const path = `compose.map[${i}]`;
      const exp = this.composeRef(rule.with, at(`${path}.with`), 'expansion', 'expansion');
      if (!exp) return;
      const targets = c.steps
        .filter((s) => !expanded.has(s.id) && matchGlob(rule.select, s.id))
        .map((s) => s.id);
      if (targets.length === 0)
        this.warn('formula.map-empty', at(`${path}.select`), `map select "${rule.select}" matches no step`);
      for (const id of targets) {
        const idx = c.steps.findIndex((s) => s.id === id);
        this.replaceWithExpansion(c, idx, exp, rule.vars);
        expanded.add(id);
      }
    });
    compose.branch?.forEach((b, i) => {
      const path = `compose.branch[${i}]`;
      const byId = new Map(c.steps.map((s) => [s.id, s]));
      const from = byId.get(b.from);
      const join = byId.get(b.join);
      if (!from) this.error('formula.branch', at(`${path}.from`), `branch from "${b.from}" is not a step`);
      if (!join) this.error('formula.branch', at(`${path}.join`), `branch join "${b.join}" is not a step`);
      b.steps.forEach((id, j) => {
        const s = byId.get(id);
        if (!s) this.error('formula.branch', at(`${path}.steps[${j}]`), `branch step "${id}" is not a step`);
        else {
          addNeed(s, b.from, at(`${path}.from`));
          if (join) addNeed(join, id, at(`${path}.steps[${j}]`));
        }
      });
    });
    // Kept verbatim in `definition.compose`; reported so nobody expects them to run.
    for (const key of ['gate', 'bond_points', 'hooks'] as const) {
      const v = compose[key];
      if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
      this.warn(
        'formula.not-executed',
        at(`compose.${key}`),
        `compose.${key} is parsed, not executed (kept under definition.compose)`,
      );
    }
  }

  private replaceWithExpansion(
    c: Composed,
    idx: number,
    exp: Composed,
    vars: Record<string, string> | undefined,
  ): void {
    const target = c.steps[idx]!;
    const steps = this.expandTemplate(exp, target, target.needs, target.needPaths, vars);
    if (!steps || steps.length === 0) return;
    c.steps.splice(idx, 1, ...steps);
    c.aliasLast.set(target.id, steps.at(-1)!.id);
    c.aliasFirst.set(target.id, steps[0]!.id);
  }

  /**
   * Advice inserts steps before and after every original step a rule's target glob matches (and,
   * for an aspect with pointcuts, one of them). Before-steps run in order after the target's
   * needs; after-steps run after the target, and the target's dependents wait for the last one.
   */
  private applyAdvice(
    c: Composed,
    rules: { rule: RawAdvice; path: string; file: string }[],
    pointcuts: NonNullable<RawFormula['pointcuts']>,
  ): void {
    const result: WorkStep[] = [];
    /** target id -> [last after-step id, ids of its after-steps] */
    const moved = new Map<string, { last: string; own: Set<string> }>();
    for (const step of c.steps) {
      if (step.convoy_role) {
        result.push(step);
        continue;
      }
      const before: WorkStep[] = [];
      const after: WorkStep[] = [];
      const add = (list: WorkStep[], raw: RawStep | undefined, p: string, file: string) => {
        if (!raw) return;
        const sub = mapStrings(raw, (s) =>
          s.replaceAll('{step.id}', step.id).replaceAll('{step.title}', step.title),
        ) as RawStep;
        const made: WorkStep[] = [];
        this.lowerList([sub], p, file, made, c, {});
        list.push(...made);
      };
      for (const { rule, path, file } of rules) {
        if (!matchGlob(rule.target, step.id)) continue;
        if (pointcuts.length > 0 && !pointcuts.some((pc) => matchPointcut(pc, step))) continue;
        add(before, rule.before, `${path}.before`, file);
        rule.around?.before?.forEach((r, i) => {
          add(before, r, `${path}.around.before[${i}]`, file);
        });
        add(after, rule.after, `${path}.after`, file);
        rule.around?.after?.forEach((r, i) => {
          add(after, r, `${path}.around.after[${i}]`, file);
        });
      }
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

  private applyAliases(c: Composed): void {
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
      for (const r of s.refs) r.id = final(c.aliasFirst, r.id);
      const gate = s.gate as { on_reject?: string; on_fail?: string } | undefined;
      if (gate?.on_reject) gate.on_reject = final(c.aliasFirst, gate.on_reject);
      if (gate?.on_fail) gate.on_fail = final(c.aliasFirst, gate.on_fail);
    }
  }

  // ---- checks --------------------------------------------------------------------------------

  private checkDuplicateIds(steps: readonly WorkStep[]): void {
    const first = new Map<string, WorkStep>();
    for (const s of steps) {
      const prev = first.get(s.id);
      if (prev) {
        this.error(
          'formula.duplicate-id',
          { file: s.origin.file, path: `${s.origin.path}.id` },
          `duplicate step id "${s.id}" (first defined at ${prev.origin.path})`,
        );
      } else first.set(s.id, s);
    }
  }

  private checkGraph(c: Composed, at: (p: string) => Origin): void {
    if (c.steps.length > MAX_STEPS) {
      this.error(
        'formula.too-many-steps',
        at('steps'),
        `${c.steps.length} steps after expansion; the limit is ${MAX_STEPS}`,
      );
      return;
    }
    this.checkDuplicateIds(c.steps);
    const ids = new Set(c.steps.map((s) => s.id));
    for (const s of c.steps) {
      // Ids made by expansion, advice or aliases, once their placeholders are filled in.
      const problem = pathSegmentProblem(s.id);
      if (problem)
        this.error(
          'formula.step-id',
          { file: s.origin.file, path: `${s.origin.path}.id` },
          `step id "${s.id}" cannot be stored: ${problem}`,
        );
      for (const n of s.needs) {
        if (!ids.has(n)) {
          const o = s.needPaths.get(n) ?? s.origin;
          this.error('formula.unknown-need', o, `step "${s.id}" needs unknown step "${n}"`);
        } else if (n === s.id) {
          this.error('formula.cycle', s.needPaths.get(n) ?? s.origin, `step "${s.id}" needs itself`);
        }
      }
      for (const r of s.refs) {
        if (!ids.has(r.id))
          this.error('formula.unknown-step', r.origin, `${r.key} names unknown step "${r.id}"`);
      }
    }
    if (c.type === 'workflow' && c.steps.length === 0) {
      this.error('formula.empty', at('steps'), 'a workflow needs at least one step');
    }
    const cycle = findCycle(c.steps);
    if (cycle) {
      const s = c.steps.find((x) => x.id === cycle[0])!;
      const o = s.needPaths.get(cycle[1]!) ?? s.origin;
      this.error('formula.cycle', o, `dependency cycle: ${cycle.join(' -> ')}`);
    }
  }

  /**
   * `{{name}}` in a step that names no declared var, input or runtime value: a typo or a missing
   * `[vars.name]`. It stays as written in every molecule, so it is a warning naming the field.
   * Expansions and aspects are checked where they are applied (their vars are the host's).
   */
  private checkPlaceholders(c: Composed): void {
    if (c.type === 'expansion' || c.type === 'aspect') return;
    const known = new Set([...Object.keys(c.vars), ...Object.keys(c.inputs), ...RUNTIME_PLACEHOLDERS]);
    const fields = ['title', 'description', 'acceptance', 'assignee', 'notes', 'labels', 'condition', 'gate'];
    for (const s of c.steps) {
      for (const field of fields) {
        const value = (s as unknown as Record<string, unknown>)[field];
        forEachString(value, field, (text, path) => {
          for (const name of placeholderNames(text)) {
            if (known.has(name) || GO_TEMPLATE_WORDS.has(name)) continue;
            this.warn(
              'formula.var-undeclared',
              { file: s.origin.file, path: `${s.origin.path}.${path}` },
              `step "${s.id}" uses {{${name}}}, which no [vars.${name}] or input declares; it stays as written (declare it, or fix the name)`,
            );
          }
        });
      }
    }
  }

  finish(c: Composed): ResolvedFormula {
    this.checkPlaceholders(c);
    const raw = c.raw;
    const order = topoOrder(c.steps);
    const byId = new Map(c.steps.map((s) => [s.id, s]));
    const steps: ResolvedStep[] = order.map((id) => {
      const { origin: _o, needPaths: _n, refs: _r, ...step } = byId.get(id)!;
      return step;
    });
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
}

/** Go-template actions that look like `{{name}}` (Gas Town's prose keeps them verbatim). */
const GO_TEMPLATE_WORDS = new Set(['else', 'end', 'break', 'continue']);

/** Step ids become file names and commit trailers: the store's rule (store/ids.ts). */
export const isSafeId = isPathSegment;

/**
 * A step id as written. One with a placeholder (`{target}.draft`) is checked whole once it is
 * filled in (checkGraph); until then only what no substitution can repair is refused.
 */
function rawIdProblem(id: string): string | undefined {
  if (!id.includes('{')) return pathSegmentProblem(id);
  if (/[/\\\s\u0000-\u001f\u007f]/.test(id) || id.includes('..'))
    return 'it must not contain "/", "..", whitespace or control characters';
  return undefined;
}

function defaultsOf(vars: Record<string, VarDef>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) if (v.default !== undefined) out[k] = v.default;
  return out;
}

function extraOf(obj: Record<string, unknown>, known: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!known.includes(k)) out[k] = v;
  return out;
}

function pickExtra(raw: RawFormula): Record<string, unknown> {
  const known = TOP_KEYS;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!known.has(k)) out[k] = v;
  return out;
}

/** Structure resolution consumed, kept verbatim so nothing a file said is lost. */
function pickDefinition(raw: RawFormula): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const k of ['extends', 'compose', 'advice', 'pointcuts', 'template', 'aspects'] as const) {
    if (raw[k] !== undefined) out[k] = raw[k];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function stem(file: string): string {
  const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  return base.replace(/\.formula\.(toml|json)$/, '').replace(/\.(toml|json)$/, '');
}
