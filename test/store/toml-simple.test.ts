// The fast reader for hand-written TOML (readSimpleToml in src/store/toml-subset.ts) must give
// exactly smol-toml's result for every text it accepts, and decline everything else (so errors,
// with their positions, always come from smol-toml): every corpus formula, hand-written edge
// cases, things it must decline, invalid TOML, and random edits of corpus files.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { readSimpleToml } from '../../src/formula/toml-simple.js';
import { CORPUS_DIRS } from '../formula/helpers.js';

/** What a parser makes of a text: the value, or that it refused it. */
function outcome(fn: () => unknown): { value: unknown } | { error: true } {
  try {
    return { value: fn() };
  } catch {
    return { error: true };
  }
}

const corpus = CORPUS_DIRS.flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.formula.toml'))
    .map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') })),
);

/** Hand-written forms the reader must read itself. */
const FORMS = [
  '',
  '\n\n',
  '# only a comment',
  '# comment\n\n  # indented comment\n',
  'a = 1',
  'a=1\nb  =  "x"   # trailing comment\n',
  '   indented = true\n\tTabbed = false\n',
  'a = "tab\there"\n',
  'a = "esc \\" \\\\ \\b \\t \\n \\f \\r \\u00e9 \\u0000 \\uFFFF"\n',
  "a = 'literal \\n stays'\nb = ''\nc = \"\"\n",
  'a = "#not a comment" # but this is\n',
  'a = """\nfirst newline dropped\nsecond line\n"""\n',
  'a = """no newline"""\n',
  'a = """\n\n"""\n',
  'a = """"""\n',
  'a = """ one " and two "" quotes inside """\n',
  'a = """\\\n   joined \\\n\n    lines \\  \n  end"""\n',
  'a = """trailing escape \\\n   """\n',
  'a = """esc \\""" \\\\ \\u00e9"""\n',
  'a = """\n# not a comment\n[not.a.table]\nkey = "not a key"\n"""\n',
  "a = '''\nraw \\ text\nwith ' and '' quotes\n'''\n",
  "a = ''''''\n",
  'a = [1, 2, 3]\nb = []\nc = [ "x", \'y\', """z""" ]\n',
  'a = [\n  1, # one\n  2,\n  # a comment line\n  3,\n]\n',
  'a = [ [1, 2], ["mixed", true, 1.5], [], [[[]]] ]\n',
  'a = [\n\n]\n',
  'a = { x = 1, y = "two", z = [3], w = { deep = true } }\nb = {}\nc = {   }\n',
  'a = [ { x = 1 }, { x = 2 } ]\n',
  'a.b.c = 1\na.b.d = 2\na.e = 3\n',
  'a . b = 1\n"quoted key" = 2\n\'lit key\' = 3\n"" = 4\n"dot.ted" = 5\n"esc\\u00e9" = 6\n',
  '"\\"quoted\\"" = 1\n"\\\\" = 2\n',
  '1234 = "numeric bare key"\n-_- = "odd bare key"\n1.2 = "dotted numbers"\n',
  'int = 0\nneg = -17\nbig = 9007199254740991\nsmall = -9007199254740991\n',
  'f = 1.5\ng = -0.25\nh = 0.0\ni = -0.0\nj = 3.14159265358979323846\n',
  't = true\nf = false\nt2 = true# no space\n',
  'a = 1 # comment with "quotes" and [brackets] and = signs\n',
  'name = "é"\n"clé" = "日本語 😀"\nemoji = \'🚀\'\n',
  '[table]\nx = 1\n\n[table.sub]\ny = 2\n\n[other]\n',
  '[ spaced . header ]\nx = 1\n["quoted".\'keys\']\ny = 2\n',
  '[a.b.c]\nx = 1\n[a.b.d]\ny = 2\n[a.e]\n',
  '[[steps]]\nid = "one"\n[steps.gate]\ntype = "human"\n[[steps]]\nid = "two"\n[[steps.children]]\nid = "c1"\n[[steps.children]]\nid = "c2"\n[steps.children.extra]\nz = 1\n',
  '[[a]] # comment\n[[a]]\n[[ a ]]\n',
  '[t] # comment\nx.y = 1\nx.z = 2\n',
  '[[s]]\nd.x = 1\n[[s]]\nd.x = 2\n',
  'top = 1\n[a]\nb = 2\n[[a.c]]\n[a.d]\n',
  'constructor = 1\n[toString]\nvalueOf = 2\n',
  'a = 1\n# trailing comment without newline',
  'a = [1,\n2] # end',
  'a = "x"\n   \n\t\n',
];

