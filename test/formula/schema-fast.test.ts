// The plain predicates that accept a conforming formula without zod (src/formula/schema.ts) may
// refuse more than the zod schema but never accept what it refuses, and what they accept is what
// zod's parse returns. Checked on every corpus file and on many deterministic mutations of them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { prng } from '../../bench/gen/prng.mjs';
import { plainlyConforms, RawFormulaSchema } from '../../src/formula/schema.js';
import { CORPUS_DIRS } from './helpers.js';

const docs = CORPUS_DIRS.flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith('.formula.toml'))
    .map((f) => ({ file: f, data: parseToml(readFileSync(join(d, f), 'utf8')) as unknown })),
);

const ODD_VALUES: unknown[] = [
  1.5,
  -3,
  2 ** 60,
  Number.POSITIVE_INFINITY,
  Number.NaN,
  'text',
  '',
  true,
  [],
  [1],
  ['a', 2],
  {},
  { type: 1 },
  new Date(0),
  null,
];

/** Copies `data` with the value at one random path (or a random new key) replaced by an odd value. */
function mutate(data: unknown, next: () => number): unknown {
  const copy = structuredClone(data) as Record<string, unknown>;
  let node: unknown = copy;
  for (let depth = 0; depth < 8; depth++) {
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node as object);
    const odd = ODD_VALUES[Math.floor(next() * ODD_VALUES.length)];
    // A new key now and then (an index past the end in an array: TOML arrays have no other keys).
    const fresh = Array.isArray(node) ? node.length : 'id';
    const key = keys.length === 0 || next() < 0.1 ? fresh : keys[Math.floor(next() * keys.length)]!;
    const child = (node as Record<PropertyKey, unknown>)[key];
    if (next() < 0.35 || child === null || typeof child !== 'object' || child instanceof Date) {
      (node as Record<PropertyKey, unknown>)[key] = odd;
      return copy;
    }
    node = child;
  }
  return copy;
}

describe('the plain formula predicates', () => {
  it('accept every corpus file, as zod does, with the same content zod returns', () => {
    for (const { file, data } of docs) {
      expect(plainlyConforms(data), file).toBe(true);
      const parsed = RawFormulaSchema.safeParse(data);
      expect(parsed.success, file).toBe(true);
      expect(data, file).toEqual(parsed.data);
    }
  });

  it('never accept a mutated formula that zod refuses', () => {
    const next = prng(19).next;
    let refusedByZod = 0;
    for (let round = 0; round < 40; round++) {
      for (const { file, data } of docs) {
        const m = mutate(data, next);
        const parsed = RawFormulaSchema.safeParse(m);
        if (!parsed.success) refusedByZod++;
        if (plainlyConforms(m)) {
          expect(parsed.success, `${file} round ${round}`).toBe(true);
          expect(m).toEqual(parsed.data);
        }
      }
    }
    expect(refusedByZod).toBeGreaterThan(200); // the mutations do reach the schema's rules
  });

  it('refuse the edge values zod refuses', () => {
    const base = { formula: 'f', steps: [{ id: 'a' }] };
    for (const bad of [
      { ...base, version: Number.POSITIVE_INFINITY },
      { ...base, version: Number.NaN },
      { ...base, steps: [{ id: 'a', priority: 2 ** 60 }] },
      { ...base, steps: [{ id: 'a', priority: 1.5 }] },
      { ...base, description: new Date(0) },
      { ...base, steps: [{ id: 'a', gate: { timeout: '1h' } }] },
      { ...base, compose: { expand: [{ target: 'a' }] } },
      { ...base, advice: [{ before: { id: 'x' } }] },
      { ...base, vars: { v: { default: [] } } },
      { ...base, extends: ['a', 1] },
      [base],
      'formula',
    ]) {
      expect(RawFormulaSchema.safeParse(bad).success).toBe(false);
      expect(plainlyConforms(bad)).toBe(false);
    }
    const proto = JSON.parse('{"formula":"f","__proto__":{"x":1}}');
    expect(plainlyConforms(proto)).toBe(false);
  });
});
