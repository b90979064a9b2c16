// The agent's read commands (`molecule list`, `molecule current`, `prime`) and a no-op `advance`
// answer from the summaries by stamp: one stat per watched path, also for a molecule waiting at a
// checkpoint (its key covers its whole folder). Whatever changed since (a file edited in place, a
// forged fact, a deleted file) must be read again: each answer after a change is the one a run
// with no cache at all gives. GASTOWN_STAMP_WINDOW_MS=0 lets stamps be recorded at once.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseFrozenFormula } from '../../src/engine/fold.js';
import { formulaHash } from '../../src/formula/hash.js';
import { newWatched, settledWatchStamp, watchStat } from '../../src/store/cache.js';
import { commitAll, gitIn, makeRepo, scratchCopies, tempDir } from '../helpers/repo.js';
import { inProcess } from './cli.js';
import { CONFIG, POLECAT, paAtReview } from './polecats.js';

const NOW_ENV = { GASTOWN_STAMP_WINDOW_MS: '0' };
// The CLI runs in this process (test/cli/inproc.test.ts holds it to the built one's output).
const { gt, gtJson, gtOk } = inProcess;
const READS = [
  ['molecule', 'list'],
  ['molecule', 'current', '--for', 'polecat-1'],
  ['prime', '--for', 'polecat-1'],
  ['molecule', 'status', 'pa'],
  ['molecule', 'status', 'pb'],
];

interface AdvanceJson {
  transitions: { molecule: string; step?: string; kind: string }[];
  unchanged?: { stamp: number; key: number };
}
interface Summaries {
  molecules: Record<string, { key: string; stamp?: string; watch?: string[]; events?: true }>;
}

