// The engine commit's tree is built without an index (src/git/tree.ts): it must be exactly the
// tree git itself makes from HEAD with the same paths added, changed and removed.
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { commitFiles } from '../../src/git/commit.js';
import { gitIn, IDENTITY, tempDir, testEnv } from '../helpers/repo.js';

const ENV = { ...IDENTITY, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function repo(format: 'sha1' | 'sha256' = 'sha1'): Promise<string> {
  const dir = tempDir();
  cleanups.push(dir.cleanup);
  await gitIn(dir.path, 'init', '-q', '-b', 'main', `--object-format=${format}`);
  return dir.path;
}

function write(cwd: string, path: string, text: string): void {
  mkdirSync(dirname(join(cwd, path)), { recursive: true });
  writeFileSync(join(cwd, path), text);
}

/** The tree git makes from HEAD with `paths` as they are in the working tree (its own index). */
async function gitsOwnTree(cwd: string, paths: string[]): Promise<string> {
  const env = { ...testEnv(), GIT_INDEX_FILE: join(cwd, '.git/test-index') };
  const opts = { cwd, env, extendEnv: false };
  await execa('git', ['read-tree', 'HEAD'], opts);
  await execa('git', ['update-index', '--add', '--remove', '-z', '--stdin'], {
    ...opts,
    input: paths.map((p) => `${p}\0`).join(''),
  });
  return (await execa('git', ['write-tree'], opts)).stdout.trim();
}

const commit = (cwd: string, paths: string[]) =>
  commitFiles({
    root: cwd,
    gitDir: join(cwd, '.git'),
    paths,
    message: 'engine\n',
    identity: IDENTITY_OF,
    env: ENV,
  });
const IDENTITY_OF = { name: 'gastown', email: 'gastown@localhost' };

describe('the engine commit’s tree', () => {
  for (const format of ['sha1', 'sha256'] as const) {
    it(`is the tree git makes from the same paths (${format}): added, changed, removed, folders emptied`, async () => {
      const cwd = await repo(format);
      // Names that sort differently as files and as folders (`a` < `a-` < `a.b` < `a/` < `a0`).
      for (const p of [
        '.beads/molecules/m1/events/design.1.ready.toml',
        '.beads/molecules/m1/molecule.toml',
        '.beads/molecules/m1-x/molecule.toml',
        '.beads/molecules/m1.y',
        '.beads/molecules/m10/molecule.toml',
        '.beads/molecules/gone/only.toml',
        '.beads/config.toml',
        'a-',
        'a.b',
        'a0',
        'src/main.ts',
      ])
        write(cwd, p, `${p}\n`);
      await gitIn(cwd, 'add', '-A');
      await gitIn(cwd, 'commit', '-q', '-m', 'base');
      write(cwd, '.beads/molecules/m1/events/design.1.done.toml', 'new\n');
      write(cwd, '.beads/molecules/m1/molecule.toml', 'changed\n');
      write(cwd, '.beads/molecules/m1/reports/deep/er/r.txt', 'nested new folders\n');
      write(cwd, '.beads/molecules/m2/molecule.toml', 'new molecule\n');
      write(cwd, 'a/inside.txt', 'a folder named like files beside it\n');
      write(cwd, '.beads/run.sh', '#!/bin/sh\n');
      chmodSync(join(cwd, '.beads/run.sh'), 0o755);
      symlinkSync('molecule.toml', join(cwd, '.beads/molecules/m2/link'));
      rmSync(join(cwd, '.beads/molecules/gone'), { recursive: true });
      rmSync(join(cwd, '.beads/molecules/m1.y'));
      const paths = [
        '.beads/molecules/m1/events/design.1.done.toml',
        '.beads/molecules/m1/molecule.toml',
        '.beads/molecules/m1/reports/deep/er/r.txt',
        '.beads/molecules/m2/molecule.toml',
        '.beads/molecules/m2/link',
        '.beads/molecules/gone/only.toml',
        '.beads/molecules/m1.y',
        '.beads/run.sh',
        'a/inside.txt',
        'never-there.txt',
      ];
      const expected = await gitsOwnTree(cwd, paths);
      const made = await commit(cwd, paths);
      expect(await gitIn(cwd, 'rev-parse', `${made.commit}^{tree}`)).toBe(expected);
      // Every object it wrote is whole and well formed.
      expect(await gitIn(cwd, 'fsck', '--strict', '--no-dangling')).toBe('');
      expect(await gitIn(cwd, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    });
  }

  it('changes one folder among many without disturbing a sibling that looks like it', async () => {
    const cwd = await repo();
    // `a40000 m1` holds the same files as `m1` (so the same tree), and its entry's bytes end
    // with the bytes of m1's own entry.
    for (const id of ['a40000 m1', 'm0', 'm1', 'm1-x', 'm10', 'm2'])
      write(cwd, `.beads/molecules/${id}/molecule.toml`, 'same\n');
    for (let i = 0; i < 50; i++) write(cwd, `.beads/molecules/n${i}/molecule.toml`, `${i}\n`);
    await gitIn(cwd, 'add', '-A');
    await gitIn(cwd, 'commit', '-q', '-m', 'base');
    for (const id of ['m1', 'n7']) write(cwd, `.beads/molecules/${id}/events/design.1.done.toml`, `${id}\n`);
    const paths = [
      '.beads/molecules/m1/events/design.1.done.toml',
      '.beads/molecules/n7/events/design.1.done.toml',
    ];
    const expected = await gitsOwnTree(cwd, paths);
    const made = await commit(cwd, paths);
    expect(await gitIn(cwd, 'rev-parse', `${made.commit}^{tree}`)).toBe(expected);
    expect(await gitIn(cwd, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('starts the first tree of a repository with no commit yet', async () => {
    const cwd = await repo();
    write(cwd, '.beads/molecules/m1/molecule.toml', 'x\n');
    const made = await commit(cwd, ['.beads/molecules/m1/molecule.toml']);
    expect(made.parent).toBeUndefined();
    expect(await gitIn(cwd, 'ls-tree', '-r', '--name-only', 'HEAD')).toBe(
      '.beads/molecules/m1/molecule.toml',
    );
    expect(await gitIn(cwd, 'fsck', '--strict', '--no-dangling')).toBe('');
  });
});
