// `molecule status|list|current` and `prime` are answered before commander loads
// (src/cli/shortcuts.ts; test/cli/shortcuts.test.ts holds the options to the table): both paths
// print the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paAtReview } from '../engine/polecats.js';
import { gastown, gitIn, makeRepo } from '../helpers/repo.js';

describe('the molecule readers shortcut', () => {
  let repo: Awaited<ReturnType<typeof makeRepo>>;
  beforeAll(async () => {
    repo = await makeRepo();
    await paAtReview(repo.path);
    await gitIn(repo.path, 'add', '-A');
    await gitIn(repo.path, 'commit', '-q', '-m', 'pa done');
  });
  afterAll(() => repo.cleanup());

  it('prints what the full path prints, with the same exit code', async () => {
    const cwd = repo.path;
    for (const args of [
      ['molecule', 'list'],
      ['molecule', 'list', '--json'],
      ['molecule', 'status', 'pa'],
      ['mol', 'status', 'pa', '--json'],
      ['molecule', 'status', 'nope'],
      ['molecule', 'current', '--for', 'polecat-1', '--full'],
      ['molecule', 'current', 'pb', '--json'],
      ['prime', '--for', 'polecat-1'],
      ['prime', '--for', 'polecat-1', '--json'],
      ['prime', '--for', 'nobody'],
    ]) {
      const quick = await gastown(args, cwd);
      const full = await gastown(['-C', cwd, ...args], '/');
      expect([quick.exitCode, String(quick.stdout), String(quick.stderr)]).toEqual([
        full.exitCode,
        String(full.stdout),
        String(full.stderr),
      ]);
    }
  });
});
