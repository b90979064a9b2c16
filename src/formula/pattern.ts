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

/** Compiles `pattern` (memoised); throws an Error naming what the engine does not accept. */
export function compilePattern(pattern: string): Pattern {
  let p = compiled.get(pattern);
  if (p === undefined) {
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
