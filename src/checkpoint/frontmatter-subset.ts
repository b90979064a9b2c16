// A reader for exactly the front matter gastown writes (frontmatter.ts renderFrontMatter): one
// `key: value` per line, a value plain, quoted, `[]`, or a block list of such values, a comment
// after a value. A cold `advance` reads a checkpoint per waiting molecule, and the YAML parser was
// a fifth of its time. Anything else, and anything this reader is not sure of (a tab, a blank
// line, non-ASCII text, an escape, a number in another notation), is left to the YAML parser.
// Pinned to that parser by test/checkpoint/frontmatter-subset.test.ts.

export interface SubsetFrontMatter {
  data: Record<string, unknown>;
  /** 1-based line of each top-level key in the file (the `---` line is line 1). */
  lines: Record<string, number>;
}

// Printable ASCII only: YAML gives other characters meanings (line breaks, BOMs, spaces).
const PRINTABLE = /^[\x20-\x7e\n]*$/;
const KEY_LINE = /^([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?$/;
const ITEM_LINE = /^( *)- +(.*)$/;
// Words the YAML core schema reads as null or booleans, and keys that are not plain names.
const NULLS = new Set(['null', 'Null', 'NULL']);
const BOOLEANS = new Map([
  ['true', true],
  ['True', true],
  ['TRUE', true],
  ['false', false],
  ['False', false],
  ['FALSE', false],
]);
const ODD_KEYS = new Set(['__proto__', ...NULLS, ...BOOLEANS.keys()]);
// Numbers read here: decimal, no sign, no leading zero, few enough digits to be exact.
const INT = /^(?:0|[1-9][0-9]{0,14})$/;
const FLOAT = /^(?:0|[1-9][0-9]{0,14})\.[0-9]{1,17}$/;
// Any other spelling the core schema reads as a number: left to the parser.
const OTHER_NUMBER =
  /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const DECLINE = Symbol('decline');
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', n: '\n', t: '\t' };
type Value = unknown;

/** The fields of `yaml` (the text between the `---` lines), or undefined: ask the YAML parser. */
export function readWrittenFrontMatter(yaml: string): SubsetFrontMatter | undefined {
  if (!PRINTABLE.test(yaml)) return undefined;
  const data: Record<string, unknown> = {};
  const lines: Record<string, number> = {};
  const rows = yaml.split('\n');
  const last = rows[rows.length - 1] === '' ? rows.length - 1 : rows.length;
  // The key whose value is a block list being read, and the indent of its items.
  let list: unknown[] | undefined;
  let indent = -1;
  for (let i = 0; i < last; i++) {
    const row = rows[i] as string;
    const item = ITEM_LINE.exec(row);
    if (item) {
      if (!list) return undefined;
      const at = (item[1] as string).length;
      if (indent < 0) indent = at;
      else if (at !== indent) return undefined;
      const v = scalar(item[2] as string);
      if (v === DECLINE || v === null) return undefined;
      list.push(v);
      continue;
    }
    // `key:` with no items under it (null) is left to the parser.
    if (list?.length === 0) return undefined;
    list = undefined;
    const m = KEY_LINE.exec(row);
    if (!m) return undefined;
    const key = m[1] as string;
    if (ODD_KEYS.has(key) || Object.hasOwn(data, key)) return undefined;
    const rest = m[2] ?? '';
    let v: Value;
    if (rest === '' || rest.startsWith('#')) {
      // Nothing after the colon: a block list follows.
      list = [];
      indent = -1;
      v = list;
    } else v = rest.startsWith('[]') ? (afterValue(rest.slice(2)) ? [] : DECLINE) : scalar(rest);
    if (v === DECLINE) return undefined;
    data[key] = v;
    lines[key] = i + 2;
  }
  if (list?.length === 0) return undefined;
  return { data, lines };
}

/** What may follow a value on its line: nothing, or blanks and a comment. */
function afterValue(tail: string): boolean {
  return tail === '' || /^ +(?:#.*)?$/.test(tail);
}

/** A value that is not a list: quoted, or plain (null, a boolean, a number or text). */
function scalar(text: string): Value {
  const c = text[0];
  if (c === '"') {
    let out = '';
    let from = 1;
    for (let i = 1; i < text.length; i++) {
      const ch = text[i];
      if (ch === '"') return afterValue(text.slice(i + 1)) ? out + text.slice(from, i) : DECLINE;
      if (ch !== '\\') continue;
      // The escapes JSON.stringify writes; any other is left to the parser.
      const e = ESCAPES[text[i + 1] as string];
      if (e === undefined) return DECLINE;
      out += text.slice(from, i) + e;
      i++;
      from = i + 1;
    }
    return DECLINE;
  }
  if (c === "'") {
    let out = '';
    let i = 1;
    for (;;) {
      const q = text.indexOf("'", i);
      if (q < 0) return DECLINE;
      out += text.slice(i, q);
      if (text[q + 1] !== "'") {
        return afterValue(text.slice(q + 1)) ? out : DECLINE;
      }
      out += "'";
      i = q + 2;
    }
  }
  if (c === undefined || !/[A-Za-z0-9_/(]/.test(c)) return DECLINE;
  // A comment starts at ` #`; blanks before it are not part of the value.
  const hash = text.indexOf(' #');
  const plain = (hash < 0 ? text : text.slice(0, hash)).replace(/ +$/, '');
  if (plain.includes(': ') || plain.endsWith(':')) return DECLINE;
  if (NULLS.has(plain)) return null;
  const b = BOOLEANS.get(plain);
  if (b !== undefined) return b;
  if (INT.test(plain) || FLOAT.test(plain)) return Number(plain);
  if (OTHER_NUMBER.test(plain)) return DECLINE;
  return plain;
}
