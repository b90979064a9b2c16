// `gastown watch` where the kernel's inotify watch limit is lower than `.beads/` needs. The limit
// is lowered for real in a user namespace of its own (`unshare -Ur`, then
// /proc/sys/user/max_inotify_watches), so only the process under test feels it. On Linux the
// watch takes one inotify watch per folder (the change journal's), chokidar one per file too.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncJournal } from '../../src/store/journal.js';
import { gtOk } from '../engine/cli.js';
import { paAtReview } from '../engine/polecats.js';
import { CLI, JGIL, makeRepo, testEnv } from '../helpers/repo.js';

/** `gastown watch ...args` in `cwd` with at most `limit` inotify watches for its user. */
function watchUnder(limit: number, cwd: string, args: string[], env: Record<string, string> = {}) {
  const script = 'echo "$1" > /proc/sys/user/max_inotify_watches && shift && exec "$@"';
  return execa(
    'unshare',
    ['-Ur', 'sh', '-c', script, 'sh', String(limit), process.execPath, CLI, 'watch', '--json', ...args],
    {
      cwd,
      env: testEnv({ GASTOWN_STAMP_WINDOW_MS: '0', ...env }),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    },
  );
}

/** The folders and the files under `dir` (itself counted as a folder), its cache left out. */
function count(dir: string): { folders: number; files: number } {
  const n = { folders: 1, files: 0 };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === '.cache') continue;
    if (!e.isDirectory()) n.files++;
    else {
      const sub = count(join(dir, e.name));
      n.folders += sub.folders;
      n.files += sub.files;
    }
  }
  return n;
}

/** Every line of `out` that is a JSON object, parsed. */
function events(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : []));
}

describe('gastown watch under the inotify watch limit', () => {
  let repo: Awaited<ReturnType<typeof makeRepo>>;
  let beads: ReturnType<typeof count>;
  beforeAll(async () => {
    repo = await makeRepo();
    await paAtReview(repo.path);
    await gtOk(repo.path, ['advance']);
    beads = count(join(repo.path, '.beads'));
  });
  afterAll(() => repo.cleanup());

  it('fails in one line naming the limit and the ways out when even its folders are too many', async () => {
    const r = await watchUnder(Math.floor(beads.folders / 2), repo.path, ['--debounce', '60000']);
    expect(r.exitCode).toBe(1);
    const stderr = String(r.stderr).trim();
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/inotify watch limit reached \(fs\.inotify\.max_user_watches = \d+\)/);
    expect(stderr).toMatch(/sysctl fs\.inotify\.max_user_watches=N.*gastown watch --poll/);
    expect(String(r.stdout)).not.toMatch(/"event":"ready"/);
    expect(existsSync(join(repo.path, '.beads/.cache/journal.json'))).toBe(false);
  });

  it('runs with --poll under the same limit', async () => {
    const proc = watchUnder(Math.floor(beads.folders / 2), repo.path, ['--poll', '--debounce', '60000']);
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

  it('starts with watches for its folders but not its files, sees an approval in a folder made anew, stops past the limit', async () => {
    // Every folder of .beads/ but the cache, the root, the cache, the journal's cookie folder, and
    // room for the new folder below: far fewer than one per folder and per file.
    const cwd = repo.path;
    const now = count(join(cwd, '.beads'));
    const limit = now.folders + 3 + 2;
    expect(limit).toBeLessThan(now.folders + now.files);
    const proc = watchUnder(limit, cwd, ['--debounce', '50'], JGIL);
    let out = '';
    const waiters = new Set<() => void>();
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const w of [...waiters]) w();
    });
    const closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
    /** Resolves once `pick` finds an event line; rejects if the watch ends first. */
    const line = (pick: (e: Record<string, unknown>) => boolean, what: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (events(out).some(pick)) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
        void closed.then(() => reject(new Error(`watch ended before ${what}:\n${out}\n${proc.stderr}`)));
      });
    try {
      await line((e) => e.event === 'ready', 'it was ready');
      // The checkpoint's folder made anew (as a checkout does), its request written straight in.
      const checkpoints = join(cwd, '.beads/molecules/pa/checkpoints');
      const request = join(checkpoints, 'review.md');
      const text = readFileSync(request, 'utf8');
      rmSync(checkpoints, { recursive: true });
      mkdirSync(checkpoints);
      writeFileSync(request, text);
      // A reader's sync is answered once the journal has handled every earlier event, the new
      // folder's included: from here on an edit in it is seen only through that folder's watch.
      expect(await syncJournal(cwd)).toBeDefined();
      // The reviewer approves the way editors save: a copy written, renamed over the file.
      const approved = line(
        (e) => e.event === 'transition' && e.molecule === 'pa' && e.step === 'review' && e.kind === 'done',
        'the approval',
      );
      writeFileSync(`${request}.swp`, text.replace(/^decision: pending/m, 'decision: approved'));
      renameSync(`${request}.swp`, request);
      await approved;
      // More new folders than the limit leaves room for: it stops, in one line, as at start.
      for (const n of [1, 2, 3, 4, 5]) mkdirSync(join(cwd, `.beads/mail/@x${n}`));
      await closed;
    } finally {
      proc.kill('SIGTERM');
    }
    const r = await proc;
    expect(r.exitCode).toBe(1);
    const stderr = String(r.stderr).trim();
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/cannot watch .*\/\.beads\/mail\/@x\d: inotify watch limit reached/);
    expect(existsSync(join(cwd, '.beads/.cache/journal.json'))).toBe(false);
  });
});
