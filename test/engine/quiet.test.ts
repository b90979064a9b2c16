// The quiet check (src/engine/quiet.ts) stats every watched path of every molecule through node's
// own stat binding when it can. Reaching for it must never show: a plain `advance` prints
// exactly what it prints without it, whatever node's deprecation settings are, and it still
// sees a file changed in place.
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statStamp } from '../../src/store/cache.js';
import { stampStat } from '../../src/store/stat.js';
import { gt, gtJson, gtOk, repoWithFormulas } from './cli.js';

const NOW_ENV = { GASTOWN_STAMP_WINDOW_MS: '0' };

describe('the quiet check', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  beforeAll(async () => {
    repo = await repoWithFormulas('beads/quick-check');
    for (const name of ['qa', 'qb'])
      await gtOk(repo.path, ['molecule', 'create', '--formula', 'quick-check', '--name', name]);
    // Settle, then record every stamp.
    await gtOk(repo.path, ['advance'], NOW_ENV);
    await gtOk(repo.path, ['advance'], NOW_ENV);
  });
  afterAll(() => repo.cleanup());

  it('answers from its stamps with no deprecation warning, though node is asked to print pending ones', async () => {
    const cwd = repo.path;
    const envs: Record<string, string>[] = [
      { NODE_PENDING_DEPRECATION: '1' },
      { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --pending-deprecation` },
    ];
    for (const env of envs) {
      const words = await gt(cwd, ['advance'], { ...NOW_ENV, ...env });
      expect(words.stdout).toBe('nothing to do');
      expect(words.stderr).toBe('');
      const json = await gt(cwd, ['advance', '--json'], { ...NOW_ENV, ...env });
      expect(JSON.parse(String(json.stdout)).unchanged).toEqual({ stamp: 2, key: 0 });
      expect(json.stderr).toBe('');
    }
  });

  it('stamps a folder and a file as fs.statSync does, and says which is a folder', () => {
    const dir = join(repo.path, '.beads/molecules/qa');
    const file = join(dir, 'molecule.toml');
    for (const path of [dir, file]) {
      const got = stampStat(path);
      expect(got && statStamp(got)).toBe(statStamp(statSync(path)));
      expect(got?.dir).toBe(path === dir);
    }
    expect(stampStat(join(dir, 'no-such-file'))).toBeUndefined();
    // Under a file: no stat at all, and no exception either.
    expect(stampStat(join(file, 'x'))).toBeUndefined();
  });

  it('sees a fact added after the stamps were recorded', async () => {
    const cwd = repo.path;
    writeFileSync(
      join(cwd, '.beads/molecules/qa/events/lint.1.done.toml'),
      'step = "lint"\nattempt = 1\nkind = "done"\n',
    );
    const moved = await gtJson<{ unchanged: { stamp: number; key: number } }>(
      cwd,
      ['advance', '--json'],
      NOW_ENV,
    );
    expect(moved.unchanged).toEqual({ stamp: 1, key: 0 });
  });
});
