// `convoy show` answers from .beads/.cache/convoys.json by stamp (src/convoy/read.ts), without
// loading the engine, while every member's watched stats, its `after` molecule's state and the
// config's stamp hold. Whatever changed since must be judged again: each answer after a change is
// the one a run with no cache at all gives. GASTOWN_STAMP_WINDOW_MS=0 lets stamps be recorded at once.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gt } from '../engine/cli.js';
import { chunksLoaded, ENGINE_CHUNK } from '../helpers/chunks.js';
import { scratchCopies } from '../helpers/repo.js';
import { AT_COMMIT_TIME, type convoyRepo, plainConvoyRepo } from './helpers.js';

const ENV = { ...AT_COMMIT_TIME, GASTOWN_STAMP_WINDOW_MS: '0' };
const SHOW = ['convoy', 'show', 'c', '--json'];

describe('convoy show from stamps', () => {
  let base: Awaited<ReturnType<typeof convoyRepo>>;
  let copies: ReturnType<typeof scratchCopies>;
  let cwd: string;
  const show = async (dir = cwd, env: Record<string, string> = {}) => {
    const r = await gt(dir, SHOW, { ...ENV, ...env });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    return r;
  };
  const warm = async () => JSON.parse(String((await show()).stdout)) as unknown;
  /** What `convoy show` says with no cache at all, in a copy of the repository. */
  const cold = async () => {
    const copy = copies.cacheless(cwd);
    return JSON.parse(String((await show(copy)).stdout)) as unknown;
  };
  const loadsEngine = async () =>
    chunksLoaded(String((await show(cwd, { NODE_DEBUG: 'module' })).stderr)).some((f) =>
      ENGINE_CHUNK.test(f),
    );

  beforeAll(async () => {
    base = await plainConvoyRepo(ENV);
    copies = scratchCopies();
  });
  afterAll(() => {
    base.cleanup();
    copies.cleanup();
  });
  // Each test starts from its own copy, the cache filled and stamped by two runs.
  beforeEach(async () => {
    cwd = copies.copy(base.path);
    await show();
    await show();
  });

  it('answers from the stamps without loading the engine, as a run with no cache does', async () => {
    const v = (await warm()) as { progress: { total: number } };
    expect(v.progress.total).toBe(2);
    expect(v).toEqual(await cold());
    expect(await loadsEngine()).toBe(false);
  });

  it('a fact written by hand is judged again, though its molecule folder did not change', async () => {
    const before = await warm();
    // A new name in events/ moves that folder's stat only, not the molecule folder's.
    writeFileSync(
      join(cwd, '.beads/molecules/d1/events/a.1.done.toml'),
      'step = "a"\nattempt = 1\nkind = "done"\n',
    );
    expect(await loadsEngine()).toBe(true);
    const after = await warm();
    expect(after).toEqual(await cold());
    expect(after).not.toEqual(before);
  });

  it('a molecule that joins by an edit of its molecule.toml is shown', async () => {
    const file = join(cwd, '.beads/molecules/d3/molecule.toml');
    const text = readFileSync(file, 'utf8');
    // Replaced whole, as every writer does: its folder's stamp moves.
    rmSync(file);
    writeFileSync(file, `convoy = "c"\n${text}`);
    const after = (await warm()) as { molecules: { id: string }[] };
    expect(after.molecules.map((m) => m.id)).toContain('d3');
    expect(after).toEqual(await cold());
  });

  it("the molecule a member waits for completing unblocks it, though the member's files did not change", async () => {
    const before = (await warm()) as { molecules: { id: string; state: string }[] };
    expect(before.molecules.find((m) => m.id === 'd2')?.state).toBe('blocked');
    // d1's facts as a checkout from another clone brings them: no advance has touched d2 since.
    const events = join(cwd, '.beads/molecules/d1/events');
    writeFileSync(join(events, 'a.1.done.toml'), 'step = "a"\nattempt = 1\nkind = "done"\n');
    writeFileSync(join(events, 'b.1.ready.toml'), 'step = "b"\nattempt = 1\nkind = "ready"\n');
    writeFileSync(join(events, 'b.1.done.toml'), 'step = "b"\nattempt = 1\nkind = "done"\n');
    writeFileSync(join(events, 'molecule.completed.toml'), 'kind = "completed"\n');
    const after = (await warm()) as { molecules: { id: string; state: string }[] };
    expect(after.molecules.find((m) => m.id === 'd2')?.state).not.toBe('blocked');
    expect(after).toEqual(await cold());
  });
});
