// `convoy show` prints a view kept whole (src/convoy/kept.ts) while every stat it came from holds:
// the same bytes a run with no cache prints. A fact added, a molecule joining, convoy.toml edited
// in place or the kept file damaged: the view is read again, and is what a run with no cache says.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inProcess } from '../engine/cli.js';
import { scratchCopies } from '../helpers/repo.js';
import { AT_COMMIT_TIME, type convoyRepo, plainConvoyRepo } from './helpers.js';

const { gt } = inProcess;
const ENV = { ...AT_COMMIT_TIME, GASTOWN_STAMP_WINDOW_MS: '0', GASTOWN_TRACE: 'convoy' };
const KEPT = 'gastown: trace convoy kept';

describe('convoy show from a kept view', () => {
  let base: Awaited<ReturnType<typeof convoyRepo>>;
  let copies: ReturnType<typeof scratchCopies>;
  let cwd: string;
  const show = async (dir = cwd) => {
    const r = await gt(dir, ['convoy', 'show', 'c'], ENV);
    expect(r.exitCode, r.stderr).toBe(0);
    return { out: r.stdout, kept: r.stderr.includes(KEPT) };
  };
  /** What `convoy show` prints with no cache at all, in a copy of the repository. */
  const cold = async () => {
    const copy = copies.cacheless(cwd);
    const r = await show(copy);
    expect(r.kept).toBe(false);
    return r.out;
  };

  beforeAll(async () => {
    base = await plainConvoyRepo(ENV);
    copies = scratchCopies();
  });
  afterAll(() => {
    base.cleanup();
    copies.cleanup();
  });
  // Each test starts from its own copy, shown until the view is kept.
  beforeEach(async () => {
    cwd = copies.copy(base.path);
    for (let i = 0; i < 5 && !(await show()).kept; i++);
  });

  it('prints the kept view, byte for byte what a run with no cache prints', async () => {
    const r = await show();
    expect(r.kept).toBe(true);
    expect(r.out).toContain('d2  blocked');
    expect(r.out).toBe(await cold());
  });

  it('a fact written by hand into a member waited for is read again', async () => {
    const before = (await show()).out;
    const events = join(cwd, '.beads/molecules/d1/events');
    writeFileSync(join(events, 'a.1.done.toml'), 'step = "a"\nattempt = 1\nkind = "done"\n');
    writeFileSync(join(events, 'b.1.ready.toml'), 'step = "b"\nattempt = 1\nkind = "ready"\n');
    writeFileSync(join(events, 'b.1.done.toml'), 'step = "b"\nattempt = 1\nkind = "done"\n');
    writeFileSync(join(events, 'molecule.completed.toml'), 'kind = "completed"\n');
    const after = await show();
    expect(after.kept).toBe(false);
    expect(after.out).not.toBe(before);
    expect(after.out).toBe(await cold());
  });

  it('a molecule that joins by a new molecule.toml is shown', async () => {
    const file = join(cwd, '.beads/molecules/d3/molecule.toml');
    const text = readFileSync(file, 'utf8');
    rmSync(file);
    writeFileSync(file, `convoy = "c"\n${text}`);
    const after = await show();
    expect(after.kept).toBe(false);
    expect(after.out).toContain('d3');
    expect(after.out).toBe(await cold());
  });

  it('convoy.toml edited in place and a damaged kept file are read again', async () => {
    const file = join(cwd, '.beads/convoys/c/convoy.toml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('Two steps', 'Renamed'));
    const renamed = await show();
    expect(renamed.kept).toBe(false);
    expect(renamed.out).toContain('Renamed');
    for (let i = 0; i < 5 && !(await show()).kept; i++);

    const kept = join(cwd, '.beads/.cache/status/convoy.c.view.json');
    const data = JSON.parse(readFileSync(kept, 'utf8'));
    const stats = Buffer.from(data.stats, 'base64');
    stats[stats.length - 1] = (stats[stats.length - 1] as number) ^ 1;
    writeFileSync(kept, JSON.stringify({ ...data, stats: stats.toString('base64') }));
    const damaged = await show();
    expect(damaged.kept).toBe(false);
    expect(damaged.out).toBe(await cold());
  });
});
