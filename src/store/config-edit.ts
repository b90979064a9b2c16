// Reading and editing single keys of .beads/config.toml in place, comments and layout kept.
// No TOML library edits a document keeping its comments, so this edits lines: a `key = value` on
// one line inside a `[table]` is replaced or added, and the result is parsed again and must equal
// the old document with just that key changed. Anything else (a dotted key, an inline table, an
// array of tables, a value over several lines) is refused with the reason. Pure.
import { parse, stringify } from 'smol-toml';
import { GastownError, UsageError } from '../errors.js';
import { parseToml, type TomlTable } from './toml.js';

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** `notifications.webhook.ops.url` → its segments; only bare keys (letters, digits, `_`, `-`). */
export function parseKeyPath(key: string): string[] {
  const parts = key.split('.');
  if (key === '' || !parts.every((p) => SEGMENT.test(p)))
    throw new UsageError(
      `invalid key ${JSON.stringify(key)}: use dotted names of letters, digits, '_' and '-' (e.g. engine.commit)`,
    );
  return parts;
}

function isTable(v: unknown): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** The value at a key path, undefined when absent. */
export function getPath(doc: TomlTable, path: readonly string[]): unknown {
  let v: unknown = doc;
  for (const p of path) {
    if (!isTable(v) || !Object.hasOwn(v, p)) return undefined;
    v = v[p];
  }
  return v;
}

/** A value as TOML writes it on the right of `=`. */
export function renderTomlValue(value: unknown): string {
  const line = stringify({ v: value }).trim();
  return line.slice(line.indexOf('=') + 1).trim();
}

/** Every value that is not a table, with its dotted path, in document order. */
export function flattenConfig(doc: TomlTable, prefix: string[] = []): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(doc)) {
    const path = [...prefix, k];
    if (isTable(v)) out.push(...flattenConfig(v, path));
    else out.push([path.join('.'), v]);
  }
  return out;
}

/** A command-line value: TOML when it reads as a value (true, 5, "x", ["a"]), else the text itself. */
export function parseCliValue(text: string, forceString: boolean): unknown {
  if (forceString) return text;
  try {
    const v = (parse(`v = ${text}`) as TomlTable).v;
    if (!isTable(v) && !(v instanceof Date)) return v;
  } catch {
    /* not a TOML value: a plain string */
  }
  return text;
}

function parses(text: string): boolean {
  try {
    parse(text);
    return true;
  } catch {
    return false;
  }
}

