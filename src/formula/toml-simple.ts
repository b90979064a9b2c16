// Hand-written TOML (formula files): comments, free spacing, literal and multi-line strings,
// escapes, dotted keys, arrays over several lines. The contract of store/toml-subset.ts: a document is read
// here only when every part of it is in the subset below, and then the result is exactly smol-toml's;
// anything else (dates, exponents, `inf`, hex, `+1`, `\e`/`\x`/`\U` escapes, CR, a BOM, a tab
// inside a quoted key, 4–5 quotes closing a multi-line string, multi-line or dotted inline tables,
// any table redefinition or `__proto__`) returns undefined and the caller uses smol-toml, so
// errors and their positions are always smol-toml's. Sticky regular expressions do the scanning:
// in a fresh process they run as native code while a character loop is still interpreted.
// Its own module, not toml-subset.ts: only formula parsing needs it, and the readers that load the
// config's chunk would otherwise compile it on every run.

import {
  define,
  fail,
  NOT_OURS,
  NUMBER,
  newTable,
  openTable,
  plainKey,
  type Table,
} from '../store/toml-subset.js';

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
