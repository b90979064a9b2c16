// Plain patterns are matched without re2js (src/formula/pattern.ts): whatever that reading
// accepts, RE2 accepts too, and both give the same answer on every text. Checked on generated
// patterns and texts (a fixed seed, so a failure reproduces) and on the corpus's patterns.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { prng } from '../../bench/gen/prng.mjs';
import { compilePattern, plainMatcher } from '../../src/formula/pattern.js';
import { CORPUS_DIRS } from './helpers.js';

const PIECES = [
  '^',
  '$',
  'a',
  'b',
  '0',
  '9',
  '.',
  '-',
  '/',
  '_',
  ' ',
  '#',
  '"',
  '\\d',
  '\\w',
  '\\s',
  '\\D',
  '\\W',
  '\\S',
  '\\.',
  '\\-',
  '\\/',
  '\\$',
  '\\^',
  '\\[',
  '[a-c]',
  '[^a]',
  '[a-]',
  '[\\d.]',
  '[A-Za-z0-9_.-]',
  '[^\\s]',
  '[z-a]',
  '[]',
  '[-a]',
  '[a-c-e]',
  '[.$]',
  '*',
  '+',
  '?',
  '{2}',
  '(',
  ')',
  '|',
  '\\b',
  '\\x{e9}',
  '(?i)',
  'é',
  '\\1',
];
const CHARS = [
  'a',
  'b',
  'c',
  'A',
  '0',
  '9',
  ' ',
  '\n',
  '\t',
  '\r',
  '\f',
  '\v',
  '\u00a0',
  '-',
  '.',
  '/',
  '_',
  '$',
  'é',
  '😀',
  '\ud800',
  'z',
  '#',
];

describe('plain patterns', () => {
  it('are accepted only where RE2 accepts them, and match exactly as RE2 does', () => {
    const next = prng(7).next;
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
    let plain = 0;
    for (let n = 0; n < 3000; n++) {
      const pattern = Array.from({ length: 1 + Math.floor(next() * 6) }, () => pick(PIECES)).join('');
      const match = plainMatcher(pattern);
      if (!match) continue;
      plain++;
      const re = RE2JS.compile(pattern); // throws if RE2 refuses what the plain reading took
      for (let t = 0; t < 25; t++) {
        const text = Array.from({ length: Math.floor(next() * 8) }, () => pick(CHARS)).join('');
        expect(match(text), `${JSON.stringify(pattern)} on ${JSON.stringify(text)}`).toBe(re.test(text));
      }
    }
    expect(plain).toBeGreaterThan(500); // the generator does reach the plain reading
  });

  it('cover every pattern in the corpus, so validating it needs no re2js', () => {
    const patterns = CORPUS_DIRS.flatMap((d) =>
      readdirSync(d).flatMap((f) =>
        [...readFileSync(join(d, f), 'utf8').matchAll(/^pattern = "(.*)"$/gm)].map((m) =>
          JSON.parse(`"${m[1]}"`),
        ),
      ),
    );
    expect(patterns.length).toBeGreaterThan(5);
    for (const p of patterns) expect(plainMatcher(p), p).toBeTypeOf('function');
    expect(compilePattern('^\\d+\\.\\d+\\.\\d+$').test('1.22.333')).toBe(true);
    expect(compilePattern('^\\d+\\.\\d+\\.\\d+$').test('1.22.333\n')).toBe(false);
  });
});
