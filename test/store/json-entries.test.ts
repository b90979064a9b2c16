// withEntries edits a few entries of a JSON object in its text; the result must be byte for byte
// what serializing the whole changed object gives (the summary file's readers and its "unchanged:
// write nothing" check both rely on that), and anything it cannot place exactly is left to a full
// write.
import { describe, expect, it } from 'vitest';
import { withEntries } from '../../src/store/json-entries.js';

type Molecules = Record<string, unknown>;

const summary = (n: number) => ({
  key: `k${n}`,
  state: 'active',
  done: n,
  total: 5,
  view: { work: [{ step: 's' }] },
});

/** The file as a full write makes it: `{version, molecules, salt, config}`. */
function fileText(molecules: Molecules, salt = 'salt-1'): string {
  return JSON.stringify({ version: 6, molecules, salt, config: { stamp: '1:2:3.5:4', hash: 'h' } });
}
const shell = (salt = 'salt-1') => ({
  version: 6,
  molecules: {},
  salt,
  config: { stamp: '1:2:3.5:4', hash: 'h' },
});

/** What the summary store's full write gives: drop, then assign in order. */
function fullWrite(previous: string, drop: string[], set: Molecules, salt = 'salt-1'): string {
  const molecules = (JSON.parse(previous) as { molecules: Molecules }).molecules;
  for (const id of drop) delete molecules[id];
  for (const [id, s] of Object.entries(set)) molecules[id] = s;
  return JSON.stringify({ ...shell(salt), molecules });
}

function spliced(previous: string, drop: string[], set: Molecules, salt = 'salt-1'): string | undefined {
  const was = (JSON.parse(previous) as { molecules: Molecules }).molecules;
  return withEntries(previous, shell(salt), 'molecules', was, drop, set);
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `m${String(i).padStart(4, '0')}`);
const withIds = (list: string[]): Molecules => Object.fromEntries(list.map((id, i) => [id, summary(i)]));

