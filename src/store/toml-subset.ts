// A reader for exactly the TOML our writer emits (smol-toml's `stringify` of canonical data:
// `[a.b]` / `[[a.b]]` headers, `key = value` lines, basic strings in JSON form, integers,
// plain decimals, booleans, `[ x, y ]` arrays and `{ k = v }` inline tables, blank lines).
// molecule.toml and formula.resolved.toml are written only by gastown, and a cold `advance`
// parses one of each per molecule: this reader is several times faster than the general
// parser. Anything outside the subset (a comment, other spacing, a literal string, a date, a
// hand edit that redefines a table) returns undefined and the caller uses the full parser, so
// results and error messages are the full parser's whenever we are not sure (toml.ts).
// Tables are null-prototype objects, as smol-toml returns them; test/store/toml-subset.test.ts
// checks both parsers agree on generated documents, every corpus formula and mutated files.
// A second reader, formula/toml-simple.ts, takes the wider subset people write in formula files
// under the same contract, with the helpers exported here.

export type Table = Record<string, unknown>;

/** Thrown internally when the text leaves the subset; never escapes this module. */
export const NOT_OURS = new Error('not in the written subset');

// Tokens of the subset as sticky regular expressions: in a short-lived process, the regex engine
// (native code) beats a character loop that has not been optimised yet.
const BASIC_STRING = String.raw`"(?:[^"\\\x00-\x1f\x7f]|\\(?:[btnfr"\\]|u[0-9A-Fa-f]{4}))*"`;
const BARE_KEY = '[A-Za-z0-9_-]+';
const KEY = new RegExp(`${BARE_KEY}|${BASIC_STRING}`, 'y');
const STRING = new RegExp(BASIC_STRING, 'y');
export const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?/y;
/** The common line: `key = "text"`, `key = 12`, `key = true`. */
const SIMPLE_LINE = new RegExp(
  `^(${BARE_KEY}|${BASIC_STRING}) = (?:(${BASIC_STRING})|(-?(?:0|[1-9][0-9]{0,14}))|(true|false))$`,
);
/** Headers whose keys are all bare, the usual case: one regex instead of a token walk. */
const BARE_TABLE_HEADER = /^\[([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\]$/;
const BARE_ARRAY_HEADER = /^\[\[([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\]\]$/;
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

export function readWrittenToml(text: string): Table | undefined {
  try {
    return readDocument(text);
  } catch (err) {
    if (err === NOT_OURS) return undefined;
    throw err;
  }
}

export function fail(): never {
  throw NOT_OURS;
}

/**
 * A table with a null prototype, as smol-toml makes them, but made from `{}`: V8 keeps such an
 * object's properties in fast mode (shared hidden classes, inline caches in every reader of the
 * document), where `Object.create(null)` starts in dictionary mode.
 */
export function newTable(): Table {
  const table = {};
  Object.setPrototypeOf(table, null);
  return table as Table;
}

/** A basic string token (quotes included) as its value. */
function unquote(token: string): string {
  if (!token.includes('\\')) return token.slice(1, -1);
  // TOML has no surrogate escapes; JSON has: leave those to the full parser.
  if (SURROGATE_ESCAPE.test(token)) fail();
  return JSON.parse(token) as string;
}

// smol-toml defines `__proto__` specially; we never write it, so leave it to the full parser.
function keyOf(token: string): string {
  return plainKey(token.charCodeAt(0) === 34 /* " */ ? unquote(token) : token);
}

/** A key as it is (already unquoted), unless it is `__proto__`. */
export function plainKey(key: string): string {
  return key === '__proto__' ? fail() : key;
}

export function define(table: Table, key: string, value: unknown): void {
  if (table[key] !== undefined) fail();
  table[key] = value;
}

function readDocument(text: string): Table {
  if (text.length === 0 || text.charCodeAt(text.length - 1) !== 10) fail();
  const lines = text.split('\n');
  lines.pop();
  const root = newTable();
  // Tables made by headers (explicitly or as a path prefix): the only ones a header may enter;
  // arrays made by `[[…]]`: the only arrays a header may append to or enter.
  const headerTables = new Set<object>([root]);
  const tableArrays = new Set<unknown[]>();
  let current = root;
  // Indexed loops and no destructuring: this runs before the JIT has optimised anything.
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    if (line.charCodeAt(0) === 91 /* [ */) {
      current = header(line, root, headerTables, tableArrays);
      continue;
    }
    const m = SIMPLE_LINE.exec(line);
    if (m) {
      const str = m[2];
      const int = m[3];
      if (int === '-0') fail();
      define(
        current,
        keyOf(m[1] as string),
        str !== undefined ? unquote(str) : int !== undefined ? Number(int) : m[4] === 'true',
      );
      continue;
    }
    const cursor = new LineCursor(line);
    const key = cursor.key();
    cursor.expect(' = ');
    const value = cursor.value();
    if (cursor.pos !== line.length) fail();
    define(current, key, value);
  }
  return root;
}

/** `[a.b]` or `[[a.b]]`: returns the table that the following keys go into. */
function header(line: string, root: Table, headerTables: Set<object>, tableArrays: Set<unknown[]>): Table {
  const isArray = line.charCodeAt(1) === 91;
  let path: string[];
  const bare = (isArray ? BARE_ARRAY_HEADER : BARE_TABLE_HEADER).exec(line);
  if (bare) path = (bare[1] as string).split('.');
  else {
    const cursor = new LineCursor(line);
    cursor.pos = isArray ? 2 : 1;
    path = [cursor.key()];
    while (line.charCodeAt(cursor.pos) === 46 /* . */) {
      cursor.pos++;
      path.push(cursor.key());
    }
    cursor.expect(isArray ? ']]' : ']');
    if (cursor.pos !== line.length) fail();
  }
  return openTable(path, isArray, root, headerTables, tableArrays);
}

/**
 * The table a header's key path names, made as TOML makes it: intermediate tables made on the
 * way, the last element of an array of tables entered, a new element appended for `[[…]]`.
 * Only tables made by headers (`headerTables`) and arrays made by `[[…]]` (`tableArrays`) may be
 * entered; anything TOML allows but we never need (defining a table that a longer header made
 * implicitly, a header into a dotted-key table) is left to the full parser.
 */
export function openTable(
  path: string[],
  isArray: boolean,
  root: Table,
  headerTables: Set<object>,
  tableArrays: Set<unknown[]>,
): Table {
  if (path.includes('__proto__')) fail();
  let table = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i] as string;
    let next = table[seg];
    if (next === undefined) {
      const made = newTable();
      headerTables.add(made);
      table[seg] = made;
      next = made;
    } else if (Array.isArray(next)) {
      if (!tableArrays.has(next)) fail();
      next = next[next.length - 1];
    } else if (typeof next !== 'object' || next === null || !headerTables.has(next)) fail();
    table = next as Table;
  }
  const last = path[path.length - 1] as string;
  const existing = table[last];
  const made = newTable();
  headerTables.add(made);
  if (isArray) {
    if (existing === undefined) {
      const list = [made];
      tableArrays.add(list);
      table[last] = list;
    } else if (Array.isArray(existing) && tableArrays.has(existing)) existing.push(made);
    else fail();
  } else {
    if (existing !== undefined) fail();
    table[last] = made;
  }
  return made;
}

/** Values that need more than one regex: arrays, inline tables, decimals. One line at a time. */
class LineCursor {
  pos = 0;

  constructor(private readonly line: string) {}

  expect(s: string): void {
    if (!this.line.startsWith(s, this.pos)) fail();
    this.pos += s.length;
  }

  private token(re: RegExp): string {
    re.lastIndex = this.pos;
    const m = re.exec(this.line);
    if (!m) fail();
    this.pos += m[0].length;
    return m[0];
  }

  key(): string {
    return keyOf(this.token(KEY));
  }

  value(): unknown {
    const line = this.line;
    const c = line.charCodeAt(this.pos);
    if (c === 34 /* " */) return unquote(this.token(STRING));
    if (c === 91 /* [ */) return this.array();
    if (c === 123 /* { */) return this.inlineTable();
    if (line.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (line.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    // Integers in the safe range (not `-0`) and plain decimals; exponents, inf, nan are not ours.
    const raw = this.token(NUMBER);
    const n = Number(raw);
    if (raw.includes('.') ? !Number.isFinite(n) : !Number.isSafeInteger(n) || raw === '-0') fail();
    return n;
  }

  private array(): unknown[] {
    if (this.line.startsWith('[]', this.pos)) {
      this.pos += 2;
      return [];
    }
    this.expect('[ ');
    const out: unknown[] = [];
    for (;;) {
      out.push(this.value());
      if (this.line.startsWith(' ]', this.pos)) {
        this.pos += 2;
        return out;
      }
      this.expect(', ');
    }
  }

  private inlineTable(): Table {
    const out = newTable();
    if (this.line.startsWith('{}', this.pos)) {
      this.pos += 2;
      return out;
    }
    this.expect('{ ');
    for (;;) {
      const key = this.key();
      this.expect(' = ');
      define(out, key, this.value());
      if (this.line.startsWith(' }', this.pos)) {
        this.pos += 2;
        return out;
      }
      this.expect(', ');
    }
  }
}
