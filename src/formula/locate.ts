// Finds the line of a key path (`steps[3].needs[0]`) in TOML text with a light line scan: it
// follows `[table]` and `[[array]]` headers and `key =` lines, skipping multi-line strings. It is
// only used to point at errors, so it may fall back to the nearest enclosing table.

const KEY_PART = String.raw`(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')`;
const KEY_LINE = new RegExp(String.raw`^(${KEY_PART}(?:\s*\.\s*${KEY_PART})*)\s*=`);

const BARE_KEY = /^[A-Za-z0-9_-]+$/;
const KEY_PARTS = new RegExp(KEY_PART, 'g');

function splitKey(key: string): string[] {
  // Most keys are one bare word: no regex walk for them (this runs for every key of a file).
  if (BARE_KEY.test(key)) return [key];
  const parts: string[] = [];
  const re = KEY_PARTS;
  for (const m of key.matchAll(re)) {
    const p = m[0];
    parts.push(p.startsWith('"') || p.startsWith("'") ? p.slice(1, -1) : p);
  }
  return parts;
}

/** Map from key path to 1-based line for every header and key in a TOML document. */
export function tomlKeyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  let table = '';
  let inString: string | undefined;
  const resolve = (parts: string[]): string => {
    let path = '';
    for (const p of parts) {
      path = path === '' ? p : `${path}.${p}`;
      const n = arrayCounts.get(path);
      if (n !== undefined) path = `${path}[${n - 1}]`;
    }
    return path;
  };
  const all = text.split('\n');
  for (let i = 0; i < all.length; i++) {
    const raw = all[i]!;
    if (inString) {
      if (countOf(raw, inString) % 2 === 1) inString = undefined;
      continue;
    }
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[[')) {
      const parts = splitKey(line.slice(2, line.indexOf(']]')));
      const parent = resolve(parts.slice(0, -1));
      const key = parent === '' ? parts.at(-1)! : `${parent}.${parts.at(-1)}`;
      const n = (arrayCounts.get(key) ?? 0) + 1;
      arrayCounts.set(key, n);
      table = `${key}[${n - 1}]`;
      if (!lines.has(table)) lines.set(table, i + 1);
      continue;
    }
    if (line.startsWith('[')) {
      table = resolve(splitKey(line.slice(1, line.indexOf(']'))));
      if (!lines.has(table)) lines.set(table, i + 1);
      continue;
    }
    const m = KEY_LINE.exec(line);
    if (!m) continue;
    const key = splitKey(m[1]!).join('.');
    const path = table === '' ? key : `${table}.${key}`;
    if (!lines.has(path)) lines.set(path, i + 1);
    const rest = line.slice(m[0].length);
    for (const delim of ['"""', "'''"]) {
      if (countOf(rest, delim) % 2 === 1) inString = delim;
    }
  }
  return lines;
}

function countOf(s: string, sub: string): number {
  let n = 0;
  for (let i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length)) n++;
  return n;
}

/** The line of `path`, or of the nearest enclosing key or table that has one. */
export function lineOfPath(lines: Map<string, number>, path: string): number | undefined {
  let p = path;
  while (p !== '') {
    const line = lines.get(p);
    if (line !== undefined) return line;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return undefined;
    p = p.slice(0, cut);
  }
  return undefined;
}