describe('withEntries', () => {
  const cases: [string, string[], string[], Molecules][] = [
    ['one entry replaced in the middle', ids(5), [], { m0002: summary(99) }],
    ['the first entry replaced', ids(5), [], { m0000: { key: 'x', quiet: true } }],
    ['the last entry replaced', ids(5), [], { m0004: summary(42) }],
    ['an entry replaced by the same bytes', ids(3), [], { m0001: summary(1) }],
    ['a new entry added at the end', ids(3), [], { m0009: summary(9) }],
    ['a first entry added to an empty object', [], [], { m0001: summary(1) }],
    ['the only entry dropped', ids(1), ['m0000'], {}],
    ['the first entry dropped', ids(4), ['m0000'], {}],
    ['a middle entry dropped', ids(4), ['m0002'], {}],
    ['the last entry dropped', ids(4), ['m0003'], {}],
    ['the first two dropped', ids(4), ['m0000', 'm0001'], {}],
    ['the last two dropped', ids(4), ['m0002', 'm0003'], {}],
    ['every entry dropped', ids(3), ['m0002', 'm0000', 'm0001'], {}],
    ['every entry dropped and one added', ids(3), ['m0000', 'm0001', 'm0002'], { m0007: summary(7) }],
    [
      'dropped entries apart, one replaced, one added',
      ids(8),
      ['m0001', 'm0005'],
      {
        m0003: summary(30),
        m0010: summary(10),
      },
    ],
    ['dropped then recorded again (moves to the end)', ids(4), ['m0001'], { m0001: summary(11) }],
    ['an id dropped that was never there', ids(3), ['m0042'], { m0000: summary(5) }],
    [
      'several replaced and added in order',
      ids(6),
      [],
      {
        m0005: summary(50),
        m0100: summary(100),
        m0000: summary(0.5),
        m0050: summary(60),
      },
    ],
  ];
  for (const [name, start, drop, set] of cases)
    it(`gives the full write's bytes: ${name}`, () => {
      const previous = fileText(withIds(start));
      const got = spliced(previous, drop, set);
      expect(got).toBeDefined();
      expect(got).toBe(fullWrite(previous, drop, set));
    });

  it('copies the untouched entries as they are, in a file of ten thousand', () => {
    const previous = fileText(withIds(ids(10000)));
    const set = { m5000: { key: 'new', state: 'completed', done: 0, total: 0, quiet: true } };
    expect(spliced(previous, [], set)).toBe(fullWrite(previous, [], set));
  });

  it('places entries in a file whose shell has more before them (the journal mark)', () => {
    const journal = { epoch: 'ab12.3', seq: 7 };
    const withMark = { version: 6, journal, molecules: {}, salt: 'salt-1' };
    const was = withIds(ids(4));
    const previous = JSON.stringify({ ...withMark, molecules: was });
    const set = { m0002: summary(20), m0009: summary(9) };
    const full = JSON.parse(previous);
    delete full.molecules.m0000;
    Object.assign(full.molecules, set);
    expect(withEntries(previous, withMark, 'molecules', was, ['m0000'], set)).toBe(JSON.stringify(full));
  });

  it('writes a new shell around the entries it places (a head that changed with them)', () => {
    const before = { version: 6, salt: 'salt-1', quiet: { ids: 'm0000\nm0001\nm0002' }, molecules: {} };
    const after = {
      version: 6,
      salt: 'salt-1',
      quiet: { ids: 'm0000\nm0002\nm0009', next: 5 },
      molecules: {},
    };
    const was = withIds(ids(3));
    const previous = JSON.stringify({ ...before, molecules: was });
    const set = { m0009: summary(9) };
    const full = { ...after, molecules: { ...was } as Molecules };
    delete full.molecules.m0001;
    Object.assign(full.molecules, set);
    expect(withEntries(previous, before, 'molecules', was, ['m0001'], set, after)).toBe(JSON.stringify(full));
    // The old shell must still be the one the text has.
    expect(withEntries(previous, after, 'molecules', was, ['m0001'], set, after)).toBeUndefined();
  });

  it('leaves to a full write a file whose shell differs (another salt or config)', () => {
    const previous = fileText(withIds(ids(3)), 'salt-1');
    expect(spliced(previous, [], { m0001: summary(7) }, 'salt-2')).toBeUndefined();
  });

  it('leaves to a full write a text not as JSON.stringify wrote it', () => {
    const molecules = withIds(ids(3));
    const pretty = JSON.stringify({ ...shell(), molecules }, null, 1);
    expect(withEntries(pretty, shell(), 'molecules', molecules, [], { m0001: summary(7) })).toBeUndefined();
    // The shell matches but the entry's bytes are not its value's JSON.
    const spaced = fileText(molecules).replace('"m0001":{"key":"k1"', '"m0001":{ "key":"k1"');
    expect(withEntries(spaced, shell(), 'molecules', molecules, [], { m0001: summary(7) })).toBeUndefined();
  });

  it('leaves to a full write a torn file, which the store read as empty', () => {
    const torn = fileText(withIds(ids(3))).replace('"m0001":{', '"m0001":{{');
    expect(withEntries(torn, shell(), 'molecules', {}, [], { m0009: summary(9) })).toBeUndefined();
  });

  it('leaves to a full write keys JavaScript orders by number, and __proto__', () => {
    const previous = fileText(withIds(ids(2)));
    expect(spliced(previous, [], { '12': summary(1) })).toBeUndefined();
    expect(
      withEntries(
        previous,
        shell(),
        'molecules',
        JSON.parse(previous).molecules,
        [],
        JSON.parse('{"__proto__":{}}'),
      ),
    ).toBeUndefined();
  });

  it('does not take an entry whose bytes occur twice', () => {
    // Two molecules with the same summary under keys one of which ends the other's name.
    const molecules = { am1: summary(1), m1: summary(1) };
    const previous = fileText(molecules);
    const got = spliced(previous, [], { m1: summary(2) });
    // `"m1":{…}` is found once at an entry boundary (the other is inside `"am1":`), so it is placed.
    expect(got).toBe(fullWrite(previous, [], { m1: summary(2) }));
    const nested = { m1: { key: 'a', inner: { m2: { key: 'b' } } }, m2: { key: 'b' } };
    expect(spliced(fileText(nested), [], { m2: { key: 'c' } })).toBeUndefined();
  });
});
