// The content-keyed validation cache, in-process over real files: it may only ever make
// validation faster. Cold and warm results are identical, any change to a file a result was
// derived from (the file, a parent, a file that newly shadows a parent) is seen, and a corrupt
// or unwritable cache is ignored.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterAll, describe, expect, it } from 'vitest';
import {
  blobId,
  ContentCache,
  cacheRoot,
  createFileLibrary,
  type FormulaValidation,
  parseTomlCached,
  validateFormulas,
  withSearchDirs,
} from '../../src/formula/index.js';
import { gitIn, tempDir } from '../helpers/repo.js';
import { CORPUS_DIRS, corpusLibrary, countingLibrary } from './helpers.js';

const corpusFiles = CORPUS_DIRS.flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith('.formula.toml'))
    .map((f) => join(d, f)),
);
const scratch = tempDir('gastown-cache-');
afterAll(() => scratch.cleanup());
let n = 0;
/** A fresh folder under the scratch dir. */
const fresh = (name: string): string => {
  const dir = join(scratch.path, `${name}-${++n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};
const results = (r: FormulaValidation[]) => r.map(({ cached: _c, ...rest }) => rest);
const codes = (r: FormulaValidation) => r.diagnostics.map((d) => `${d.severity}:${d.code}`);

const step = (id: string, needs: string[] = []) =>
  `[[steps]]\nid = "${id}"\ntitle = "${id}"\n${needs.length ? `needs = [${needs.map((x) => `"${x}"`).join(', ')}]\n` : ''}`;
const parentText = `formula = "parent"\n\n${step('design')}\n${step('build', ['design'])}`;
const childText = `formula = "child"\nextends = ["parent"]\n\n${step('ship', ['build'])}`;

describe('validateFormulas with a cache', () => {
  it('gives byte-identical results cold and warm over the whole corpus, and the warm run resolves nothing', async () => {
    const lib = corpusLibrary();
    const uncached = await validateFormulas(corpusFiles, lib);
    const cache = new ContentCache(fresh('corpus'));
    const cold = await validateFormulas(corpusFiles, lib, { cache });
    const warm = await validateFormulas(corpusFiles, lib, { cache });
    expect(cold.every((r) => !r.cached)).toBe(true);
    expect(warm.every((r) => r.cached)).toBe(true);
    expect(JSON.stringify(results(cold))).toBe(JSON.stringify(results(uncached)));
    expect(JSON.stringify(results(warm))).toBe(JSON.stringify(results(uncached)));
    // Warnings survive the round trip (mol-shutdown-dance has four, with lines).
    const dance = warm.find((r) => r.file.endsWith('mol-shutdown-dance.formula.toml'))!;
    expect(dance.diagnostics.filter((d) => d.code === 'formula.gate-not-executed')).toHaveLength(4);
    expect(dance.diagnostics[0]?.line).toBeTypeOf('number');
    // One file holds every result and stamp: one read per warm run. The texts the stamps were
    // recorded with sit beside it, read only when a stamp no longer holds.
    expect(readdirSync(cache.dir).sort()).toEqual(['validate-texts.json', 'validate.json']);
    const pack = JSON.parse(readFileSync(join(cache.dir, 'validate.json'), 'utf8'));
    expect(Object.keys(pack.results)).toHaveLength(52);
  });

  it('re-resolves a child when the parent it extends becomes invalid, and again when it is fixed', async () => {
    const dir = fresh('family');
    writeFileSync(join(dir, 'parent.formula.toml'), parentText);
    writeFileSync(join(dir, 'child.formula.toml'), childText);
    const lib = createFileLibrary([dir]);
    const cache = new ContentCache(fresh('family-cache'));
    const child = join(dir, 'child.formula.toml');

    const [first] = await validateFormulas([child], lib, { cache });
    expect(first!.diagnostics).toEqual([]);
    expect((await validateFormulas([child], lib, { cache }))[0]!.cached).toBe(true);

    // The child's bytes are unchanged; only the parent it resolved through is now broken.
    writeFileSync(join(dir, 'parent.formula.toml'), `${parentText}\n${step('test', ['nope'])}`);
    const [broken] = await validateFormulas([child], lib, { cache });
    expect(broken!.cached).toBe(false);
    expect(broken!.diagnostics).toMatchObject([
      { severity: 'error', code: 'formula.unknown-need', file: join(dir, 'parent.formula.toml') },
    ]);
    expect((await validateFormulas([child], lib, { cache }))[0]).toMatchObject({
      cached: true,
      diagnostics: broken!.diagnostics,
    });

    writeFileSync(join(dir, 'parent.formula.toml'), parentText);
    const [fixed] = await validateFormulas([child], lib, { cache });
    expect(fixed).toMatchObject({ cached: false, diagnostics: [] });
  });

  it('notices a new file that shadows a parent and a parent that appears after being missing', async () => {
    const own = fresh('own'); // the child's folder, searched first
    const repo = fresh('repo'); // e.g. .beads/formulas, searched before the built-ins
    const builtin = fresh('builtin');
    writeFileSync(join(own, 'child.formula.toml'), childText);
    writeFileSync(join(builtin, 'parent.formula.toml'), parentText);
    const cache = new ContentCache(fresh('shadow-cache'));
    const child = join(own, 'child.formula.toml');
    const validate = async () =>
      (await validateFormulas([child], createFileLibrary([repo, builtin]), { cache }))[0]!;

    expect(await validate()).toMatchObject({ cached: false, diagnostics: [] });
    expect(await validate()).toMatchObject({ cached: true, diagnostics: [] });

    // A same-named parent in a folder searched earlier wins from now on: it has no `build` step.
    writeFileSync(join(repo, 'parent.formula.toml'), `formula = "parent"\n\n${step('design')}`);
    const shadowed = await validate();
    expect(shadowed.cached).toBe(false);
    expect(codes(shadowed)).toEqual(['error:formula.unknown-need']);

    rmSync(join(repo, 'parent.formula.toml'));
    rmSync(join(builtin, 'parent.formula.toml'));
    const missing = await validate();
    expect(codes(missing)).toEqual(['error:formula.not-found']);
    expect((await validate()).cached).toBe(true);

    writeFileSync(join(builtin, 'parent.formula.toml'), parentText);
    expect(await validate()).toMatchObject({ cached: false, diagnostics: [] });
  });

  it('sees an edit to the file itself (the key is its bytes, not its mtime)', async () => {
    const dir = fresh('self');
    const file = join(dir, 'solo.formula.toml');
    writeFileSync(file, `formula = "solo"\n\n${step('a')}`);
    const lib = createFileLibrary([dir]);
    const cache = new ContentCache(fresh('self-cache'));
    await validateFormulas([file], lib, { cache });
    writeFileSync(file, `formula = "solo"\n\n${step('a', ['a'])}`);
    const [r] = await validateFormulas([file], lib, { cache });
    expect(r!.cached).toBe(false);
    expect(codes(r!)).toContain('error:formula.cycle');
  });

  it('vouches for an unchanged file by its settled stamp without reading it, and reads it once touched', async () => {
    const dir = fresh('stamps');
    writeFileSync(join(dir, 'parent.formula.toml'), parentText);
    writeFileSync(join(dir, 'child.formula.toml'), childText);
    // A stamp settles once the clock has passed its ctime (window 0): wait for that tick, or a
    // cold run started in the same millisecond keys the files by their bytes, not their stamps.
    const newest = Math.max(
      ...['parent', 'child'].map((n) => statSync(join(dir, `${n}.formula.toml`)).ctimeMs),
    );
    while (Date.now() <= newest) {}
    const { lib, reads } = countingLibrary(createFileLibrary([dir]));
    const cache = new ContentCache(fresh('stamps-cache'));
    const opts = { cache, stampWindowMs: 0 };
    const cold = await validateFormulas(['child', 'parent'], lib, opts);
    expect(reads()).toBeGreaterThan(0);

    const before = reads();
    const warm = await validateFormulas(['child', 'parent'], lib, opts);
    expect(warm.map((r) => r.cached)).toEqual([true, true]);
    expect(reads()).toBe(before); // neither file was read
    expect(results(warm)).toEqual(results(cold));

    // Touched, bytes unchanged: read again, and the cached verdict still stands.
    const parentFile = join(dir, 'parent.formula.toml');
    const later = new Date(Date.now() + 60_000);
    utimesSync(parentFile, later, later);
    const touched = await validateFormulas(['child', 'parent'], lib, opts);
    expect(reads()).toBeGreaterThan(before);
    expect(results(touched)).toEqual(results(cold));
    expect(touched.map((r) => r.cached)).toEqual([true, true]);
  });

  it('sees a same-size edit with the mtime put back, and a deleted file', async () => {
    const dir = fresh('same-size');
    const parentFile = join(dir, 'parent.formula.toml');
    writeFileSync(parentFile, parentText);
    writeFileSync(join(dir, 'child.formula.toml'), childText);
    utimesSync(parentFile, 1_700_000_000, 1_700_000_000); // a whole second: restored exactly below
    const lib = createFileLibrary([dir]);
    const cache = new ContentCache(fresh('same-size-cache'));
    const opts = { cache, stampWindowMs: 0 };
    const child = join(dir, 'child.formula.toml');
    expect((await validateFormulas([child], lib, opts))[0]!.diagnostics).toEqual([]);
    expect((await validateFormulas([child], lib, opts))[0]!.cached).toBe(true);

    // Same size, same mtime; only ctime (which user space cannot set) moves. The edit is
    // repeated until the clock's tick moves ctime, the premise of the window-0 stamp.
    const old = statSync(parentFile);
    const broken = parentText.replace('needs = ["design"]', 'needs = ["desigX"]');
    expect(broken.length).toBe(parentText.length);
    do {
      writeFileSync(parentFile, broken);
      utimesSync(parentFile, 1_700_000_000, 1_700_000_000);
    } while (statSync(parentFile).ctimeMs === old.ctimeMs);
    expect(statSync(parentFile)).toMatchObject({ size: old.size, mtimeMs: old.mtimeMs });
    const [edited] = await validateFormulas([child], lib, opts);
    expect(edited!.cached).toBe(false);
    expect(edited!.diagnostics).toMatchObject([
      { severity: 'error', code: 'formula.unknown-need', file: parentFile, path: 'steps[1].needs[0]' },
    ]);

    rmSync(parentFile);
    const [orphan] = await validateFormulas([child], lib, opts);
    expect(codes(orphan!)).toEqual(['error:formula.not-found']);
    rmSync(child);
    const [gone] = await validateFormulas([child], lib, opts);
    expect(gone).toMatchObject({ found: false, diagnostics: [{ code: 'formula.not-found' }] });
  });

  it('never lets a stamp taken within the window vouch for a file', async () => {
    const dir = fresh('window');
    const file = join(dir, 'solo.formula.toml');
    const text = `formula = "solo"\n\n${step('a')}\n${step('b', ['a'])}`;
    writeFileSync(file, text);
    const { lib, reads } = countingLibrary(createFileLibrary([dir]));
    const cache = new ContentCache(fresh('window-cache'));
    // The default window: the file was written a moment ago, so its stamp is not recorded.
    await validateFormulas(['solo'], lib, { cache });
    const before = reads();
    expect((await validateFormulas(['solo'], lib, { cache }))[0]!.cached).toBe(true);
    expect(reads()).toBeGreaterThan(before);
    // Once settled, the file keeps the identity its result was recorded under.
    expect((await validateFormulas(['solo'], lib, { cache, stampWindowMs: 0 }))[0]!.cached).toBe(true);
    // An edit in the same clock tick keeps ctime: only the bytes can tell, and they are read.
    writeFileSync(file, text.replace('needs = ["a"]', 'needs = ["b"]'));
    const [r] = await validateFormulas(['solo'], lib, { cache });
    expect(r!.cached).toBe(false);
    expect(codes(r!)).toContain('error:formula.cycle');
  });

  it('ignores corrupt or foreign entries and rewrites them', async () => {
    const lib = corpusLibrary();
    const files = corpusFiles.slice(0, 8);
    const cache = new ContentCache(fresh('corrupt'));
    const expected = results(await validateFormulas(files, lib, { cache }));
    const packFile = join(cache.dir, 'validate.json');
    const pack = JSON.parse(readFileSync(packFile, 'utf8'));
    // Foreign entries inside a readable pack, then a pack that is not JSON at all.
    const junk = [{ deps: [] }, [], { deps: [], diagnostics: [{ severity: 'fatal' }] }, null, 'x'];
    Object.keys(pack.results).forEach((k, i) => {
      pack.results[k] = junk[i % junk.length];
    });
    for (const text of [JSON.stringify(pack), '{"results": [', '', 'null']) {
      writeFileSync(packFile, text);
      const again = await validateFormulas(files, lib, { cache });
      expect(again.every((r) => !r.cached)).toBe(true);
      expect(results(again)).toEqual(expected);
      expect(() => JSON.parse(readFileSync(packFile, 'utf8'))).not.toThrow();
      expect((await validateFormulas(files, lib, { cache })).every((r) => r.cached)).toBe(true);
    }
  });

  it('validates normally when the cache folder cannot be created or written', async () => {
    const blocker = join(fresh('blocked'), 'not-a-dir');
    writeFileSync(blocker, 'a file where the cache folder would go');
    const cache = new ContentCache(join(blocker, 'formula'));
    const files = corpusFiles.slice(0, 5);
    const lib = corpusLibrary();
    const r = await validateFormulas(files, lib, { cache });
    expect(results(r)).toEqual(results(await validateFormulas(files, lib)));
    expect(readFileSync(blocker, 'utf8')).toBe('a file where the cache folder would go');
  });

  it('keys files by git blob id', async () => {
    const dir = fresh('blob');
    writeFileSync(join(dir, 'x.txt'), 'héllo\n');
    await gitIn(dir, 'init', '-q');
    expect(blobId('héllo\n')).toBe((await gitIn(dir, 'hash-object', 'x.txt')).trim());
  });
  it('checks the lookups of a library with extra search dirs (GASTOWN_FORMULA_PATH) too', async () => {
    // withSearchDirs libraries (GASTOWN_FORMULA_PATH) are what the CLI passes in.
    const extra = fresh('extra');
    const base = fresh('base');
    writeFileSync(join(base, 'parent.formula.toml'), parentText);
    writeFileSync(join(base, 'child.formula.toml'), childText);
    // A new library per run, as each CLI process makes one (libraries memoise folder listings).
    const lib = () => withSearchDirs(createFileLibrary([base]), [extra]);
    const cache = new ContentCache(fresh('extra-cache'));
    expect((await validateFormulas(['child'], lib(), { cache }))[0]).toMatchObject({ diagnostics: [] });
    expect((await validateFormulas(['child'], lib(), { cache }))[0]!.cached).toBe(true);
    writeFileSync(join(extra, 'parent.formula.toml'), 'formula = "parent"\n[[steps]]\nid = 1\n');
    const [r] = await validateFormulas(['child'], lib(), { cache });
    expect(r!.cached).toBe(false);
    expect(codes(r!)).toContain('error:formula.ref-invalid');
  });
});

describe('cacheRoot', () => {
  it('is off with GASTOWN_NO_CACHE, then GASTOWN_CACHE_DIR, <repo>/.beads/.cache, XDG, ~/.cache', () => {
    const repo = fresh('root');
    mkdirSync(join(repo, '.beads'));
    const plain = fresh('plain');
    expect(cacheRoot({ GASTOWN_NO_CACHE: '1', GASTOWN_CACHE_DIR: '/c' }, repo)).toBeUndefined();
    expect(cacheRoot({ GASTOWN_NO_CACHE: '0', GASTOWN_CACHE_DIR: '/c' }, repo)).toBe('/c');
    expect(cacheRoot({ GASTOWN_CACHE_DIR: 'rel' }, repo, '/work')).toBe('/work/rel');
    expect(cacheRoot({ XDG_CACHE_HOME: '/x', HOME: '/h' }, repo)).toBe(join(repo, '.beads', '.cache'));
    expect(cacheRoot({ XDG_CACHE_HOME: '/x', HOME: '/h' }, plain)).toBe('/x/gastown');
    expect(cacheRoot({ XDG_CACHE_HOME: 'relative', HOME: '/h' }, undefined)).toBe('/h/.cache/gastown');
  });
});

describe('parseTomlCached', () => {
  it('returns what smol-toml returns for every corpus file, cold and warm', () => {
    const cache = new ContentCache(fresh('toml'));
    for (const file of corpusFiles) {
      const text = readFileSync(file, 'utf8');
      const expected = parseToml(text);
      expect(parseTomlCached(text, cache)).toStrictEqual(expected);
      const warm = parseTomlCached(text, cache);
      expect(warm).toStrictEqual(expected); // null-prototype tables included
      expect(Object.getPrototypeOf(warm)).toBeNull();
    }
    expect(readdirSync(cache.dir)).toHaveLength(
      new Set(corpusFiles.map((f) => readFileSync(f, 'utf8'))).size,
    );
  });

  it('never stores what JSON cannot carry, and throws syntax errors as the parser does', () => {
    const cache = new ContentCache(fresh('toml-odd'));
    const odd = 'when = 2026-01-06T09:00:00Z\nday = 2026-01-06\nx = nan\ny = -0.0\n';
    const first = parseTomlCached(odd, cache);
    expect(parseTomlCached(odd, cache)).toStrictEqual(first);
    expect(first.when).toBeInstanceOf(Date);
    expect(Number.isNaN(first.x)).toBe(true);
    expect(Object.is(first.y, -0)).toBe(true);
    expect(readdirSync(cache.dir)).toEqual([]);
    expect(() => parseTomlCached('a = "open', cache)).toThrow(/Invalid TOML document/);
  });
});
