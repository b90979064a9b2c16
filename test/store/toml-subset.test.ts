// The reader for the TOML our writer emits (src/store/toml-subset.ts) must give exactly what
// smol-toml gives, and leave everything it is not sure about to smol-toml: generated documents,
// every corpus formula frozen through the writer, and hand-mutated files.
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { renderFrozenFormula } from '../../src/engine/molecules.js';
import { isGastownError } from '../../src/errors.js';
import { loadFormula, resolveFormula } from '../../src/formula/index.js';
import { parseWrittenToml, stringifyToml, type TomlTable } from '../../src/store/toml.js';
import { readWrittenToml } from '../../src/store/toml-subset.js';
import { CORPUS_DIRS, corpusLibrary } from '../formula/helpers.js';

/** What a parser makes of a text: the value, or that it refused it. */
function outcome(fn: () => unknown): { value: unknown } | { error: true } {
  try {
    return { value: fn() };
  } catch {
    return { error: true };
  }
}

// Keys and strings with everything a writer must escape: quotes, backslashes, dots, brackets,
// control characters, DEL, non-ASCII and astral characters.
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', 'a.b', '"q"', 'back\\slash', 'tab\there', 'nl\nx', '\x7f', '[x]', 'é', '😀', '= 1'),
);
const key = text.filter((k) => k !== '__proto__');
const scalar = fc.oneof(
  text,
  fc.boolean(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => Number.isFinite(d) && !Object.is(d, -0)),
);
const { doc } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('table')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  table: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  doc: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
}));
// Only what the subset reads itself: no floats with exponents, no integers past 2^53.
const { plainDoc } = fc.letrec((tie) => ({
  plainValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.constantFrom(0.5, 2.25, -13.125),
    tie('plainArray'),
    tie('plainTable'),
  ),
  plainArray: fc.array(tie('plainValue'), { maxLength: 4 }),
  plainTable: fc.dictionary(key, tie('plainValue'), { maxKeys: 5 }),
  plainDoc: fc.dictionary(key, tie('plainValue'), { maxKeys: 6 }),
}));

describe('the written-TOML reader', () => {
  it('reads what the writer writes exactly as smol-toml does (generated documents)', () => {
    fc.assert(
      fc.property(plainDoc, (data) => {
        const written = stringifyToml(data as TomlTable);
        const fast = readWrittenToml(written);
        expect(fast).toBeDefined();
        expect(fast).toStrictEqual(parse(written));
      }),
      { numRuns: 400 },
    );
  });

  it('gives smol-toml’s result for any written document, whether it reads it or falls back', () => {
    fc.assert(
      fc.property(doc, (data) => {
        const written = stringifyToml(data as TomlTable);
        expect(parseWrittenToml(written, 'x.toml')).toStrictEqual(parse(written));
      }),
      { numRuns: 300 },
    );
  });

  const frozen = CORPUS_DIRS.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.formula.toml'))
      .map((f) => f.replace(/\.formula\.toml$/, '')),
  ).flatMap((name) => {
    // Cooked as `molecule create` does, with a value for every declared var (required ones too).
    const lib = corpusLibrary();
    const declared = Object.keys(resolveFormula(name, lib).formula?.vars ?? {});
    const vars = Object.fromEntries(declared.map((v) => [v, `value of ${v}`]));
    const formula =
      loadFormula(name, lib, { vars, inputs: vars }).formula ?? resolveFormula(name, lib).formula;
    return formula ? [{ name, text: renderFrozenFormula(formula as unknown as TomlTable) }] : [];
  });

  it('reads every corpus formula frozen through the writer itself, equal to smol-toml', () => {
    expect(frozen).toHaveLength(52);
    for (const { name, text: written } of frozen) {
      const fast = readWrittenToml(written);
      expect(fast, name).toBeDefined();
      expect(fast, name).toStrictEqual(parse(written));
    }
  });

  it('agrees with smol-toml on hand-mutated files: the same value, or both refuse', () => {
    const samples = [
      ...frozen.slice(0, 6).map((f) => f.text),
      'id = "m1"\nformula = "shiny"\nformula_version = 1\nformula_hash = "abc"\n\n[inputs]\n[vars]\nfeature = "x"\n',
    ];
    const edit = fc.record({
      sample: fc.nat(samples.length - 1),
      at: fc.nat(),
      remove: fc.nat(3),
      insert: fc.string({
        unit: fc.constantFrom(
          '#',
          ' ',
          '"',
          "'",
          '[',
          ']',
          '=',
          '\n',
          '\\',
          '.',
          ',',
          '{',
          '}',
          '0',
          '9',
          'a',
          '-',
          'e',
          '\r',
          '\t',
        ),
        maxLength: 3,
      }),
    });
    fc.assert(
      fc.property(edit, ({ sample, at, remove, insert }) => {
        const source = samples[sample] as string;
        const i = at % (source.length + 1);
        const mutated = source.slice(0, i) + insert + source.slice(i + remove);
        expect(outcome(() => parseWrittenToml(mutated, 'x.toml'))).toStrictEqual(
          outcome(() => parse(mutated)),
        );
      }),
      { numRuns: 1500 },
    );
  });

  it('leaves hand-written TOML to the full parser: same values, and errors name the file and line', () => {
    const cases = [
      '# a comment\nid = "m1"\n',
      "id = 'literal'\n",
      'a = 1e3\nb = 0x10\nc = 1_000\nd = inf\n',
      'when = 1979-05-27T07:32:00Z\n',
      '[a.b]\nx = 1\n[a]\ny = 2\n',
      'x = """\nmulti\n"""\n',
      'id = "m1"\r\nformula = "f"\r\n',
      'a.b = 1\n',
      '[ a ]\nx = 1\n',
    ];
    for (const c of cases) {
      expect(readWrittenToml(c), c).toBeUndefined();
      expect(parseWrittenToml(c, 'x.toml'), c).toStrictEqual(parse(c));
    }
    // Things TOML forbids are refused by the full parser, never accepted by the fast one.
    for (const bad of [
      '[a]\n[a]\n',
      'a = 1\na = 2\n',
      'a = { b = 1 }\n[a.c]\n',
      'a = []\n[[a]]\n',
      'x = "\\uD800"\n',
    ]) {
      expect(
        outcome(() => parseWrittenToml(bad, 'bad.toml')),
        bad,
      ).toStrictEqual({ error: true });
    }
    try {
      parseWrittenToml('id = "m1"\nformula = \n', '.beads/molecules/m1/molecule.toml');
      expect.unreachable();
    } catch (err) {
      expect(isGastownError(err)).toBe(true);
      expect((err as { location: { file: string; line?: number } }).location).toMatchObject({
        file: '.beads/molecules/m1/molecule.toml',
        line: 2,
      });
    }
  });
});
