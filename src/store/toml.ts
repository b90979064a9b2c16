// TOML in and out. Output has a stable key order (preferred keys first, the rest sorted) so the
// same data always gives the same bytes: two engines recording one fact write identical files.
import { parse, stringify, TomlError } from 'smol-toml';
import { GastownError } from '../errors.js';
import { readWrittenToml } from './toml-subset.js';

export type TomlTable = Record<string, unknown>;

/** Parses TOML; a syntax error names the file, line and column. */
export function parseToml(text: string, file: string): TomlTable {
  try {
    return parse(text) as TomlTable;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0] ?? 'invalid TOML';
      throw new GastownError('toml.syntax', first.replace(/^Invalid TOML document: /, 'invalid TOML: '), {
        location: { file, line: err.line, column: err.column },
      });
    }
    throw err;
  }
}

const SIMPLE_LINE = /^([A-Za-z0-9_-]+) = (?:"([^"\\\x00-\x1f\x7f]*)"|(-?(?:0|[1-9][0-9]*)))$/;

/**
 * Fast path for the flat files the engine writes (`key = "text"` / `key = 12` lines only, no
 * escapes): parsed without the TOML parser, which dominates a cold reconcile. Anything else,
 * including any file a person may have edited into another shape, goes through smol-toml.
 */
export function parseFlatToml(text: string, file: string): TomlTable {
  const out: TomlTable = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '' && i === lines.length - 1) break;
    const m = SIMPLE_LINE.exec(line);
    if (!m || Object.hasOwn(out, m[1] as string)) return parseToml(text, file);
    out[m[1] as string] = m[2] !== undefined ? m[2] : Number(m[3]);
  }
  return out;
}

/**
 * Parses a file gastown wrote with `stringifyToml` (molecule.toml, formula.resolved.toml,
 * digest.toml) with the subset reader, and anything else (a hand edit, a comment) with the full
 * parser, whose errors name the file, line and column. Same result either way.
 */
export function parseWrittenToml(text: string, file: string): TomlTable {
  return readWrittenToml(text) ?? parseToml(text, file);
}

/** Sorts keys recursively (after the `first` keys, at the top level only) and drops undefined/null. */
export function canonical(value: unknown, first: readonly string[] = []): unknown {
  if (Array.isArray(value))
    return value.filter((v) => v !== undefined && v !== null).map((v) => canonical(v));
  if (value instanceof Date || value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined && obj[k] !== null);
  const ordered = [
    ...first.filter((k) => keys.includes(k)),
    ...keys.filter((k) => !first.includes(k)).sort(),
  ];
  const out: Record<string, unknown> = {};
  for (const k of ordered) out[k] = canonical(obj[k]);
  return out;
}

export function stringifyToml(value: TomlTable, first: readonly string[] = []): string {
  const text = stringify(canonical(value, first) as TomlTable);
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** True when the text holds git conflict markers (an unresolved merge). */
export function hasConflictMarkers(text: string): boolean {
  // A plain search first: every state file is checked on a cold advance, and almost none has one.
  return text.includes('=======') && /^(<{7}|>{7})( |$)/m.test(text) && /^={7}$/m.test(text);
}
