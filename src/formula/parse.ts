// Text to checked raw formula: size limit before anything else, TOML or JSON by extension, the
// zod schema, and unknown keys. Results are memoised by file and exact text, so resolving the same
// unchanged file again (a parent shared by many children, a warm process) skips the parse; by its
// settled stamp (src/store/cache.ts), so a warm process does not even read it again.
import { parse as parseToml } from 'smol-toml';
import { STAMP_WINDOW_MS, stampIsSettled, stampWindow } from '../store/cache.js';
import { sourceStamp } from './library.js';
import { MAX_FORMULA_BYTES } from './limits.js';
import type { Diagnostic } from './model.js';
import type { FormulaSource } from './resolve-types.js';
import {
  ADVICE_KEYS,
  COMPOSE_KEYS,
  checkRawFormula,
  INPUT_KEYS,
  LOOP_KEYS,
  NAMED_KEYS,
  ON_COMPLETE_KEYS,
  PRESET_KEYS,
  type RawFormula,
  type RawStep,
  STEP_KEPT_KEYS,
  STEP_KEYS,
  SYNTHESIS_KEYS,
  TOP_KEPT_KEYS,
  TOP_KEYS,
  VAR_KEYS,
} from './schema.js';
import { readSimpleToml } from './toml-simple.js';

export { MAX_FORMULA_BYTES };

export interface ParsedFile {
  file: string;
  text: string;
  isToml: boolean;
  /** Undefined when the file cannot be used at all (too large, syntax error, wrong shape). */
  raw?: RawFormula;
  diagnostics: Diagnostic[];
}

const cache = new Map<string, ParsedFile>();
const CACHE_LIMIT = 512;
/** The settled stamp a file had when its memoised parse was read from it. */
const stamps = new Map<string, string>();

/** Forgets memoised parses (benchmarks measure cold parses with it). */
export function clearParseCache(): void {
  cache.clear();
  stamps.clear();
}

export function parseFormulaText(file: string, text: string, size?: number): ParsedFile {
  const hit = cache.get(file);
  if (hit && hit.text === text && size === undefined) return hit;
  const parsed = parseUncached(file, text, size);
  stamps.delete(file);
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next().value as string;
    cache.delete(oldest);
    stamps.delete(oldest);
  }
  if (size === undefined) cache.set(file, parsed);
  return parsed;
}

/** A library source parsed: from the memo without reading the file while its settled stamp holds. */
export function parseFormulaSource(source: FormulaSource): ParsedFile {
  const stamp = sourceStamp(source);
  if (stamp !== undefined && stamps.get(source.file) === stamp) {
    const hit = cache.get(source.file);
    if (hit) return hit;
  }
  const parsed = parseFormulaText(source.file, source.text, source.size);
  if (
    stamp !== undefined &&
    cache.get(source.file) === parsed &&
    stampIsSettled(source.stats!, Date.now(), stampWindow() ?? STAMP_WINDOW_MS)
  )
    stamps.set(source.file, stamp);
  return parsed;
}

function parseUncached(file: string, text: string, size?: number): ParsedFile {
  const isToml = !file.endsWith('.json');
  const result: ParsedFile = { file, text, isToml, diagnostics: [] };
  const bytes = size ?? byteLength(text);
  if (bytes > MAX_FORMULA_BYTES) {
    result.diagnostics.push({
      severity: 'error',
      code: 'formula.too-large',
      file,
      path: '',
      message: `file is ${formatBytes(bytes)}; formulas are limited to ${formatBytes(MAX_FORMULA_BYTES)}`,
    });
    return result;
  }
  let data: unknown;
  try {
    // The fast reader gives smol-toml's result or declines; errors always come from smol-toml.
    data = isToml ? (readSimpleToml(text) ?? parseToml(text)) : JSON.parse(text);
  } catch (e) {
    result.diagnostics.push(syntaxDiagnostic(file, text, isToml, e));
    return result;
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    result.diagnostics.push({
      severity: 'error',
      code: 'formula.shape',
      file,
      path: '',
      message: 'expected a table at the top level',
    });
    return result;
  }
  const { raw, issues } = checkRawFormula(data);
  for (const issue of issues) {
    result.diagnostics.push({
      severity: 'error',
      code: 'formula.schema',
      file,
      path: issue.path,
      message: issue.message,
    });
  }
  reportUnknownKeys(data as Record<string, unknown>, file, result.diagnostics);
  if (raw && issues.length === 0) result.raw = raw;
  return result;
}

