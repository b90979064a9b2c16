// Regular expressions a formula supplies (`forbid` patterns, var `pattern`s) run on text that may
// come from anyone (the files a gate scans, the values an agent passes with --var), so they are
// matched by a linear-time engine: RE2 syntax through re2js (pure JavaScript, no native code).
// A backtracking engine took 153 s on `(a+)+$` over 40 characters, holding the lock; RE2 has no
// backreferences or lookaround, which is what makes its time linear (docs/decisions.md).
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';

// Loaded on the first pattern, not with the formula engine: re2js costs ~10 ms of start-up
// (Unicode tables), and most formulas have no pattern. Required at run time from node_modules
// (a dependency), so the bundle does not hold it.
let engine: typeof RE2JS | undefined;
function re2(): typeof RE2JS {
  engine ??= (createRequire(import.meta.url)('re2js') as typeof import('re2js')).RE2JS;
  return engine;
}

export interface Pattern {
  /** True when the pattern matches anywhere in `text` (as RegExp#test does). */
  test(text: string): boolean;
}

const compiled = new Map<string, Pattern>();

export const PATTERN_SYNTAX =
  'formula patterns use RE2 syntax, matched in linear time: no lookaround (`(?=`, `(?!`, `(?<=`), no backreferences (`\\1`); write `\\x{e9}` for `\\u00e9`';

// Most patterns formulas carry are plain (`^[A-Za-z0-9_.-]+$`, `^\\d+\\.\\d+$`): anchors, literals,
// `.`, Perl classes, bracket classes of literals and ranges, and `* + ?` on single atoms. Those
// are matched here, by the same linear-time method (a set of positions in the pattern per code
// point of the text), without loading re2js; anything else, or anything this reading is not
// sure of, goes to re2js. test/formula/pattern-plain.test.ts pins the two to each other.
type CodeTest = (c: number) => boolean;
interface Atom {
  test: CodeTest;
  optional: boolean;
  repeats: boolean;
}
interface Plain {
  start: boolean;
  end: boolean;
  atoms: Atom[];
}

