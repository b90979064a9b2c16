// The formula engine's public API. Everything but library.ts (file reads) is pure.
import { join } from 'node:path';
import { builtinFormulasDir } from '../paths.js';
import { type CookOptions, cookFormula } from './cook.js';
import { readFormulaFile, withSearchDirs } from './library.js';
import type { Diagnostic } from './model.js';
import { type FormulaLibrary, type FormulaResult, type FormulaSource, resolveSource } from './resolve.js';

export { type CookOptions, cookFormula } from './cook.js';
export { parseDuration } from './duration.js';
export { findCycle, parallelReadySteps, readySteps, topoOrder } from './graph.js';
export { canonicalJson, formulaHash } from './hash.js';
export { createFileLibrary, readFormulaFile, withSearchDirs } from './library.js';
export type * from './model.js';
export { clearParseCache, MAX_FORMULA_BYTES } from './parse.js';
export {
  type FormulaLibrary,
  type FormulaResult,
  type FormulaSource,
  isSafeId,
  MAX_STEPS,
  matchGlob,
} from './resolve.js';
export { isTruthy, placeholderNames, substituteVars } from './vars.js';

/** `[<root>/.beads/formulas, built-ins]`: a repo's formulas shadow the built-in ones by name. */
export function formulaSearchDirs(repoRoot: string | undefined): string[] {
  return repoRoot ? [join(repoRoot, '.beads', 'formulas'), builtinFormulasDir()] : [builtinFormulasDir()];
}

/** A reference given by a person is a path when it looks like one; otherwise it is a name. */
export function looksLikePath(ref: string): boolean {
  return ref.includes('/') || ref.includes('\\') || ref.startsWith('.') || /\.(toml|json)$/.test(ref);
}

function dirOf(file: string): string {
  const i = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return i <= 0 ? '.' : file.slice(0, i);
}

/** Finds `ref` (name or path). A path's own folder is searched first for the formulas it names. */
export function locateFormula(
  ref: string,
  lib: FormulaLibrary,
): { source?: FormulaSource; lib: FormulaLibrary; diagnostic?: Diagnostic } {
  if (looksLikePath(ref)) {
    const source = readFormulaFile(ref);
    if (!source) {
      return {
        lib,
        diagnostic: {
          severity: 'error',
          code: 'formula.not-found',
          file: ref,
          path: '',
          message: 'no such formula file',
        },
      };
    }
    return { source, lib: withSearchDirs(lib, [dirOf(ref)]) };
  }
  if (ref === '' || ref.includes('\0')) {
    return {
      lib,
      diagnostic: {
        severity: 'error',
        code: 'formula.not-found',
        file: ref,
        path: '',
        message: 'not a formula name',
      },
    };
  }
  const source = lib.find(ref);
  if (!source) {
    return {
      lib,
      diagnostic: {
        severity: 'error',
        code: 'formula.not-found',
        file: ref,
        path: '',
        message: `formula "${ref}" not found in the formula search path`,
      },
    };
  }
  return { source, lib };
}

/** Resolves a formula by name or path; `{{var}}` placeholders stay intact. */
export function resolveFormula(ref: string, lib: FormulaLibrary): FormulaResult {
  const found = locateFormula(ref, lib);
  if (!found.source) return { diagnostics: [found.diagnostic!] };
  return resolveSource(found.source, found.lib);
}

/** Resolve and cook in one step. Range loops are unrolled with the vars given here. */
export function loadFormula(ref: string, lib: FormulaLibrary, opts: CookOptions = {}): FormulaResult {
  const found = locateFormula(ref, lib);
  if (!found.source) return { diagnostics: [found.diagnostic!] };
  const resolved = resolveSource(found.source, found.lib, {
    ...(opts.vars ? { vars: opts.vars } : {}),
    ...(opts.target ? { target: opts.target } : {}),
  });
  if (!resolved.formula) return resolved;
  const cooked = cookFormula(resolved.formula, opts);
  return cooked.formula ? cooked : { diagnostics: [...resolved.diagnostics, ...cooked.diagnostics] };
}

/** Every problem in a formula file (text given, e.g. a staged blob); referenced formulas come from `lib`. */
export function validateFormulaFile(file: string, text: string, lib: FormulaLibrary): Diagnostic[] {
  return resolveSource({ file, text }, lib).diagnostics;
}
