// Stamps (a folder's device, inode and ctime) let advance skip recomputing a content key, and let
// a plain `advance` answer "nothing to do" without loading the engine. Whatever changes a
// folder after its stamp was taken must still be seen; a held lock, a config edit or a merge in
// progress must still take the full path. GASTOWN_STAMP_WINDOW_MS=0 lets a stamp be recorded for
// a folder that changed a moment ago (the default waits two seconds, see stampIsSettled).
import { type ChildProcess, spawn } from 'node:child_process';
import type { Stats } from 'node:fs';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stampIsSettled } from '../../src/store/cache.js';
import { gitIn } from '../helpers/repo.js';
import { gt, gtJson, gtOk, repoWithFormulas } from './cli.js';

const NOW_ENV = { GASTOWN_STAMP_WINDOW_MS: '0' };

interface AdvanceJson {
  transitions: { molecule: string; step?: string; kind: string }[];
  written: string[];
  problems: { message: string }[];
  unchanged?: { stamp: number; key: number };
}

const advanceJson = (cwd: string, args: string[] = []) =>
  gtJson<AdvanceJson>(cwd, ['advance', ...args], NOW_ENV);
const fact = (s: string, kind: string) => `step = "${s}"\nattempt = 1\nkind = "${kind}"\n`;

describe('stamps', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  const summaries = () => readFileSync(join(repo.path, '.beads/.cache/summaries.json'), 'utf8');
  beforeAll(async () => {
    repo = await repoWithFormulas('beads/quick-check');
    for (const name of ['qa', 'qb', 'qc'])
      await gtOk(repo.path, ['molecule', 'create', '--formula', 'quick-check', '--name', name]);
  });
  afterAll(() => repo.cleanup());

  it('a run that checks keys records them; the next plain advance answers from them, in the same words as the full path', async () => {
    const cwd = repo.path;
    rmSync(join(cwd, '.beads/.cache'), { recursive: true, force: true });
    // Cold: every molecule read. Then every key checked by a listing, and stamps recorded.
    expect(await advanceJson(cwd)).toMatchObject({ transitions: [], unchanged: { stamp: 0, key: 0 } });
    expect(await advanceJson(cwd)).toMatchObject({ transitions: [], unchanged: { stamp: 0, key: 3 } });
    const before = summaries();
    const quiet = await gt(cwd, ['advance', '--json'], NOW_ENV);
    expect(JSON.parse(String(quiet.stdout))).toEqual({
      dry_run: false,
      transitions: [],
      written: [],
      problems: [],
      unchanged: { stamp: 3, key: 0 },
    });
    // The same question through commander and the engine (any other argv takes that path).
    const full = await gt(cwd, ['advance', '--json', '--lock-wait', '100'], NOW_ENV);
    expect(String(full.stdout)).toBe(String(quiet.stdout));
    const words = await gt(cwd, ['advance'], NOW_ENV);
    expect(words.stdout).toBe('nothing to do');
    expect((await gt(cwd, ['advance', '--lock-wait', '100'], NOW_ENV)).stdout).toBe(words.stdout);
    expect(summaries()).toBe(before);
  });

  it('a fact written after the stamp was taken is seen, by the quiet check and the full path alike', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['advance'], NOW_ENV);
    for (const s of ['lint', 'test', 'build'])
      writeFileSync(join(cwd, `.beads/molecules/qb/events/${s}.1.done.toml`), fact(s, 'done'));
    const moved = await advanceJson(cwd);
    expect(moved.written).toEqual(['.beads/molecules/qb/events/report.1.ready.toml']);
    expect(moved.unchanged).toEqual({ stamp: 2, key: 0 });
    // Removing a fact (as a checkout of an older commit would) is a change too.
    rmSync(join(cwd, '.beads/molecules/qb/events/report.1.ready.toml'));
    const again = await advanceJson(cwd, ['--lock-wait', '100']);
    expect(again.written).toEqual(['.beads/molecules/qb/events/report.1.ready.toml']);
    // The stamp taken before that write no longer matches: one listing, then a new stamp.
    expect((await advanceJson(cwd)).unchanged).toEqual({ stamp: 2, key: 1 });
    expect((await advanceJson(cwd)).unchanged).toEqual({ stamp: 3, key: 0 });
  });

  it('a config edit or a merge in progress makes every key count again', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['advance'], NOW_ENV);
    const config = join(cwd, '.beads/config.toml');
    writeFileSync(config, '[engine]\n');
    expect((await advanceJson(cwd)).unchanged).toEqual({ stamp: 0, key: 0 });
    expect((await advanceJson(cwd)).unchanged).toEqual({ stamp: 3, key: 0 });
    rmSync(config);
    expect((await advanceJson(cwd)).unchanged).toEqual({ stamp: 0, key: 0 });

    const head = (await gitIn(cwd, 'rev-parse', 'HEAD')).trim();
    writeFileSync(join(cwd, '.git/MERGE_HEAD'), `${head}\n`);
    try {
      // Mid-merge, files can change under the same names: nothing is skipped.
      const merging = await advanceJson(cwd);
      expect(merging.unchanged).toEqual({ stamp: 0, key: 0 });
      expect(merging.problems).toEqual([]);
    } finally {
      rmSync(join(cwd, '.git/MERGE_HEAD'));
    }
  });

  describe('a live lock holder', () => {
    let holder: ChildProcess | undefined;
    afterEach(() => {
      holder?.kill('SIGKILL');
    });

    it('makes a plain advance wait for it (and exit 3), not answer from the stamps', async () => {
      const cwd = repo.path;
      await gtOk(cwd, ['advance'], NOW_ENV);
      expect((await advanceJson(cwd)).unchanged).toEqual({ stamp: 3, key: 0 });
      const script = `require('fs').writeFileSync(process.argv[1],JSON.stringify({pid:process.pid,host:require('os').hostname(),started:new Date().toISOString()}));process.stdout.write('held\\n');process.stdin.resume();`;
      holder = spawn(process.execPath, ['-e', script, join(cwd, '.beads/.cache/lock')], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => holder?.stdout?.once('data', () => resolve()));
      const busy = await gt(cwd, ['advance'], { ...NOW_ENV, GASTOWN_LOCK_WAIT_MS: '100' });
      expect(busy.exitCode).toBe(3);
      expect(busy.stderr).toContain(`pid ${holder.pid}`);
    });
  });
});

describe('stampIsSettled', () => {
  const at = (ctimeMs: number) => ({ ctimeMs }) as Stats;
  it('trusts a folder only once its last change is a window older than the run', () => {
    const run = 1_800_000_000_000;
    expect(stampIsSettled(at(run - 5000), run)).toBe(true);
    expect(stampIsSettled(at(run - 2000), run)).toBe(true);
    // Changed within the window: another change in the same clock tick would leave ctime as is.
    expect(stampIsSettled(at(run - 1999), run)).toBe(false);
    expect(stampIsSettled(at(run + 10), run)).toBe(false);
    expect(stampIsSettled(at(run - 1), run, 0)).toBe(true);
  });
});
