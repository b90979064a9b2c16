// Cooking: a resolved formula plus the caller's values. Vars are checked (required, enum, pattern,
// type) and substituted; cook-time conditions drop steps; a preset or leg list selects convoy legs.
import { cookGate } from './gates.js';
import { setLazyHash } from './hash.js';
import type { Diagnostic, ResolvedFormula, ResolvedStep, VarDef } from './model.js';
import { patternMatches } from './pattern.js';
import { type FormulaResult, varOrigin } from './resolve.js';
import { evaluateCookCondition, parseCookCondition, substituteVars } from './vars.js';

export interface CookOptions {
  vars?: Record<string, string>;
  preset?: string;
  legs?: string[];
  inputs?: Record<string, unknown>;
  /** For an expansion poured alone: the target step id its template is instantiated for. */
  target?: string;
}

export function cookFormula(resolved: ResolvedFormula, opts: CookOptions = {}): FormulaResult {
  const file = resolved.source;
  const diags: Diagnostic[] = [];
  const report: Report = {
    error: (code, path, message) => diags.push({ severity: 'error', code, file, path, message }),
    warn: (code, path, message) => diags.push({ severity: 'warning', code, file, path, message }),
    diags,
  };
  const values = cookVars(resolved, opts.vars ?? {}, report);
  const selected = selectedLegs(resolved, opts, report);
  if (opts.inputs !== undefined) checkInputs(resolved, opts.inputs, report);
  if (diags.some((d) => d.severity === 'error')) return { diagnostics: diags };
  const gateErrors: Diagnostic[] = [];
  const steps = cookSteps(resolved, values, selected, gateErrors);
  if (gateErrors.length > 0) return { diagnostics: [...diags, ...gateErrors] };
  const legs = resolved.legs
    .filter((l) => !selected || selected.has(l.id))
    .map((l) => ({
      ...l,
      title: substituteVars(l.title, values),
      description: substituteVars(l.description, values),
    }));
  // Copy without reading `hash`: reading it would hash the uncooked formula for nothing.
  const base: Record<string, unknown> = {};
  for (const key of Object.keys(resolved))
    if (key !== 'hash') base[key] = (resolved as unknown as Record<string, unknown>)[key];
  const formula = {
    ...base,
    hash: '',
    steps,
    legs,
    warnings: [...resolved.warnings, ...diags],
  } as ResolvedFormula;
  if (resolved.synthesis) {
    const syn = resolved.synthesis;
    formula.synthesis = {
      ...syn,
      title: substituteVars(syn.title, values),
      description: substituteVars(syn.description, values),
      depends_on: syn.depends_on.filter((d) => !selected || selected.has(d)),
    };
  }
  setLazyHash(formula);
  return { formula, diagnostics: formula.warnings };
}

/** Problems with the caller's values, reported against the formula's file. */
interface Report {
  error(code: string, path: string, message: string): void;
  warn(code: string, path: string, message: string): void;
  /** For a problem reported elsewhere (a parent formula's var). */
  diags: Diagnostic[];
}

/** The value of every var (given, else its default), each checked; undeclared ones are kept too. */
function cookVars(
  resolved: ResolvedFormula,
  given: Record<string, string>,
  report: Report,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, def] of Object.entries(resolved.vars)) {
    const value = Object.hasOwn(given, name) ? given[name] : def.default;
    if (value === undefined) {
      // Reported where it is declared: a parent formula's var is not the child file's to fix.
      const origin = varOrigin(def);
      if (def.required)
        report.diags.push({
          severity: 'error',
          code: 'formula.var-missing',
          file: origin?.file ?? resolved.source,
          path: origin?.path ?? `vars.${name}`,
          message: `var "${name}" is required: pass --var ${name}=<value>`,
        });
      continue;
    }
    values[name] = value;
    checkVarValue(def, value, report);
  }
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(resolved.vars, name)) {
      report.warn(
        'formula.var-unknown',
        `vars.${name}`,
        `var "${name}" is not declared by formula "${resolved.formula}" (substituted anyway)`,
      );
      values[name] = given[name]!;
    }
  }
  return values;
}

/** A value against its var's enum, pattern and type. */
function checkVarValue(def: VarDef, value: string, report: Report): void {
  const { name } = def;
  const path = `vars.${name}`;
  if (def.enum && def.enum.length > 0 && !def.enum.includes(value)) {
    report.error(
      'formula.var-enum',
      path,
      `var "${name}" = "${value}" must be one of ${def.enum.join(', ')}`,
    );
  }
  if (def.pattern !== undefined) {
    const ok = patternMatches(def.pattern, value) === true;
    if (!ok)
      report.error(
        'formula.var-pattern',
        path,
        `var "${name}" = "${value}" does not match pattern ${def.pattern}`,
      );
  }
  if (def.type === 'int' || def.type === 'integer' || def.type === 'number') {
    const re = def.type === 'number' ? /^-?\d+(\.\d+)?$/ : /^-?\d+$/;
    if (!re.test(value))
      report.error(
        'formula.var-type',
        path,
        `var "${name}" = "${value}" is not ${def.type === 'number' ? 'a number' : 'an integer'}`,
      );
  } else if (def.type === 'bool' || def.type === 'boolean') {
    if (!['true', 'false'].includes(value))
      report.error('formula.var-type', path, `var "${name}" = "${value}" is not true or false`);
  }
}