describe('readers and a no-op advance from stamps', () => {
  let base: Awaited<ReturnType<typeof makeRepo>>;
  let copies: ReturnType<typeof scratchCopies>;
  let cwd: string;
  const pa = (rel: string) => join(cwd, '.beads/molecules/pa', rel);
  const summaries = (dir = cwd) =>
    JSON.parse(readFileSync(join(dir, '.beads/.cache/summaries.json'), 'utf8')) as Summaries;
  // One clock for every reader: status says how long is left until the review's deadline.
  let clock: Record<string, string>;
  /** What every reader says, from the summaries, one command at a time as in-process runs must be. */
  const warm = async () => {
    const answers: unknown[] = [];
    for (const args of READS) answers.push(await gtJson(cwd, args, { ...NOW_ENV, ...clock }));
    return answers;
  };
  /** What every reader says with no cache at all, in a copy of the repository: the reference. */
  const cold = async () => {
    const copy = copies.cacheless(cwd);
    const answers: unknown[] = [];
    for (const args of READS) answers.push(await inProcess.gtJson(copy, args, { ...NOW_ENV, ...clock }));
    return answers;
  };
  /** Advance, then readers, until every summary is recorded with its stamp. */
  const settle = async () => {
    for (let round = 0; round < 2; round++) {
      await inProcess.gtOk(cwd, ['advance'], NOW_ENV);
      for (const args of READS) await inProcess.gtJson(cwd, args, { ...NOW_ENV, ...clock });
    }
  };

  beforeAll(async () => {
    base = await makeRepo();
    copies = scratchCopies();
    const dir = base.path;
    // pa waits at its review checkpoint (written here; committed below, which starts its clock).
    await paAtReview(dir);
    const now = new Date().toISOString();
    await commitAll(dir, 'pa done', { GIT_AUTHOR_DATE: now, GIT_COMMITTER_DATE: now });
    clock = { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: new Date(Date.now() + 60_000).toISOString() };
  });
  afterAll(() => {
    base.cleanup();
    copies.cleanup();
  });
  // Each test starts from its own copy of the repository, summaries recorded and stamped.
  beforeEach(async () => {
    cwd = copies.copy(base.path);
    await settle();
  });

  it('a molecule waiting at its review is skipped by its stamp, as a quiet one is', async () => {
    expect(summaries().molecules.pa?.watch).toEqual(expect.arrayContaining(['', 'events', 'checkpoints']));
    const again = await gtJson<AdvanceJson>(cwd, ['advance'], NOW_ENV);
    expect(again.transitions).toEqual([]);
    expect(again.unchanged).toEqual({ stamp: 2, key: 0 });
    // The same through the engine (any other argv takes the full path).
    const full = await gtJson<AdvanceJson>(cwd, ['advance', '--lock-wait', '100'], NOW_ENV);
    expect(full.unchanged).toEqual({ stamp: 2, key: 0 });
    // The readers answer from the same stamps, with what a run with no cache says.
    expect(await warm()).toEqual(await cold());
    // current folds nothing (a step's description is its formula's, vars filled in); prime folds
    // the molecule whose step is on the hook, for its instructions, once: that view is kept while
    // nothing it was judged from changed.
    const folds = async (args: string[]) =>
      String((await gt(cwd, args, { ...NOW_ENV, GASTOWN_TRACE: 'folds' })).stderr).match(/trace folds \S+/g);
    expect(await folds(['molecule', 'current', '--for', 'polecat-1'])).toBeNull();
    expect(await folds(['prime', '--for', 'polecat-1'])).toBeNull();
    rmSync(join(cwd, '.beads/.cache/status'), { recursive: true });
    expect(await folds(['prime', '--for', 'polecat-1'])).toEqual(['trace folds pb']);
    expect(await folds(['prime', '--for', 'polecat-1'])).toBeNull();
  });

  it('an approval hand-edited in place is read again', async () => {
    const before = await warm();
    const request = pa('checkpoints/review.md');
    const text = readFileSync(request, 'utf8');
    // In place: the same inode, its folder's stat untouched; only the file's own ctime moves.
    writeFileSync(request, text.replace(/^decision: pending/m, 'decision: rejected'));
    const after = await warm();
    expect(after).toEqual(await cold());
    expect(after).not.toEqual(before);
  });

  it('a forged fact and a deleted file are read again', async () => {
    const before = await warm();
    writeFileSync(pa('events/review.1.done.toml'), 'step = "review"\nattempt = 1\nkind = "done"\n');
    const forged = await warm();
    expect(forged).toEqual(await cold());
    expect(forged).not.toEqual(before);
    rmSync(pa('events/review.1.done.toml'));
    rmSync(pa('checkpoints/review.md'));
    expect(await warm()).toEqual(await cold());
  });

  it('a step started by hand shows on the desk and in current as a run with no cache shows it', async () => {
    const before = await warm();
    await gtOk(cwd, ['step', 'start', 'pb', 'implement'], POLECAT);
    const after = await warm();
    expect(after).toEqual(await cold());
    expect(after).not.toEqual(before);
  });

  it('status shows its kept answer while nothing changed, and judges again after any change', async () => {
    const folds = async (id: string, env: Record<string, string> = {}) =>
      String(
        (await gt(cwd, ['molecule', 'status', id], { ...NOW_ENV, ...env, GASTOWN_TRACE: 'folds' })).stderr,
      ).match(/trace folds \S+/g);
    expect(await folds('pa')).toBeNull();
    expect(await folds('pb')).toBeNull();
    // The time left to the review's deadline is said as of the run, as a full judgement says it.
    const later = { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: new Date(Date.now() + 3600_000).toISOString() };
    const due = async (dir: string) =>
      (
        await gtJson<{ steps: { id: string; notes?: string[] }[] }>(dir, ['molecule', 'status', 'pa'], {
          ...NOW_ENV,
          ...later,
        })
      ).steps.find((s) => s.id === 'review')?.notes;
    const copy = copies.cacheless(cwd);
    expect(await due(cwd)).toEqual(await due(copy));
    // A fact edited in place (its folder unchanged; list and advance key facts by name, docs/state.md):
    // status reads every file, and sees it.
    const before = await warm();
    const fact = pa('events/implement.1.done.toml');
    writeFileSync(fact, readFileSync(fact, 'utf8').replace('kind = "done"', 'kind = "failed"'));
    const after = await warm();
    expect(after.slice(3)).toEqual((await cold()).slice(3));
    expect(after[3]).toMatchObject({ state: 'invalid' });
    expect(before[3]).toMatchObject({ state: 'active' });
    // A commit moves HEAD: who committed what may read otherwise, so it is judged again.
    await gitIn(cwd, 'commit', '-q', '--allow-empty', '-m', 'later');
    expect(await folds('pb')).toEqual(['trace folds pb']);
    expect(await folds('pb')).toBeNull();
  });

  it("prime shows a comment left on the hook's step, and an edit of it, though its view was kept", async () => {
    const prime = async () => (await warm())[2] as { hook?: { comments: { text: string }[] } };
    expect((await prime()).hook?.comments).toEqual([]);
    const pb = (rel: string) => join(cwd, '.beads/molecules/pb', rel);
    mkdirSync(pb('feedback/implement'), { recursive: true });
    const comment = pb('feedback/implement/01JCOMMENT.comment.md');
    writeFileSync(comment, '---\nby: "@jgil"\n---\nMind the tests.\n');
    expect(await warm()).toEqual(await cold());
    expect((await prime()).hook?.comments.map((c) => c.text)).toEqual([
      expect.stringContaining('Mind the tests.'),
    ]);
    // In place: only the file's own ctime moves.
    writeFileSync(comment, '---\nby: "@jgil"\n---\nMind the docs.\n');
    expect(await warm()).toEqual(await cold());
    expect((await prime()).hook?.comments.map((c) => c.text)).toEqual([
      expect.stringContaining('Mind the docs.'),
    ]);
  });

  it("current shows a step's description as its frozen formula now says, though it was kept", async () => {
    const description = async (dir: string) =>
      (
        await gtJson<{ molecule: string; step: string; description: string }[]>(
          dir,
          ['molecule', 'current', '--for', 'polecat-1'],
          NOW_ENV,
        )
      ).find((s) => s.molecule === 'pb')?.description;
    expect(await description(cwd)).toMatch(/^Read the issue/);
    // Rewritten in place with its hash, so fold accepts it: pb's summary still holds by its stamp
    // (a frozen file is keyed by name), and only the formula's own ctime moves.
    const pb = (rel: string) => join(cwd, '.beads/molecules/pb', rel);
    const text = readFileSync(pb('formula.resolved.toml'), 'utf8').replace(
      'Read the issue and its acceptance criteria',
      'Read the amended issue',
    );
    writeFileSync(pb('formula.resolved.toml'), text);
    const meta = readFileSync(pb('molecule.toml'), 'utf8');
    const hash = formulaHash(parseFrozenFormula(text, 'formula.resolved.toml'));
    writeFileSync(pb('molecule.toml'), meta.replace(/^formula_hash = ".*"$/m, `formula_hash = "${hash}"`));
    expect(await description(cwd)).toMatch(/^Read the amended issue/);
    expect(await warm()).toEqual(await cold());
  });

  it('the review deadline passing is a reason to plan again, though nothing changed on disk', async () => {
    const later = new Date(Date.now() + 5 * 3600_000).toISOString();
    const due = await gtJson<AdvanceJson & { written: string[] }>(cwd, ['advance'], {
      ...NOW_ENV,
      GASTOWN_TEST_CLOCK: '1',
      GASTOWN_NOW: later,
    });
    expect(due.written).toContain('.beads/molecules/pa/events/review.1.timed-out.toml');
  });
});