function byteLength(text: string): number {
  // Cheap upper bound first: most formulas are far below the limit.
  if (text.length * 3 <= MAX_FORMULA_BYTES) return text.length;
  return Buffer.byteLength(text, 'utf8');
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

function syntaxDiagnostic(file: string, text: string, isToml: boolean, e: unknown): Diagnostic {
  const err = e as { message?: string; line?: number; column?: number };
  const d: Diagnostic = {
    severity: 'error',
    code: isToml ? 'toml.syntax' : 'json.syntax',
    file,
    path: '',
    message: String(err.message ?? e)
      .split('\n')[0]!
      .replace(/^Invalid TOML document: /, 'invalid TOML: '),
  };
  if (typeof err.line === 'number') {
    d.line = err.line;
    if (typeof err.column === 'number') d.column = err.column;
  } else if (!isToml) {
    const m = /position (\d+)/.exec(d.message);
    if (m) {
      const before = text.slice(0, Number(m[1]));
      d.line = before.split('\n').length;
      d.column = before.length - before.lastIndexOf('\n');
    }
  }
  return d;
}

function unknownIn(
  obj: unknown,
  known: Set<string>,
  path: string,
  file: string,
  out: Diagnostic[],
  kept?: Set<string>,
): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return;
  for (const key of Object.keys(obj)) {
    if (known.has(key) || kept?.has(key)) continue;
    out.push({
      severity: 'warning',
      code: 'formula.unknown-key',
      file,
      path: path === '' ? key : `${path}.${key}`,
      message: `unknown key "${key}" (kept under extra, not executed)`,
    });
  }
}

function stepUnknown(step: RawStep | undefined, path: string, file: string, out: Diagnostic[]): void {
  if (!step || typeof step !== 'object') return;
  unknownIn(step, STEP_KEYS, path, file, out, STEP_KEPT_KEYS);
  step.children?.forEach((c, i) => {
    stepUnknown(c, `${path}.children[${i}]`, file, out);
  });
  if (step.loop) {
    unknownIn(step.loop, LOOP_KEYS, `${path}.loop`, file, out);
    step.loop.body?.forEach((c, i) => {
      stepUnknown(c, `${path}.loop.body[${i}]`, file, out);
    });
  }
  unknownIn(step.on_complete, ON_COMPLETE_KEYS, `${path}.on_complete`, file, out);
}

function reportUnknownKeys(data: Record<string, unknown>, file: string, out: Diagnostic[]): void {
  const f = data as RawFormula;
  unknownIn(f, TOP_KEYS, '', file, out, TOP_KEPT_KEYS);
  const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
  const record = <T>(v: unknown): [string, T][] =>
    v && typeof v === 'object' && !Array.isArray(v) ? (Object.entries(v) as [string, T][]) : [];
  list<RawStep>(f.steps).forEach((s, i) => {
    stepUnknown(s, `steps[${i}]`, file, out);
  });
  list<RawStep>(f.template).forEach((s, i) => {
    stepUnknown(s, `template[${i}]`, file, out);
  });
  for (const [name, v] of record(f.vars)) unknownIn(v, VAR_KEYS, `vars.${name}`, file, out);
  for (const [name, v] of record(f.inputs)) unknownIn(v, INPUT_KEYS, `inputs.${name}`, file, out);
  for (const [name, v] of record(f.presets)) unknownIn(v, PRESET_KEYS, `presets.${name}`, file, out);
  list(f.legs).forEach((l, i) => {
    unknownIn(l, NAMED_KEYS, `legs[${i}]`, file, out);
  });
  list(f.aspects).forEach((a, i) => {
    unknownIn(a, NAMED_KEYS, `aspects[${i}]`, file, out);
  });
  unknownIn(f.synthesis, SYNTHESIS_KEYS, 'synthesis', file, out);
  unknownIn(f.compose, COMPOSE_KEYS, 'compose', file, out);
  list<Record<string, unknown>>(f.advice).forEach((a, i) => {
    unknownIn(a, ADVICE_KEYS, `advice[${i}]`, file, out);
    stepUnknown(a.before as RawStep, `advice[${i}].before`, file, out);
    stepUnknown(a.after as RawStep, `advice[${i}].after`, file, out);
    const around = a.around as { before?: RawStep[]; after?: RawStep[] } | undefined;
    list<RawStep>(around?.before).forEach((s, j) => {
      stepUnknown(s, `advice[${i}].around.before[${j}]`, file, out);
    });
    list<RawStep>(around?.after).forEach((s, j) => {
      stepUnknown(s, `advice[${i}].around.after[${j}]`, file, out);
    });
  });
}
