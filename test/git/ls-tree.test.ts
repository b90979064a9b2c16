// listTree reads a commit's folders through the run's shared `git cat-file --batch`: what it
// lists must be exactly what `git ls-tree -r` lists (paths, modes, types, ids, order), and the
// engine commit that follows must read its trees through the same process.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeSharedCatFiles, sharedCatFile } from '../../src/git/cat-file.js';
import { listTree, type TreeEntry } from '../../src/git/ls-tree.js';
import { gitIn, tempDir } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await closeSharedCatFiles();
  for (const c of cleanups.splice(0)) c();
});

function write(cwd: string, path: string, text: string): void {
  mkdirSync(dirname(join(cwd, path)), { recursive: true });
  writeFileSync(join(cwd, path), text);
}

/** A commit holding files, a nested folder, an executable, a link and a submodule under `m/`. */
async function repo(): Promise<{ cwd: string; commit: string }> {
  const dir = tempDir();
  cleanups.push(dir.cleanup);
  const cwd = dir.path;
  await gitIn(cwd, 'init', '-q', '-b', 'main');
  write(cwd, 'm/molecule.toml', 'id = "m"\n');
  write(cwd, 'm/events/a.1.ready.toml', 'x\n');
  write(cwd, 'm/events/a.1.done.toml', 'y\n');
  write(cwd, 'm/checkpoints/review.approvals/jgil.toml', 'ok\n');
  write(cwd, 'm/checkpoints/review.md', 'review\n');
  write(cwd, 'm/run.sh', '#!/bin/sh\n');
  chmodSync(join(cwd, 'm/run.sh'), 0o755);
  symlinkSync('molecule.toml', join(cwd, 'm/link'));
  write(cwd, 'm-sibling/file', 'other\n');
  write(cwd, 'top.txt', 'top\n');
  await gitIn(cwd, 'add', '-A');
  const sub = '1234567890123456789012345678901234567890';
  await gitIn(cwd, 'update-index', '--add', '--cacheinfo', `160000,${sub},m/vendor`);
  await gitIn(cwd, 'commit', '-q', '-m', 'state');
  return { cwd, commit: (await gitIn(cwd, 'rev-parse', 'HEAD')).trim() };
}

/** `git ls-tree -r` of a folder, parsed here. */
async function lsTree(cwd: string, commit: string, folder: string): Promise<[string, TreeEntry][]> {
  const out = await gitIn(cwd, 'ls-tree', '-r', '-z', commit, '--', folder);
  return out
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta = '', path = ''] = line.split('\t');
      const [mode = '', type = '', id = ''] = meta.split(' ');
      return [path, { mode, type, id }];
    });
}

describe('listTree', () => {
  it('lists a folder of a commit exactly as git ls-tree -r does, in its order', async () => {
    const { cwd, commit } = await repo();
    const got = await listTree(cwd, commit, ['m/']);
    expect([...(got ?? [])]).toEqual(await lsTree(cwd, commit, 'm/'));
    expect(got?.get('m/vendor')?.type).toBe('commit');
    expect(got?.get('m/link')?.mode).toBe('120000');
    expect(got?.get('m/run.sh')?.mode).toBe('100755');
    expect(got?.has('m-sibling/file')).toBe(false);
  });

  it('lists two folders in one call, a missing one as empty, and no commit as undefined', async () => {
    const { cwd, commit } = await repo();
    const got = await listTree(cwd, commit, ['m/checkpoints/', 'nosuch/', 'm-sibling/']);
    expect([...(got ?? [])]).toEqual([
      ...(await lsTree(cwd, commit, 'm/checkpoints/')),
      ...(await lsTree(cwd, commit, 'm-sibling/')),
    ]);
    expect(await listTree(cwd, 'f'.repeat(40), ['m/'])).toBeUndefined();
  });

  it('reads through the shared cat-file, which the tree reads after it reuse', async () => {
    const { cwd, commit } = await repo();
    await listTree(cwd, commit, ['m/']);
    const session = sharedCatFile(cwd);
    const [tree] = await session.readAll([`${commit}:m`]);
    expect(tree?.type).toBe('tree');
    // The same session: no second process was started for this root.
    expect(sharedCatFile(cwd)).toBe(session);
    await closeSharedCatFiles();
    expect(sharedCatFile(cwd)).not.toBe(session);
  });
});
