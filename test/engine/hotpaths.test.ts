// The hot paths' shortcuts keep their promises: settled history taken by name on a cold start,
// lazily read files, the events-only cache key, the three-syscall read, the runner's repo paths.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fold } from '../../src/engine/fold.js';
import { LazyFiles } from '../../src/engine/io.js';
import { settledFactPaths } from '../../src/engine/reconcile.js';
import { readSmallFile } from '../../src/store/atomic.js';
import { pathsFromRunner } from '../../src/triggers/hook.js';
import { tempDir } from '../helpers/repo.js';
import { gt, gtJson, gtOk, repoWithFormulas, type Status, stepStates } from './cli.js';
import { formula, step } from './formulas.js';

const fact = (s: string, attempt: number, kind: string, extra = '') =>
  `step = "${s}"\nattempt = ${attempt}\nkind = "${kind}"\n${extra}`;

describe('settled history', () => {
  it('trusts the facts of done/skipped steps and earlier attempts, never steps in flight or contradictions', () => {
    const trusted = settledFactPaths([
      'molecule.toml',
      'events/a.1.ready.toml',
      'events/a.1.done.toml',
      'events/b.1.ready.toml',
      'events/b.1.started.toml',
      'events/c.1.done.toml',
      'events/c.2.reopened.toml',
      'events/d.1.done.toml',
      'events/d.1.failed.toml',
      'events/e.1.skipped.toml',
      'events/f.1.failed.toml',
      'events/molecule.completed.toml',
    ]);
    expect([...trusted].sort()).toEqual([
      'events/a.1.done.toml',
      'events/a.1.ready.toml',
      'events/c.1.done.toml',
      'events/e.1.skipped.toml',
    ]);
  });

  it('a fold that takes settled facts by name gives the same step states and reads none of them', () => {
    const f = formula('flow', [step('a'), step('b', ['a']), step('c', ['b'])]);
    const files = new Map([
      ['molecule.toml', `id = "m"\nformula = "flow"\nformula_hash = "${f.hash}"\n`],
      ['formula.resolved.toml', 'formula = "flow"\n'],
      ['events/a.1.ready.toml', fact('a', 1, 'ready')],
      ['events/a.1.done.toml', fact('a', 1, 'done', 'by = "polecat-1"\n')],
      ['events/b.1.ready.toml', fact('b', 1, 'ready')],
    ]);
    const parseFormula = () => f;
    const full = fold('m', 'x', files, { parseFormula });
    const read: string[] = [];
    const watched = new Map(files);
    const get = watched.get.bind(watched);
    watched.get = (k: string) => {
      read.push(k);
      return get(k);
    };
    const trusted = settledFactPaths(files.keys());
    const quick = fold('m', 'x', watched, { parseFormula, trusted });
    expect(quick.steps.map((s) => [s.id, s.status, s.attempt])).toEqual(
      full.steps.map((s) => [s.id, s.status, s.attempt]),
    );
    expect(quick.errors).toEqual([]);
    expect(read.filter((k) => trusted.has(k))).toEqual([]);
    expect(read).toContain('events/b.1.ready.toml');
  });
});

describe('lazy files and small reads', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => dir.cleanup());

  it('a deferred file is read when asked for, and iterating reads everything', () => {
    const a = join(dir.path, 'a.toml');
    writeFileSync(a, 'before\n');
    const files = new LazyFiles();
    files.defer('events/a.toml', a);
    files.set('molecule.toml', 'id = "m"\n');
    writeFileSync(a, 'after\n'); // not read yet: the deferral reads at get time
    expect(files.has('events/a.toml')).toBe(true);
    expect([...files.keys()].sort()).toEqual(['events/a.toml', 'molecule.toml']);
    expect(files.get('events/a.toml')).toBe('after\n');
    const b = join(dir.path, 'b.toml');
    writeFileSync(b, 'bee\n');
    files.defer('events/b.toml', b);
    expect(Object.fromEntries(files)).toEqual({
      'events/a.toml': 'after\n',
      'events/b.toml': 'bee\n',
      'molecule.toml': 'id = "m"\n',
    });
  });

  it('reads files larger than its buffer, and UTF-8, whole', () => {
    const big = `${'é'.repeat(50_000)}\n${'x'.repeat(70_000)}\n`;
    const path = join(dir.path, 'big.md');
    writeFileSync(path, big);
    expect(readSmallFile(path)).toBe(big);
    writeFileSync(path, '');
    expect(readSmallFile(path)).toBe('');
  });

  it('takes the runner repo paths only for this directory', () => {
    const text = '/r\n/r/.git\n.git';
    expect(pathsFromRunner('/r', text)).toEqual({ root: '/r', gitDir: '/r/.git', commonDir: '/r/.git' });
    expect(pathsFromRunner('/elsewhere', text)).toBeUndefined();
    expect(pathsFromRunner('/r', '/r\n/r/.git')).toBeUndefined();
    expect(pathsFromRunner('/r', undefined)).toBeUndefined();
  });
});

