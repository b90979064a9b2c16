// One "git is mid-operation" rule: the hook guard, the engine's commit and the store's cache all
// read src/git/states.ts, so a state that stops one stops them all.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATION_STATES, operationInProgress } from '../../src/git/states.js';
import { gitOperationInProgress } from '../../src/store/cache.js';
import { gitIn, makeRepo } from '../helpers/repo.js';

let repo: { path: string; cleanup(): void };
beforeAll(async () => {
  repo = await makeRepo();
});
afterAll(() => repo.cleanup());

describe('git operation states', () => {
  it('every state file (a multi-commit cherry-pick’s sequencer too) makes the store trust no cached key', async () => {
    const gitDir = join(repo.path, '.git');
    const head = (await gitIn(repo.path, 'rev-parse', 'HEAD')).trim();
    expect(gitOperationInProgress(repo.path)).toBe(false);
    for (const [file, op] of OPERATION_STATES) {
      const path = join(gitDir, file);
      if (/^[a-z-]+$/.test(file)) mkdirSync(path);
      else writeFileSync(path, `${head}\n`);
      expect({ file, op: operationInProgress(gitDir), store: gitOperationInProgress(repo.path) }).toEqual({
        file,
        op,
        store: true,
      });
      rmSync(path, { recursive: true, force: true });
    }
  });

  it('a real multi-commit cherry-pick stopped on a conflict is seen as in progress', async () => {
    const cwd = repo.path;
    await gitIn(cwd, 'checkout', '-q', '-b', 'side');
    for (const n of ['1', '2']) {
      writeFileSync(join(cwd, 'f.txt'), `side ${n}\n`);
      await gitIn(cwd, 'add', 'f.txt');
      await gitIn(cwd, 'commit', '-q', '-m', `side ${n}`);
    }
    await gitIn(cwd, 'checkout', '-q', 'main');
    writeFileSync(join(cwd, 'f.txt'), 'main\n');
    await gitIn(cwd, 'add', 'f.txt');
    await gitIn(cwd, 'commit', '-q', '-m', 'main');
    await expect(gitIn(cwd, 'cherry-pick', 'main..side')).rejects.toThrow();
    // The person resolves and commits by hand; git still holds the rest of the sequence.
    writeFileSync(join(cwd, 'f.txt'), 'resolved\n');
    await gitIn(cwd, 'add', 'f.txt');
    await gitIn(cwd, 'commit', '-q', '--no-edit');
    expect(operationInProgress(join(cwd, '.git'))).toBe('sequence');
    expect(gitOperationInProgress(cwd)).toBe(true);
    await gitIn(cwd, 'cherry-pick', '--abort');
    expect(gitOperationInProgress(cwd)).toBe(false);
  });
});