describe('the hand-written TOML reader', () => {
  it('reads every corpus formula itself, exactly as smol-toml does', () => {
    expect(corpus).toHaveLength(52);
    for (const { name, text } of corpus) {
      const fast = readSimpleToml(text);
      expect(fast, name).toBeDefined();
      expect(fast, name).toStrictEqual(parse(text));
    }
  });

  it('reads the forms people write, exactly as smol-toml does', () => {
    for (const text of FORMS) {
      const fast = readSimpleToml(text);
      expect(fast, JSON.stringify(text)).toBeDefined();
      expect(fast, JSON.stringify(text)).toStrictEqual(parse(text));
    }
  });

  it('declines what smol-toml reads but it does not (dates, other number forms, CR, …)', () => {
    const cases = [
      'when = 1979-05-27T07:32:00Z\n',
      'day = 1979-05-27\n',
      'at = 07:32:00\n',
      'a = 1e3\n',
      'a = 1.5E-2\n',
      'a = 0x10\n',
      'a = 0o17\n',
      'a = 0b11\n',
      'a = 1_000\n',
      'a = +1\n',
      'a = -0\n',
      'a = inf\n',
      'a = -inf\n',
      'a = nan\n',
      'a = "\\e"\n',
      'a = "\\x41"\n',
      'a = "\\U0001F600"\n',
      'a = 1\r\nb = 2\r\n',
      '\ufeffa = 1\n',
      'a = """quote at the end""""\n',
      'a = """two at the end"""""\n',
      "a = '''quote at the end''''\n",
      'a = { x = 1,\n y = 2 }\n',
      'a = { x = 1, }\n',
      'a = { x.y = 1 }\n',
      '[a.b]\nx = 1\n[a]\ny = 2\n',
      'a.b = 1\n[a.c]\n',
      '[[a.c]]\n[a]\n',
      '"tab\tkey" = 1\n',
      '__proto__ = 1\n',
      'a.__proto__ = 1\n',
      '[__proto__]\n',
      'a = { __proto__ = 1 }\n',
      `a = ${'['.repeat(40)}${']'.repeat(40)}\n`,
    ];
    for (const text of cases) {
      expect(readSimpleToml(text), JSON.stringify(text)).toBeUndefined();
      expect(
        outcome(() => parse(text)),
        JSON.stringify(text),
      ).not.toStrictEqual({ error: true });
    }
  });

  it('never accepts what smol-toml refuses: duplicates, redefinitions, bad strings and numbers', () => {
    const cases = [
      'a = 1\na = 2\n',
      'a = 1\n"a" = 2\n',
      "a = 1\n'a' = 2\n",
      'a.b = 1\na.b = 2\n',
      'a.b = 1\na = 2\n',
      'a = 1\na.b = 2\n',
      'a.b = 1\na.b.c = 2\n',
      'a = { x = 1 }\na.y = 2\n',
      'a = { x = 1 }\n[a.y]\n',
      'a = { x = 1, x = 2 }\n',
      'a = []\n[[a]]\n',
      'a = [{ x = 1 }]\n[a.y]\n',
      '[a]\n[a]\n',
      '[a]\nb = 1\n[a.b]\n',
      '[a.b]\n[[a.b]]\n',
      '[[a]]\n[a]\n',
      '[t]\nx.y = 1\n[t.x]\n',
      '[[s]]\ng.x = 1\n[s.g]\n',
      'a = "\\uD800"\n',
      'a = "\\udfff"\n',
      'a = "\\q"\n',
      'a = "\\u12"\n',
      'a = "unterminated\n',
      'a = """unterminated\n',
      "a = '''unterminated\n",
      'a = "new\nline"\n',
      'a = "ctrl \x01"\n',
      'a = "del \x7f"\n',
      'a = """ctrl \x01"""\n',
      'a = """\\ x"""\n',
      'a = 1 # ctrl \x01\n',
      'a = 1 b = 2\n',
      'a = "x" "y"\n',
      'a = \n',
      'a\n',
      '= 1\n',
      'a b = 1\n',
      'a = 01\n',
      'a = 1.\n',
      'a = .5\n',
      'a = truex\n',
      'a = [1 2]\n',
      'a = [1,,2]\n',
      'a = [1\n',
      'a = { x = 1\n',
      'a = { x = 1 } y\n',
      '[a]x = 1\n',
      '[a\n',
      '[[a]\n',
      '[[a] ]\n',
      '[a]]\n',
      '[]\n',
      '[a.]\n',
      'a. = 1\n',
      '"""a""" = 1\n',
      'a = 9007199254740992\n',
      'a = 9007199254740993\n',
    ];
    for (const text of cases) {
      expect(readSimpleToml(text), JSON.stringify(text)).toBeUndefined();
      expect(
        outcome(() => parse(text)),
        JSON.stringify(text),
      ).toStrictEqual({ error: true });
    }
  });

  it('agrees with smol-toml on random edits of corpus files: the same value, or it declines', () => {
    const samples = [...corpus.filter((c) => c.text.length < 12_000).map((c) => c.text), ...FORMS];
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
          'u',
          'x',
          '_',
          '+',
          ':',
          '\r',
          '\t',
          '\x01',
          '\x7f',
          'é',
          '\ufeff',
        ),
        maxLength: 4,
      }),
    });
    fc.assert(
      fc.property(edit, ({ sample, at, remove, insert }) => {
        const source = samples[sample] as string;
        const i = at % (source.length + 1);
        const mutated = source.slice(0, i) + insert + source.slice(i + remove);
        const fast = readSimpleToml(mutated);
        if (fast !== undefined) expect(outcome(() => parse(mutated))).toStrictEqual({ value: fast });
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with smol-toml on documents smol-toml writes from random data', () => {
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.constantFrom('', 'a.b', '"q"', "'", 'back\\slash', 'tab\there', 'nl\nx', '\x7f', '[x]', '😀', '"""'),
    );
    const key = text.filter((k) => k !== '__proto__');
    const { doc } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        text,
        fc.boolean(),
        fc.integer(),
        fc.maxSafeInteger(),
        fc.double({ noNaN: true }),
        tie('array'),
        tie('table'),
      ),
      array: fc.array(tie('value'), { maxLength: 3 }),
      table: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
      doc: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
    }));
    fc.assert(
      fc.property(doc, (data) => {
        const written = stringify(data);
        const fast = readSimpleToml(written);
        if (fast !== undefined) expect(fast).toStrictEqual(parse(written));
      }),
      { numRuns: 100 },
    );
  });
});
