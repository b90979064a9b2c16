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
// A second reader below (readSimpleToml) takes the wider subset people write in formula files,
// under the same contract (test/store/toml-simple.test.ts).

type Table = Record<string, unknown>;

/** Thrown internally when the text leaves the subset; never escapes this module. */
const NOT_OURS = new Error('not in the written subset');

// Tokens of the subset as sticky regular expressions: in a short-lived process, the regex engine
// (native code) beats a character loop that has not been optimised yet.
const BASIC_STRING = String.raw`"(?:[^"\\\x00-\x1f\x7f]|\\(?:[btnfr"\\]|u[0-9A-Fa-f]{4}))*"`;
const BARE_KEY = '[A-Za-z0-9_-]+';
const KEY = new RegExp(`${BARE_KEY}|${BASIC_STRING}`, 'y');
const STRING = new RegExp(BASIC_STRING, 'y');
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?/y;
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

function fail(): never {
  throw NOT_OURS;
}

/**
 * A table with a null prototype, as smol-toml makes them, but made from `{}`: V8 keeps such an
 * object's properties in fast mode (shared hidden classes, inline caches in every reader of the
 * document), where `Object.create(null)` starts in dictionary mode.
 */
function newTable(): Table {
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
function plainKey(key: string): string {
  return key === '__proto__' ? fail() : key;
}

function define(table: Table, key: string, value: unknown): void {
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
function openTable(
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

// ---------------------------------------------------------------------------------------------
// Hand-written TOML (formula files): comments, free spacing, literal and multi-line strings,
// escapes, dotted keys, arrays over several lines. The same contract as above: a document is read
// here only when every part of it is in the subset below, and then the result is exactly smol-toml's;
// anything else (dates, exponents, `inf`, hex, `+1`, `\e`/`\x`/`\U` escapes, CR, a BOM, a tab
// inside a quoted key, 4–5 quotes closing a multi-line string, multi-line or dotted inline tables,
// any table redefinition or `__proto__`) returns undefined and the caller uses smol-toml, so
// errors and their positions are always smol-toml's. Sticky regular expressions do the scanning:
// in a fresh process they run as native code while a character loop is still interpreted.

/** Comment text: TOML refuses control characters there (tab aside). */
const COMMENT = '(?:#[^\\x00-\\x08\\x0a-\\x1f\\x7f]*)?';
/** Blank lines, comment lines and spacing; ends before the next token (or at the end). */
const VOID = new RegExp(`(?:[ \\t]*${COMMENT}\\n)*[ \\t]*${COMMENT}`, 'y');
/** Spacing and a comment to the end of a line (or of the document). */
const LINE_END = new RegExp(`[ \\t]*${COMMENT}(?:\\n|$)`, 'y');
const SPACE = /[ \t]*/y;
const ESCAPE = String.raw`\\(?:[btnfr"\\]|u[0-9A-Fa-f]{4})`;
/** One key of a dotted path with the spacing around it: bare, basic (group 2) or literal (group 3). */
const KEY_PART = new RegExp(
  String.raw`[ \t]*(?:([A-Za-z0-9_-]+)|"((?:[^"\\\x00-\x1f\x7f]|${ESCAPE})*)"|'([^'\x00-\x1f\x7f]*)')[ \t]*`,
  'y',
);
const BASIC = new RegExp(String.raw`"((?:[^"\\\x00-\x08\x0a-\x1f\x7f]|${ESCAPE})*)"`, 'y');
const LITERAL = /'([^'\x00-\x08\x0a-\x1f\x7f]*)'/y;
// Multi-line strings: the newline right after the opening quotes is dropped; a quote may appear
// inside unless two more follow (a string closed by 4–5 quotes is left to the full parser, whose
// rule for those is what the text after the match decides).
const ML_BASIC = new RegExp(
  String.raw`"""\n?((?:[^"\\\x00-\x08\x0b-\x1f\x7f]|"(?!"")|${ESCAPE}|\\[ \t]*\n[ \t\n]*)*)"""`,
  'y',
);
const ML_LITERAL = /'''\n?((?:[^'\x00-\x08\x0b-\x1f\x7f]|'(?!''))*)'''/y;
const UNESCAPE = /\\(?:([btnfr"\\])|u([0-9A-Fa-f]{4})|[ \t]*\n[ \t\n]*)/g;
const ESCAPED: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
/** The common line, in one match: `key = "text"` (no escapes), `key = 12`, `key = true`. */
const FAST_PAIR = new RegExp(
  `([A-Za-z0-9_-]+)[ \\t]*=[ \\t]*(?:"([^"\\\\\\x00-\\x1f\\x7f]*)"|(-?(?:0|[1-9][0-9]{0,14}))|(true|false))[ \\t]*${COMMENT}(?:\\n|$)`,
  'y',
);
const FAST_TABLE = new RegExp(`\\[([A-Za-z0-9_-]+(?:\\.[A-Za-z0-9_-]+)*)\\][ \\t]*${COMMENT}(?:\\n|$)`, 'y');
const FAST_ARRAY = new RegExp(
  `\\[\\[([A-Za-z0-9_-]+(?:\\.[A-Za-z0-9_-]+)*)\\]\\][ \\t]*${COMMENT}(?:\\n|$)`,
  'y',
);
/** Arrays and inline tables nest at most this deep here (smol-toml's own limit is far higher). */
const MAX_DEPTH = 32;

/**
 * A hand-written TOML document as smol-toml's `parse` gives it, or undefined when the text uses
 * anything outside the subset described above (then, and for every error, use smol-toml).
 */
export function readSimpleToml(text: string): Table | undefined {
  // CR (CRLF line ends) and a BOM are legal but rare: not handled here, so not accepted.
  if (text.charCodeAt(0) === 0xfeff || text.indexOf('\r') !== -1) return undefined;
  try {
    return new HandReader(text).document();
  } catch (err) {
    if (err === NOT_OURS) return undefined;
    throw err;
  }
}

function unescapeOne(_all: string, simple: string | undefined, hex: string | undefined): string {
  if (simple !== undefined) return ESCAPED[simple] as string;
  if (hex !== undefined) {
    const code = Number.parseInt(hex, 16);
    // Surrogate halves are not scalar values: TOML refuses them.
    if (code >= 0xd800 && code <= 0xdfff) fail();
    return String.fromCharCode(code);
  }
  return ''; // a line-ending backslash: the newline and the whitespace after it go
}

function unescapeBasic(body: string): string {
  return body.includes('\\') ? body.replace(UNESCAPE, unescapeOne) : body;
}

class HandReader {
  pos = 0;
  private readonly root = newTable();
  private readonly headerTables = new Set<object>([this.root]);
  private readonly tableArrays = new Set<unknown[]>();
  /** Tables made by dotted keys: the only ones a dotted key may add to. */
  private readonly dottedTables = new Set<object>();

  constructor(private readonly text: string) {}

  document(): Table {
    const text = this.text;
    const end = text.length;
    let current = this.root;
    for (;;) {
      this.skipVoid();
      if (this.pos >= end) return this.root;
      if (text.charCodeAt(this.pos) === 91 /* [ */) {
        current = this.header();
        continue;
      }
      FAST_PAIR.lastIndex = this.pos;
      const m = FAST_PAIR.exec(text);
      if (m !== null) {
        this.pos = FAST_PAIR.lastIndex;
        const str = m[2];
        const int = m[3];
        if (int === '-0') fail();
        define(
          current,
          plainKey(m[1] as string),
          str !== undefined ? str : int !== undefined ? Number(int) : m[4] === 'true',
        );
        continue;
      }
      const path = this.keyPath();
      if (text.charCodeAt(this.pos) !== 61 /* = */) fail();
      this.pos++;
      this.skip(SPACE);
      const value = this.value(0);
      if (!this.skip(LINE_END)) fail();
      this.assign(current, path, value);
    }
  }

  /** Blank lines, comments and spacing; the regex only runs when one of them starts here. */
  private skipVoid(): void {
    const c = this.text.charCodeAt(this.pos);
    if (c === 10 || c === 32 || c === 35 /* # */ || c === 9) this.skip(VOID);
  }

  /** Runs a sticky regex at the cursor; true (and the cursor moved past it) when it matched. */
  private skip(re: RegExp): boolean {
    re.lastIndex = this.pos;
    if (!re.test(this.text)) return false;
    this.pos = re.lastIndex;
    return true;
  }

  private match(re: RegExp): RegExpExecArray {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (m === null) fail();
    this.pos = re.lastIndex;
    return m;
  }

  private header(): Table {
    const text = this.text;
    const isArray = text.charCodeAt(this.pos + 1) === 91;
    const fast = isArray ? FAST_ARRAY : FAST_TABLE;
    fast.lastIndex = this.pos;
    const m = fast.exec(text);
    let path: string[];
    if (m !== null) {
      this.pos = fast.lastIndex;
      path = (m[1] as string).split('.');
    } else {
      this.pos += isArray ? 2 : 1;
      path = this.keyPath();
      if (text.charCodeAt(this.pos) !== 93 /* ] */) fail();
      this.pos++;
      if (isArray) {
        if (text.charCodeAt(this.pos) !== 93) fail();
        this.pos++;
      }
      if (!this.skip(LINE_END)) fail();
    }
    return openTable(path, isArray, this.root, this.headerTables, this.tableArrays);
  }

  /** `a`, `a.b`, `"x y".'z'`: the keys, with the spacing around each. */
  private keyPath(): string[] {
    const path = [this.key()];
    while (this.text.charCodeAt(this.pos) === 46 /* . */) {
      this.pos++;
      path.push(this.key());
    }
    return path;
  }

  private key(): string {
    const m = this.match(KEY_PART);
    const bare = m[1];
    const basic = m[2];
    return plainKey(
      bare !== undefined ? bare : basic !== undefined ? unescapeBasic(basic) : (m[3] as string),
    );
  }

  /** `a.b.c = v` in `table`: tables for `a` and `b` made (or re-entered if dotted keys made them). */
  private assign(table: Table, path: string[], value: unknown): void {
    let t = table;
    for (let i = 0; i < path.length - 1; i++) {
      const seg = path[i] as string;
      const next = t[seg];
      if (next === undefined) {
        const made = newTable();
        this.dottedTables.add(made);
        t[seg] = made;
        t = made;
      } else if (this.dottedTables.has(next as object)) t = next as Table;
      else fail();
    }
    define(t, path[path.length - 1] as string, value);
  }

  private value(depth: number): unknown {
    const text = this.text;
    const pos = this.pos;
    const c = text.charCodeAt(pos);
    if (c === 34 /* " */) {
      if (text.startsWith('"""', pos)) return unescapeBasic(this.match(ML_BASIC)[1] as string);
      return unescapeBasic(this.match(BASIC)[1] as string);
    }
    if (c === 39 /* ' */) return this.match(text.startsWith("'''", pos) ? ML_LITERAL : LITERAL)[1];
    if (c === 91 /* [ */) return this.array(depth + 1);
    if (c === 123 /* { */) return this.inlineTable(depth + 1);
    if (text.startsWith('true', pos)) {
      this.pos += 4;
      return true;
    }
    if (text.startsWith('false', pos)) {
      this.pos += 5;
      return false;
    }
    const raw = this.match(NUMBER)[0];
    const n = Number(raw);
    if (raw.includes('.') ? !Number.isFinite(n) : !Number.isSafeInteger(n) || raw === '-0') fail();
    return n;
  }

  /** `[ v, v, ]` over any number of lines, comments between the values. */
  private array(depth: number): unknown[] {
    if (depth > MAX_DEPTH) fail();
    const text = this.text;
    const out: unknown[] = [];
    this.pos++;
    this.skipVoid();
    if (text.charCodeAt(this.pos) === 93 /* ] */) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.skipVoid();
      const c = text.charCodeAt(this.pos++);
      if (c === 93 /* ] */) return out;
      if (c !== 44 /* , */) fail();
      this.skipVoid();
      if (text.charCodeAt(this.pos) === 93) {
        this.pos++;
        return out;
      }
    }
  }

  /** `{ k = v, k = v }` on one line, plain keys only. */
  private inlineTable(depth: number): Table {
    if (depth > MAX_DEPTH) fail();
    const text = this.text;
    const out = newTable();
    this.pos++;
    this.skip(SPACE);
    if (text.charCodeAt(this.pos) === 125 /* } */) {
      this.pos++;
      return out;
    }
    for (;;) {
      const key = this.key();
      if (text.charCodeAt(this.pos) !== 61 /* = */) fail();
      this.pos++;
      this.skip(SPACE);
      define(out, key, this.value(depth));
      this.skip(SPACE);
      const c = text.charCodeAt(this.pos++);
      if (c === 125 /* } */) return out;
      if (c !== 44 /* , */) fail();
    }
  }
}