describe('advance shortcuts, end to end', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  beforeAll(async () => {
    repo = await repoWithFormulas('beads/quick-check');
    await gtOk(repo.path, ['molecule', 'create', '--formula', 'quick-check', '--name', 'qc']);
  });
  afterAll(() => repo.cleanup());

  it('a fact that appears after the cache saw a molecule is read and checked, even a settled one', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['advance']); // the cache now knows qc
    const file = '.beads/molecules/qc/events/lint.1.done.toml';
    writeFileSync(join(cwd, file), 'step = "lint"\nattempt = 1\nkind = "done"\nby = 7\n');
    const adv = await gt(cwd, ['advance', '--json']);
    expect(adv.exitCode).toBe(1);
    const result = JSON.parse(String(adv.stdout)) as { problems: { file?: string }[]; written: string[] };
    expect(result.problems.map((p) => p.file)).toContain(file);
    expect(result.written).toEqual([]);
    rmSync(join(cwd, file));
  });

  it('an output added to a molecule with no gates changes nothing; facts written by hand are picked up', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['advance']);
    mkdirSync(join(cwd, '.beads/molecules/qc/outputs'), { recursive: true });
    writeFileSync(join(cwd, '.beads/molecules/qc/outputs/lint.md'), 'lint is clean\n');
    const quiet = await gtJson<{ written: string[] }>(cwd, ['advance']);
    expect(quiet.written).toEqual([]);
    for (const s of ['lint', 'test', 'build'])
      writeFileSync(join(cwd, `.beads/molecules/qc/events/${s}.1.done.toml`), fact(s, 1, 'done'));
    const moved = await gtJson<{ written: string[] }>(cwd, ['advance']);
    expect(moved.written).toEqual(['.beads/molecules/qc/events/report.1.ready.toml']);
    const s = await gtJson<Status>(cwd, ['molecule', 'status', 'qc']);
    expect(stepStates(s)).toEqual({ lint: 'done', test: 'done', build: 'done', report: 'ready' });
  });
});

describe('a cold advance reads only what the plan reads', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  beforeAll(async () => {
    repo = await repoWithFormulas('beads/quick-check');
    for (const name of ['meta', 'frozen', 'missing', 'fine'])
      await gtOk(repo.path, ['molecule', 'create', '--formula', 'quick-check', '--name', name]);
  });
  afterAll(() => repo.cleanup());

  it('still reports a corrupted molecule.toml or frozen formula and a missing file, and writes nothing for them', async () => {
    const cwd = repo.path;
    const dir = (id: string) => join(cwd, '.beads/molecules', id);
    writeFileSync(join(dir('meta'), 'molecule.toml'), 'id = "meta"\nformula = "quick-check"\n');
    writeFileSync(join(dir('frozen'), 'formula.resolved.toml'), 'formula = "quick-check"\nsteps = [\n');
    rmSync(join(dir('missing'), 'molecule.toml'));
    // fine's needs are done by hand: the cold run must still move it on.
    for (const s of ['lint', 'test', 'build'])
      writeFileSync(join(dir('fine'), `events/${s}.1.done.toml`), fact(s, 1, 'done'));
    rmSync(join(cwd, '.beads/.cache'), { recursive: true, force: true });
    const adv = await gt(cwd, ['advance', '--json']);
    expect(adv.exitCode).toBe(1);
    const result = JSON.parse(String(adv.stdout)) as {
      problems: { molecule?: string; file?: string; message: string }[];
      written: string[];
    };
    expect(result.problems.map((p) => [p.molecule, p.file])).toEqual([
      ['frozen', '.beads/molecules/frozen/formula.resolved.toml'],
      ['meta', '.beads/molecules/meta/molecule.toml'],
      ['missing', '.beads/molecules/missing/molecule.toml'],
    ]);
    expect(result.problems.find((p) => p.molecule === 'meta')?.message).toContain('formula_hash');
    expect(result.problems.find((p) => p.molecule === 'frozen')?.message).toMatch(/invalid TOML/);
    expect(result.written).toEqual(['.beads/molecules/fine/events/report.1.ready.toml']);
  });
});
