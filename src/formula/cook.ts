// Cooking: a resolved formula plus the caller's values. Vars are checked (required, enum, pattern,
// type) and substituted; cook-time conditions drop steps; a preset or leg list selects convoy legs.
import { cookGate } from './gates.js';
import { setLazyHash } from './hash.js';
import type { Diagnostic, ResolvedFormula, ResolvedStep } from './model.js';
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
  const error = (code: string, path: string, message: string) =>
    diags.push({ severity: 'error', code, file, path, message });
  const warn = (code: string, path: string, message: string) =>
    diags.push({ severity: 'warning', code, file, path, message });

  const given = opts.vars ?? {};
  const values: Record<string, string> = {};
  for (const [name, def] of Object.entries(resolved.vars)) {
    const value = Object.hasOwn(given, name) ? given[name] : def.default;
    const path = `vars.${name}`;
    if (value === undefined) {
      // Reported where it is declared: a parent formula's var is not the child file's to fix.
      const origin = varOrigin(def);
      if (def.required)
        diags.push({
          severity: 'error',
          code: 'formula.var-missing',
          file: origin?.file ?? file,
          path: origin?.path ?? path,
          message: `var "${name}" is required: pass --var ${name}=<value>`,
        });
      continue;
    }
    values[name] = value;
    if (def.enum && def.enum.length > 0 && !def.enum.includes(value)) {
      error('formula.var-enum', path, `var "${name}" = "${value}" must be one of ${def.enum.join(', ')}`);
    }
    if (def.pattern !== undefined) {
      const ok = patternMatches(def.pattern, value) === true;
      if (!ok)
        error(
          'formula.var-pattern',
          path,
          `var "${name}" = "${value}" does not match pattern ${def.pattern}`,
        );
    }
    if (def.type === 'int' || def.type === 'integer' || def.type === 'number') {
      const re = def.type === 'number' ? /^-?\d+(\.\d+)?$/ : /^-?\d+$/;
      if (!re.test(value))
        error(
          'formula.var-type',
          path,
          `var "${name}" = "${value}" is not ${def.type === 'number' ? 'a number' : 'an integer'}`,
        );
    } else if (def.type === 'bool' || def.type === 'boolean') {
      if (!['true', 'false'].includes(value))
        error('formula.var-type', path, `var "${name}" = "${value}" is not true or false`);
    }
  }
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(resolved.vars, name)) {
      warn(
        'formula.var-unknown',
        `vars.${name}`,
        `var "${name}" is not declared by formula "${resolved.formula}" (substituted anyway)`,
      );
      values[name] = given[name]!;
    }
  }

  // Legs: a preset or an explicit list selects them; the synthesis keeps only selected ones.
  let selected: Set<string> | undefined;
  if (opts.preset !== undefined) {
    const preset = resolved.presets[opts.preset];
    if (!preset) {
      const known = Object.keys(resolved.presets);
      error(
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
        error('formula.unknown-leg', 'legs', `no leg "${l}" (have: ${[...legIds].join(', ')})`);
    selected = new Set(opts.legs);
  }

  if (opts.inputs !== undefined) {
    const given = opts.inputs;
    const has = (k: string) => given[k] !== undefined && given[k] !== '';
    for (const [name, def] of Object.entries(resolved.inputs)) {
      if (has(name) || def.default !== undefined) continue;
      if (def.required) error('formula.input-missing', `inputs.${name}`, `input "${name}" is required`);
      else if (def.required_unless.length > 0 && !def.required_unless.some(has)) {
        error(
          'formula.input-missing',
          `inputs.${name}`,
          `input "${name}" is required unless one of ${def.required_unless.join(', ')} is given`,
        );
      }
    }
    for (const name of Object.keys(given)) {
      if (!Object.hasOwn(resolved.inputs, name))
        warn('formula.input-unknown', `inputs.${name}`, `input "${name}" is not declared`);
    }
  }
  if (diags.some((d) => d.severity === 'error')) return { diagnostics: diags };

  // Cook-time conditions. Steps arrive in topological order, so a dropped step's needs are final
  // by the time its dependents inherit them.
  const dropped = new Map<string, string[]>();
  const gateErrors: Diagnostic[] = [];
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
    const out: ResolvedStep = {
      ...s,
      needs,
      title: substituteVars(s.title, values),
      description: substituteVars(s.description, values),
    };
    if (cond) delete out.condition;
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
    steps.push(out);
  }
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