describe('kept views before the first commit', () => {
  it("prime keeps the hook's view in a repository with no commit yet, and judges again after one", async () => {
    const dir = tempDir();
    try {
      await gitIn(dir.path, 'init', '-q', '-b', 'main');
      await gtOk(dir.path, ['init']);
      writeFileSync(join(dir.path, '.beads/config.toml'), CONFIG);
      await gtOk(dir.path, [
        'molecule',
        'create',
        '--formula',
        'polecat-work',
        '--name',
        'pa',
        '--var',
        'issue=x',
        '--var',
        'polecat=polecat-1',
      ]);
      const folds = async () =>
        String(
          (await gt(dir.path, ['prime', '--for', 'polecat-1'], { ...NOW_ENV, GASTOWN_TRACE: 'folds' }))
            .stderr,
        ).match(/trace folds \S+/g);
      // Judged in full from no summary, then from its summary with the hook's view judged and kept.
      expect(await folds()).toEqual(['trace folds pa']);
      expect(await folds()).toEqual(['trace folds pa']);
      expect(await folds()).toBeNull();
      const before = await gtJson(dir.path, ['prime', '--for', 'polecat-1'], NOW_ENV);
      // The first commit moves HEAD: what git says about the molecule may differ now.
      await gitIn(dir.path, 'add', '-A');
      await gitIn(dir.path, 'commit', '-q', '-m', 'pour');
      expect(await folds()).toEqual(['trace folds pa']);
      expect(await gtJson(dir.path, ['prime', '--for', 'polecat-1'], NOW_ENV)).toEqual(before);
    } finally {
      dir.cleanup();
    }
  });
});

