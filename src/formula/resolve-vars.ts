// A formula's `[vars]` declarations checked and turned into VarDefs, and where each was declared.
import type { VarDef } from './model.js';
import { patternMatches, patternProblem } from './pattern.js';
import type { ResolveContext } from './resolve-context.js';
import type { At, Origin } from './resolve-types.js';
import type { RawFormula } from './schema.js';
import { isVarName, reservedVarProblem } from './vars.js';

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

/** The vars `raw` declares itself (not its parents'); bad names and defaults are reported. */
export function declareVars(r: ResolveContext, raw: RawFormula, at: At): Record<string, VarDef> {
  const out: Record<string, VarDef> = {};
  for (const [name, v] of Object.entries(raw.vars ?? {})) {
    const path = `vars.${name}`;
    if (!isVarName(name)) {
      r.error(
        'formula.var-name',
        at(path),
        `variable name "${name}" may only contain letters, digits, "_" and "-"`,
      );
      continue;
    }
    const reserved = reservedVarProblem(name);
    if (reserved) {
      r.error('formula.var-name', at(path), reserved);
      continue;
    }
    const def: VarDef =
      typeof v !== 'object' ? { name, required: false, default: String(v) } : tableVar(r, name, v, at);
    out[name] = def;
    varOrigins.set(def, at(path));
  }
  return out;
}

type RawVar = Exclude<NonNullable<RawFormula['vars']>[string], string | number | boolean>;

/** A `[vars.name]` table: its fields, a pattern that compiles and a default that fits. */
function tableVar(r: ResolveContext, name: string, v: RawVar, at: At): VarDef {
  const path = `vars.${name}`;
  const def: VarDef = { name, required: v.required === true };
  if (v.description !== undefined) def.description = v.description;
  if (v.default !== undefined) def.default = String(v.default);
  if (v.enum !== undefined) def.enum = v.enum.map(String);
  if (v.type !== undefined) def.type = v.type;
  if (v.pattern !== undefined) {
    def.pattern = v.pattern;
    const problem = patternProblem(v.pattern);
    if (problem) r.error('formula.var-pattern', at(`${path}.pattern`), problem);
  }
  if (def.required && def.default !== undefined) {
    r.warn(
      'formula.var-required-default',
      at(path),
      `var "${name}" is required and has a default; the default is used when no value is given`,
    );
  }
  if (def.default !== undefined && def.default !== '') {
    if (def.enum && !def.enum.includes(def.default)) {
      r.error(
        'formula.var-default',
        at(`${path}.default`),
        `default "${def.default}" is not one of ${def.enum.join(', ')}`,
      );
    }
    if (def.pattern && patternMatches(def.pattern, def.default) === false) {
      r.error(
        'formula.var-default',
        at(`${path}.default`),
        `default "${def.default}" does not match pattern ${def.pattern}`,
      );
    }
  }
  return def;
}

/** The defaults of `vars`, by name: what a range bound sees when no value is given. */
export function defaultsOf(vars: Record<string, VarDef>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) if (v.default !== undefined) out[k] = v.default;
  return out;
}
