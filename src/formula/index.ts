// The formula engine's public API. Pure except library.ts (reads formula files), cache.ts and
// validate.ts (the content-keyed result cache).
import { type CookOptions, cookFormula } from './cook.js';
import { locateFormula } from './library.js';
import type { Diagnostic } from './model.js';
import { type FormulaLibrary, type FormulaResult, resolveSource } from './resolve.js';

export { blobId } from '../git/blob-id.js';
export { CACHE_FORMAT, ContentCache, cacheRoot, openCache } from './cache.js';
export { type CookOptions, cookFormula } from './cook.js';
export { parseDuration } from './duration.js';
export { findCycle, parallelReadySteps, readySteps, topoOrder } from './graph.js';
export { canonicalJson, formulaHash } from './hash.js';
export {
  createFileLibrary,
  formulaSearchDirs,
  locateFormula,
  looksLikePath,
  readFormulaFile,
  withSearchDirs,
} from './library.js';
export type * from './model.js';
export { clearParseCache, MAX_FORMULA_BYTES } from './parse.js';
export {
  type FormulaLibrary,
  type FormulaResult,
  type FormulaSource,
  isSafeId,
  MAX_STEPS,
} from './resolve.js';
export { matchGlob } from './resolve-steps.js';
export { parseTomlCached } from './toml-cache.js';
export { type FormulaValidation, type ValidateOptions, validateFormulas } from './validate.js';
export { isTruthy, placeholderNames, substituteVars } from './vars.js';

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
