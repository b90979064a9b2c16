// `convoy show ID` and `patrol` are answered before commander loads (src/cli/shortcuts.ts;
// test/cli/shortcuts.test.ts holds the options to the table): both paths print the same.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { gt, gtOk } from '../engine/cli.js';
import { expectShortcutAsFullPath } from '../helpers/chunks.js';
import { commitAll } from '../helpers/repo.js';
import { AT_COMMIT_TIME, convoyRepo } from './helpers.js';

describe('the convoy show and patrol shortcut', () => {
  let repo: Awaited<ReturnType<typeof convoyRepo>>;
  beforeAll(async () => {
    repo = await convoyRepo();
    const cwd = repo.path;
    await gtOk(cwd, ['convoy', 'create', 'c', '--name', 'One day', '--owner', '@jgil']);
    await gtOk(
      cwd,
      ['molecule', 'create', '--formula', 'day', '--name', 'd1', '--convoy', 'c'],
      AT_COMMIT_TIME,
    );
    await commitAll(cwd, 'd1');
  });
  afterAll(() => repo.cleanup());

  it('prints what the full path prints, with the same exit code, without the command table', async () => {
    const cwd = repo.path;
    for (const args of [
      ['convoy', 'show', 'c'],
      ['convoy', 'show', 'c', '--json'],
      ['convoy', 'show', 'nope'],
      ['convoy', 'show', '../x'],
      ['patrol', '--no-commit', '--json'],
    ]) {
      const quick = await gt(cwd, args, { ...AT_COMMIT_TIME, NODE_DEBUG: 'module' });
      const full = await gt('/', ['-C', cwd, ...args], AT_COMMIT_TIME);
      expectShortcutAsFullPath(quick, full);
    }
  });
});
