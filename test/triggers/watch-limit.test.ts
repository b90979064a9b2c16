// `gastown watch` where the kernel's inotify watch limit is lower than `.beads/` needs. The limit
// is lowered for real in a user namespace of its own (`unshare -Ur`, then
// /proc/sys/user/max_inotify_watches), so only the process under test feels it.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gtOk } from '../engine/cli.js';
import { paAtReview } from '../engine/polecats.js';
import { CLI, makeRepo, testEnv } from '../helpers/repo.js';

/** `gastown watch ...args` in `cwd` with at most `limit` inotify watches for its user. */
function watchUnder(limit: number, cwd: string, args: string[]) {
  const script = 'echo "$1" > /proc/sys/user/max_inotify_watches && shift && exec "$@"';
  return execa(
    'unshare',
    ['-Ur', 'sh', '-c', script, 'sh', String(limit), process.execPath, CLI, 'watch', '--json', ...args],
    { cwd, env: testEnv({ GASTOWN_STAMP_WINDOW_MS: '0' }), extendEnv: false, reject: false, stdin: 'ignore' },
  );
}

/** Every folder under `dir`, itself included. */
function folders(dir: string): number {
  return (
    1 +
    readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .reduce((n, e) => n + folders(join(dir, e.name)), 0)
  );
}

describe('gastown watch under the inotify watch limit', () => {
  let repo: Awaited<ReturnType<typeof makeRepo>>;
  // Enough for the change journal (every molecules folder, the root, .beads/, its cache and the
  // cookie folder), far too few for chokidar's one per folder and per file of .beads/.
  let limit: number;
  beforeAll(async () => {
    repo = await makeRepo();
    await paAtReview(repo.path);
    await gtOk(repo.path, ['advance']);
    limit = folders(join(repo.path, '.beads/molecules')) + 4 + 2;
  });
  afterAll(() => repo.cleanup());

  it('fails in one line naming the limit and the ways out, leaving no journal behind', async () => {
    const r = await watchUnder(limit, repo.path, ['--debounce', '60000']);
    expect(r.exitCode).toBe(1);
    const stderr = String(r.stderr).trim();
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/inotify watch limit reached \(fs\.inotify\.max_user_watches = \d+\)/);
    expect(stderr).toMatch(/sysctl fs\.inotify\.max_user_watches=N.*gastown watch --poll/);
    expect(String(r.stdout)).not.toMatch(/"event":"ready"/);
    expect(existsSync(join(repo.path, '.beads/.cache/journal.json'))).toBe(false);
  });

  it('runs with --poll under the same limit', async () => {
    const proc = watchUnder(limit, repo.path, ['--poll', '--debounce', '60000']);
    let out = '';
    await new Promise<void>((resolve, reject) => {
      proc.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('"event":"ready"')) resolve();
      });
      proc.once('close', () => reject(new Error(`watch --poll ended before it was ready:\n${proc.stderr}`)));
    });
    proc.kill('SIGTERM');
    const r = await proc;
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toMatch(/"event":"stopped"/);
  });
});