/** Legs: a preset or an explicit list selects them (undefined: all); the synthesis keeps only selected ones. */
function selectedLegs(resolved: ResolvedFormula, opts: CookOptions, report: Report): Set<string> | undefined {
  let selected: Set<string> | undefined;
  if (opts.preset !== undefined) {
    const preset = resolved.presets[opts.preset];
    if (!preset) {
      const known = Object.keys(resolved.presets);
      report.error(
        'formula.preset',
        'presets',
        `no preset "${opts.preset}"${known.length ? ` (have: ${known.join(', ')})` : ''}`,
      );
    } else selected = new Set(preset.legs);
  }
  if (opts.legs !== undefined) {
    const legIds = new Set(resolved.legs.map((l) => l.id));
    for (const l of opts.legs)
      if (!legIds.has(l))
        report.error('formula.unknown-leg', 'legs', `no leg "${l}" (have: ${[...legIds].join(', ')})`);
    selected = new Set(opts.legs);
  }
  return selected;
}

function checkInputs(resolved: ResolvedFormula, given: Record<string, unknown>, report: Report): void {
  const has = (k: string) => given[k] !== undefined && given[k] !== '';
  for (const [name, def] of Object.entries(resolved.inputs)) {
    if (has(name) || def.default !== undefined) continue;
    if (def.required) report.error('formula.input-missing', `inputs.${name}`, `input "${name}" is required`);
    else if (def.required_unless.length > 0 && !def.required_unless.some(has)) {
      report.error(
        'formula.input-missing',
        `inputs.${name}`,
        `input "${name}" is required unless one of ${def.required_unless.join(', ')} is given`,
      );
    }
  }
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(resolved.inputs, name))
      report.warn('formula.input-unknown', `inputs.${name}`, `input "${name}" is not declared`);
  }
}

/**
 * The steps kept, vars substituted. Unselected legs and steps whose cook-time condition is false
 * are dropped; their dependents inherit their needs. Steps arrive in topological order, so a
 * dropped step's needs are final by the time its dependents inherit them.
 */
function cookSteps(
  resolved: ResolvedFormula,
  values: Record<string, string>,
  selected: ReadonlySet<string> | undefined,
  gateErrors: Diagnostic[],
): ResolvedStep[] {
  const dropped = new Map<string, string[]>();
  const steps: ResolvedStep[] = [];
  for (const s of resolved.steps) {
    if (s.convoy_role === 'leg' && selected && !selected.has(s.id)) {
      dropped.set(s.id, []);
      continue;
    }
    let needs = s.needs;
    if (needs.some((n) => dropped.has(n))) {
      const next: string[] = [];
      for (const n of needs) for (const m of dropped.get(n) ?? [n]) if (!next.includes(m)) next.push(m);
      needs = next;
    }
    const cond = s.condition === undefined ? undefined : parseCookCondition(s.condition);
    if (cond && !evaluateCookCondition(cond, values)) {
      dropped.set(s.id, needs);
      continue;
    }
    steps.push(cookStep(s, needs, cond !== undefined, values, resolved.source, gateErrors));
  }
  return steps;
}

function cookStep(
  s: ResolvedStep,
  needs: string[],
  cooked: boolean,
  values: Record<string, string>,
  file: string,
  gateErrors: Diagnostic[],
): ResolvedStep {
  const out: ResolvedStep = {
    ...s,
    needs,
    title: substituteVars(s.title, values),
    description: substituteVars(s.description, values),
  };
  // A condition decided now is gone; a runtime one stays for the engine.
  if (cooked) delete out.condition;
  if (s.acceptance !== undefined) out.acceptance = substituteVars(s.acceptance, values);
  if (s.assignee !== undefined) out.assignee = substituteVars(s.assignee, values);
  if (s.notes !== undefined) out.notes = substituteVars(s.notes, values);
  if (s.labels.length > 0) out.labels = s.labels.map((l) => substituteVars(l, values));
  if (s.gate) {
    const g = cookGate(s.gate, (t) => substituteVars(t, values));
    out.gate = g.gate;
    for (const p of g.problems)
      gateErrors.push({
        severity: 'error',
        code: 'formula.gate',
        file,
        path: `steps.${s.id}.gate.${p.key}`,
        message: p.message,
      });
  }
  return out;
}
