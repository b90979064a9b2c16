// The formula engine, loaded only when a molecule is created (it brings zod and friends).
import { relative, resolve, sep } from 'node:path';
import { GastownError } from '../errors.js';
import type { Diagnostic, ResolvedFormula } from '../formula/model.js';
import { builtinFormulasDir } from '../paths.js';

export interface ResolveRequest {
  formula: string;
  vars: Record<string, string>;
  inputs: Record<string, unknown>;
  preset?: string;
  legs?: string[];
}

export async function resolveFormula(root: string, req: ResolveRequest): Promise<ResolvedFormula> {
  const engine = await import('../formula/index.js');
  const lib = engine.createFileLibrary(engine.formulaSearchDirs(root));
  const { formula, diagnostics } = engine.loadFormula(req.formula, lib, {
    vars: req.vars,
    inputs: req.inputs,
    ...(req.preset !== undefined ? { preset: req.preset } : {}),
    ...(req.legs !== undefined ? { legs: req.legs } : {}),
  });
  const errors = (diagnostics as Diagnostic[]).filter((d) => d.severity === 'error');
  if (!formula || errors.length > 0) {
    const first = errors[0];
    const more =
      errors.length > 1
        ? ` (and ${errors.length - 1} more: ${errors
            .slice(1, 4)
            .map((e) => e.message)
            .join('; ')})`
        : '';
    throw new GastownError(
      'formula.invalid',
      `${first?.message ?? `cannot load formula ${req.formula}`}${more}`,
      {
        location: first
          ? {
              file: displayPath(root, first.file),
              path: first.path,
              ...(first.line !== undefined ? { line: first.line } : {}),
            }
          : {},
      },
    );
  }
  return formula;
}

/** A path inside the repository as repo-relative (what gets frozen into molecule files). */
export function displayPath(root: string, file: string): string {
  if (!file) return file;
  const abs = resolve(root, file);
  const rel = relative(root, abs);
  return rel.startsWith('..') || rel === '' ? file : rel.split(sep).join('/');
}

/**
 * How a formula file is named in a frozen formula: `builtin:<name>` for one shipped with gastown
 * (its absolute path differs per install), repo-relative for a project's, as given otherwise.
 * Two clones freezing the same formula write the same bytes.
 */
export function frozenSourcePath(root: string, file: string): string {
  if (!file) return file;
  const rel = relative(builtinFormulasDir(), resolve(root, file));
  if (!rel.startsWith('..') && rel !== '' && !rel.includes(sep))
    return `builtin:${rel.replace(/\.formula\.(toml|json)$/, '')}`;
  return displayPath(root, file);
}