const isDigit: CodeTest = (c) => c >= 48 && c <= 57;
const isWord: CodeTest = (c) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
// RE2's \s is Perl's: tab, newline, form feed, carriage return and space (no \v, no Unicode spaces).
const isSpace: CodeTest = (c) => c === 9 || c === 10 || c === 12 || c === 13 || c === 32;
const PERL: Record<string, CodeTest> = {
  d: isDigit,
  D: (c) => !isDigit(c),
  w: isWord,
  W: (c) => !isWord(c),
  s: isSpace,
  S: (c) => !isSpace(c),
};
const LITERAL = /[A-Za-z0-9 _/:@,;=<>!%&~'"#-]/;
const ESCAPED = /[.\-/\\+*?()[\]{}|^$]/;
const IN_CLASS = /[A-Za-z0-9 _/:@,;=<>!%&~'"#.+*?(){}|$]/;
const ALNUM = /[A-Za-z0-9]/;

/** The pattern as atoms when it is plain, else undefined. */
function plainPattern(pattern: string): Plain | undefined {
  if (pattern.length > 200) return undefined;
  let i = 0;
  const start = pattern[0] === '^';
  if (start) i++;
  const atoms: Atom[] = [];
  let end = false;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    let test: CodeTest;
    if (ch === '$') {
      if (i !== pattern.length - 1) return undefined;
      end = true;
      break;
    }
    if (ch === '.') {
      test = (c) => c !== 10;
      i++;
    } else if (ch === '\\') {
      const e = pattern[i + 1] ?? '';
      if (PERL[e]) test = PERL[e];
      else if (ESCAPED.test(e)) {
        const code = e.charCodeAt(0);
        test = (c) => c === code;
      } else return undefined;
      i += 2;
    } else if (ch === '[') {
      const cls = plainClass(pattern, i + 1);
      if (!cls) return undefined;
      test = cls.test;
      i = cls.next;
    } else if (LITERAL.test(ch)) {
      const code = ch.charCodeAt(0);
      test = (c) => c === code;
      i++;
    } else return undefined;
    const q = pattern[i];
    const atom: Atom = { test, optional: q === '*' || q === '?', repeats: q === '*' || q === '+' };
    if (q === '*' || q === '+' || q === '?') {
      i++;
      const after = pattern[i];
      if (after === '*' || after === '+' || after === '?' || after === '{') return undefined;
    } else if (q === '{') return undefined;
    atoms.push(atom);
  }
  return { start, end, atoms };
}

/** `[...]` from just after its `[`: literals, Perl classes and ordered alphanumeric ranges. */
function plainClass(pattern: string, from: number): { test: CodeTest; next: number } | undefined {
  let i = from;
  const negated = pattern[i] === '^';
  if (negated) i++;
  const parts: CodeTest[] = [];
  while (pattern[i] !== ']') {
    const ch = pattern[i];
    if (ch === undefined) return undefined;
    if (ch === '\\') {
      const e = pattern[i + 1] ?? '';
      if (e === 'd' || e === 'w' || e === 's') parts.push(PERL[e]!);
      else if (ESCAPED.test(e)) {
        const code = e.charCodeAt(0);
        parts.push((c) => c === code);
      } else return undefined;
      i += 2;
    } else if (ch === '-' && pattern[i + 1] === ']' && parts.length > 0) {
      parts.push((c) => c === 45);
      i++;
    } else if (ALNUM.test(ch) && pattern[i + 1] === '-' && ALNUM.test(pattern[i + 2] ?? '')) {
      const lo = ch.charCodeAt(0);
      const hi = pattern.charCodeAt(i + 2);
      if (lo > hi) return undefined;
      parts.push((c) => c >= lo && c <= hi);
      i += 3;
    } else if (IN_CLASS.test(ch)) {
      const code = ch.charCodeAt(0);
      parts.push((c) => c === code);
      i++;
    } else return undefined;
  }
  if (parts.length === 0) return undefined;
  const any: CodeTest = (c) => parts.some((t) => t(c));
  return { test: negated ? (c) => !any(c) : any, next: i + 1 };
}

/** Whether `p` matches anywhere in `text`: one pass over the text's code points, a set of atom positions. */
function plainTest(p: Plain, text: string): boolean {
  const n = p.atoms.length;
  let live = new Uint8Array(n + 1);
  const close = (set: Uint8Array): void => {
    for (let k = 0; k < n; k++) if (set[k] && p.atoms[k]!.optional) set[k + 1] = 1;
  };
  live[0] = 1;
  close(live);
  const accepted = (set: Uint8Array) => set[n] === 1;
  if (!p.end && accepted(live)) return true;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const next = new Uint8Array(n + 1);
    for (let k = 0; k < n; k++) {
      if (!live[k]) continue;
      const atom = p.atoms[k]!;
      if (!atom.test(c)) continue;
      if (atom.repeats) next[k] = 1;
      next[k + 1] = 1;
    }
    if (!p.start) next[0] = 1;
    close(next);
    live = next;
    if (!p.end && accepted(live)) return true;
  }
  return accepted(live);
}

/** The plain reading of `pattern` as a match function, or undefined when re2js must decide. */
export function plainMatcher(pattern: string): ((text: string) => boolean) | undefined {
  const plain = plainPattern(pattern);
  return plain && ((text) => plainTest(plain, text));
}

/** Compiles `pattern` (memoised); throws an Error naming what the engine does not accept. */
export function compilePattern(pattern: string): Pattern {
  let p = compiled.get(pattern);
  if (p === undefined) {
    const plain = plainMatcher(pattern);
    if (plain) {
      p = { test: plain };
      if (compiled.size < 1000) compiled.set(pattern, p);
      return p;
    }
    let re: RE2JS;
    try {
      re = re2().compile(pattern);
    } catch (err) {
      throw new Error(`${(err as Error).message.replace(/^error parsing regexp: /, '')} (${PATTERN_SYNTAX})`);
    }
    p = { test: (text) => re.test(text) };
    if (compiled.size < 1000) compiled.set(pattern, p);
  }
  return p;
}

/** Why `pattern` cannot be used, for `formula validate`; undefined when it compiles. */
export function patternProblem(pattern: string): string | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (err) {
    return `not a valid pattern: ${(err as Error).message}`;
  }
}

/** True/false for a match; undefined when the pattern does not compile. */
export function patternMatches(pattern: string, text: string): boolean | undefined {
  let p: Pattern;
  try {
    p = compilePattern(pattern);
  } catch {
    return undefined;
  }
  return p.test(text);
}