const HEADER = /^\s*\[\s*([A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*\]\s*(?:#.*)?$/;
const KEY_LINE = /^(\s*)([A-Za-z0-9_-]+)(\s*=\s*)(.*)$/;

interface Header {
  /** Undefined for a header this editor does not read (quoted keys, `[[array]]`). */
  path?: string[];
  line: number;
}

interface KeyLine {
  /** Index into headers; -1 for keys before the first header. */
  header: number;
  /** Undefined for a dotted or quoted key. */
  key?: string;
  line: number;
  /** Last line of the value (a multi-line array or string goes on). */
  end: number;
}

/** Headers and key lines, with the extent of each value; comments and blanks are skipped. */
function scan(lines: readonly string[]): { headers: Header[]; keys: KeyLine[] } {
  const headers: Header[] = [];
  const keys: KeyLine[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    const t = line.trim();
    if (t === '' || t.startsWith('#')) {
      i++;
      continue;
    }
    if (t.startsWith('[')) {
      const m = t.startsWith('[[') ? null : HEADER.exec(line);
      headers.push({ ...(m ? { path: (m[1] as string).split('.').map((s) => s.trim()) } : {}), line: i });
      i++;
      continue;
    }
    let end = i;
    let text = line;
    while (!parses(text) && end + 1 < lines.length) {
      end++;
      text += `\n${lines[end]}`;
    }
    const m = KEY_LINE.exec(line);
    keys.push({ header: headers.length - 1, ...(m ? { key: m[2] as string } : {}), line: i, end });
    i = end + 1;
  }
  return { headers, keys };
}

function samePath(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date)
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a) || Array.isArray(b))
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
    );
  if (isTable(a) && isTable(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return Object.is(a, b);
}

function withValue(doc: TomlTable, path: readonly string[], value: unknown): TomlTable {
  const copy = structuredClone(doc);
  let t: TomlTable = copy;
  for (const p of path.slice(0, -1)) {
    if (!isTable(t[p])) t[p] = {};
    t = t[p] as TomlTable;
  }
  t[path[path.length - 1] as string] = value;
  return copy;
}

/** Splits the text right of `=` into the value and what follows it (spaces and a comment). */
function splitComment(rest: string): { value: string; tail: string } {
  for (let p = rest.indexOf('#'); p >= 0; p = rest.indexOf('#', p + 1)) {
    const value = rest.slice(0, p).trimEnd();
    if (value !== '' && parses(`v = ${value}`)) return { value, tail: rest.slice(value.length) };
  }
  return { value: rest.trimEnd(), tail: '' };
}

function cannot(key: string, file: string, why: string): GastownError {
  return new GastownError(
    'config.cannot-edit',
    `cannot set \`${key}\` safely: ${why}; edit the file by hand`,
    {
      location: { file, path: key },
    },
  );
}

/**
 * `text` with `path` set to `value`: the value on its line replaced (a trailing comment kept), or
 * a line added at the end of its table, or a new table at the end of the file. Throws when the
 * key cannot be edited that way, naming why.
 */
export function setConfigText(text: string, path: readonly string[], value: unknown, file: string): string {
  const key = path.join('.');
  const before = parseToml(text, file);
  const existing = getPath(before, path);
  if (isTable(existing)) throw cannot(key, file, 'it is a table; set one of its keys');
  for (let n = 1; n < path.length; n++) {
    const parent = getPath(before, path.slice(0, n));
    if (parent !== undefined && !isTable(parent))
      throw cannot(key, file, `\`${path.slice(0, n).join('.')}\` is a value, not a table`);
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const { headers, keys } = scan(lines);
  const table = path.slice(0, -1);
  const name = path[path.length - 1] as string;
  const rendered = renderTomlValue(value);
  const inTable = (k: KeyLine) =>
    k.header < 0 ? table.length === 0 : samePath(headers[k.header]?.path, table);
  const found = keys.filter((k) => k.key === name && inTable(k));
  if (found.length > 1) throw cannot(key, file, 'it is defined more than once');
  const hit = found[0];
  if (hit) {
    if (hit.end !== hit.line) throw cannot(key, file, 'its value spans several lines');
    const m = KEY_LINE.exec(lines[hit.line] as string) as RegExpExecArray;
    const { tail } = splitComment(m[4] as string);
    lines[hit.line] = `${m[1]}${m[2]}${m[3]}${rendered}${tail}`;
  } else {
    const line = `${name} = ${rendered}`;
    const headerIndex = table.length === 0 ? -1 : headers.findIndex((h) => samePath(h.path, table));
    if (table.length > 0 && headerIndex < 0) {
      while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
      if (lines.length > 0) lines.push('');
      lines.push(`[${table.join('.')}]`, line, '');
    } else {
      const own = keys.filter((k) => k.header === headerIndex);
      let at: number;
      if (own.length > 0) at = (own[own.length - 1] as KeyLine).end + 1;
      else if (headerIndex >= 0) at = (headers[headerIndex] as Header).line + 1;
      else if (headers.length === 0) {
        while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
        at = lines.length;
        lines.push('');
      } else {
        // No key before the first table yet: add one just above it and the comments that lead into it.
        at = (headers[0] as Header).line;
        while (at > 0 && (lines[at - 1] as string).trim().startsWith('#')) at--;
        lines.splice(at, 0, '');
      }
      lines.splice(at, 0, line);
    }
  }
  const out = lines.join(eol);
  let after: TomlTable;
  try {
    after = parse(out) as TomlTable;
  } catch {
    throw cannot(
      key,
      file,
      'the table is written in a form this editor does not change (an inline table, a dotted key or an array of tables)',
    );
  }
  if (!deepEqual(after, withValue(before, path, value)))
    throw cannot(
      key,
      file,
      'the file defines it in a form this editor does not change (a dotted key, an inline table or an array of tables)',
    );
  return out;
}