describe('whole-folder stamps', () => {
  const watched = (ctimes: number[]) => {
    const w = newWatched();
    for (const [i, ms] of ctimes.entries()) watchStat(w, String(i), { dev: 1, ino: i, ctimeMs: ms });
    return w;
  };
  it('are recorded only when every watched path last changed a window before the run', () => {
    const run = 1_800_000_000_000;
    expect(settledWatchStamp(watched([run - 9000, run - 5000]), undefined, run)).toMatch(/^[0-9a-f]{16}$/);
    // One file written within the window: a second write in the same clock tick would leave its ctime.
    expect(settledWatchStamp(watched([run - 9000, run - 1999]), undefined, run)).toBeUndefined();
    expect(settledWatchStamp(watched([run - 9000, run - 1]), undefined, run, 0)).toBeDefined();
    // Whether the `after` molecule had completed is part of it.
    const w = watched([run - 9000]);
    expect(settledWatchStamp(w, true, run)).not.toBe(settledWatchStamp(w, false, run));
  });
  it('are the digest summaries.json files already hold: a faster digest re-keys nothing', () => {
    const w = newWatched();
    watchStat(w, '', { dev: 2049, ino: 5_000_001, ctimeMs: 1_790_000_000_123.25 });
    watchStat(w, 'events', { dev: 2049, ino: 2 ** 40 + 3, ctimeMs: 1_790_000_000_999 });
    expect(settledWatchStamp(w, undefined, 1_800_000_000_000)).toBe('024181d5fcf1022d');
    expect(settledWatchStamp(w, true, 1_800_000_000_000)).toBe('cec343edcac3afb1');
  });
  it('change with any field of any watched stat, and with their order', () => {
    const stats = [
      { dev: 2049, ino: 5_000_001, ctimeMs: 1_790_000_000_123.25 },
      { dev: 2049, ino: 5_000_002, ctimeMs: 1_790_000_000_123.5 },
      { dev: 2049, ino: 2 ** 40 + 3, ctimeMs: 1_790_000_000_999 },
    ];
    const stampOf = (list: typeof stats) => {
      const w = newWatched();
      for (const [i, st] of list.entries()) watchStat(w, String(i), st);
      return settledWatchStamp(w, undefined, 1_800_000_000_000);
    };
    const seen = new Set([stampOf(stats)]);
    expect(stampOf(stats.map((st) => ({ ...st })))).toBe(stampOf(stats));
    for (const [i, st] of stats.entries())
      for (const changed of [
        { ...st, dev: st.dev + 1 },
        { ...st, ino: st.ino + 1 },
        { ...st, ctimeMs: st.ctimeMs + 0.125 },
      ]) {
        const stamp = stampOf(stats.map((x, j) => (j === i ? changed : x)));
        expect(seen.has(stamp)).toBe(false);
        seen.add(stamp);
      }
    expect(seen.has(stampOf([stats[1], stats[0], stats[2]] as typeof stats))).toBe(false);
    expect(seen.has(stampOf(stats.slice(0, 2)))).toBe(false);
  });
});
