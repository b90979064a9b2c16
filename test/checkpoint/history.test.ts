// A run that judges many checkpoints (a cold `advance`, `molecule list`) learns who decided each
// from one walk of the history (src/checkpoint/history.ts), not a git process or two per file,
// and reaches the verdicts the per-file walks reach: a forged author, a squash merged by someone
// else, a commit that also changes who may approve, a reformatted decision line, an edit not
// committed. Real git repositories; the CLI runs in this process, but the built one where its git
// processes are counted.
import { chmodSync, cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configAt, decisionAuthor, firstCommitTime } from '../../src/checkpoint/authors.js';
import {
  addedFromHistory,
  authorFromHistory,
  configAround,
  type History,
  readHistory,
} from '../../src/checkpoint/history.js';
import { blobId } from '../../src/git/blob-id.js';
import { shallowBoundary } from '../../src/git/head.js';
import { gastownInProcess } from '../helpers/inproc.js';
import { commitAll, gastown, gitIn, JGIL, person, tempDir, testEnv } from '../helpers/repo.js';
import { GUARDED_CONFIG, guardedWorkDone } from './guarded.js';

const AGENT = person('Agent', 'agent@example.com');
const MOLECULES = ['m01', 'm02', 'm03', 'm04', 'm05', 'm06', 'm07', 'm08', 'm09', 'm10', 'm11', 'm12'];

/** Twelve molecules whose work is done and committed, each waiting at its review. */
const twelveAtReview = () => guardedWorkDone('checkpoint-history-twelve-at-review', undefined, MOLECULES);

const review = (id: string) => `.beads/molecules/${id}/checkpoints/review.md`;

describe('who decided, from one walk of the history', () => {
  let repo: { path: string; cleanup(): void };
  // Each molecule's verdict from `molecule status` alone (few lookups: the per-file walks).
  const judged = new Map<string, string | undefined>();
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    while (cleanups.length) cleanups.pop()?.();
  });
  const read = (rel: string) => readFileSync(join(repo.path, rel), 'utf8');
  const write = (rel: string, text: string) => writeFileSync(join(repo.path, rel), text);
  const approve = (id: string, line = 'decision: approved') =>
    write(review(id), read(review(id)).replace(/^decision: pending.*$/m, line));

  beforeAll(async () => {
    repo = await twelveAtReview();
    const at = repo.path;
    // m01–m06 approved by jgil, one commit each.
    for (const id of MOLECULES.slice(0, 6)) {
      approve(id);
      await commitAll(at, `approve ${id}`, JGIL);
    }
    // m07: the agent commits an approval as itself.
    approve('m07');
    await commitAll(at, 'approve m07', AGENT);
    // m08: jgil approves on a branch; the agent squash-merges it, so the commit on main is the agent's.
    await gitIn(at, 'checkout', '-q', '-b', 'side');
    approve('m08');
    await commitAll(at, 'approve m08', JGIL);
    await gitIn(at, 'checkout', '-q', 'main');
    await gitIn(at, 'merge', '--squash', '-q', 'side');
    await commitAll(at, 'squash side', AGENT);
    // m09: jgil's approval in a commit that also makes the agent an approver.
    approve('m09');
    write('.beads/config.toml', `${GUARDED_CONFIG}\n[users.agent]\nemails = ["agent@example.com"]\n`);
    await commitAll(at, 'approve m09 and widen approvers', JGIL);
    write('.beads/config.toml', GUARDED_CONFIG);
    await commitAll(at, 'narrow approvers again', JGIL);
    // m10: jgil approves; later the agent rewords the reason only, and flips the file's mode.
    approve('m10');
    await commitAll(at, 'approve m10', JGIL);
    write(review('m10'), read(review('m10')).replace(/^reason: .*$/m, 'reason: "looks fine"'));
    await commitAll(at, 'reword m10', AGENT);
    chmodSync(join(at, review('m10')), 0o755);
    await commitAll(at, 'mode of m10', AGENT);
    // m11: jgil approves; the agent reformats the decision line, which makes it the agent's.
    approve('m11');
    await commitAll(at, 'approve m11', JGIL);
    write(review('m11'), read(review('m11')).replace(/^decision: approved$/m, 'decision:  approved'));
    await commitAll(at, 'reformat m11', AGENT);
    // m12: approved in the working tree, not committed: the local identity (the agent) decided.
    approve('m12');
  }, 240_000);

  /** What a dry-run `advance --json` would record for `id`, and the problems it names there. */
  const verdict = (text: string, id: string) => {
    const r = JSON.parse(text) as {
      transitions: { molecule: string; step?: string; kind: string }[];
      problems: { molecule?: string; message: string }[];
    };
    return [
      ...r.transitions.filter((t) => t.molecule === id).map((t) => `${t.step}.${t.kind}`),
      ...r.problems.filter((p) => p.molecule === id).map((p) => `problem: ${p.message}`),
    ]
      .sort()
      .join('; ');
  };
  const advanceAll = (at: string, env: Record<string, string> = {}) => {
    rmSync(join(at, '.beads/.cache'), { recursive: true, force: true });
    return gastown(['advance', '--dry-run', '--json'], at, env);
  };

  it('a cold run over every molecule reaches the per-molecule verdicts with a handful of git processes', async () => {
    // Each molecule judged alone (few lookups: the per-file walks).
    for (const id of MOLECULES) {
      rmSync(join(repo.path, '.beads/.cache'), { recursive: true, force: true });
      const r = await gastownInProcess(['advance', '--dry-run', '--json', '--molecule', id], repo.path);
      judged.set(id, verdict(String(r.stdout), id));
    }
    const counted = 'review.done; ship.ready';
    expect(Object.fromEntries(judged)).toEqual({
      m01: counted,
      m02: counted,
      m03: counted,
      m04: counted,
      m05: counted,
      m06: counted,
      m07: '', // the agent's own commit
      m08: '', // squash-merged by the agent
      m09: expect.stringMatching(/^problem: commit [0-9a-f]{12} changes who may approve/),
      m10: counted, // the reworded reason and the mode change leave the decision jgil's
      m11: '', // the agent rewrote the decision line
      m12: '', // not committed: the local identity, the agent
    });
    // All at once, cold, with every git process counted.
    const bin = tempDir();
    cleanups.push(bin.cleanup);
    const count = join(bin.path, 'count');
    writeFileSync(count, '');
    const realGit = (await gitIn(repo.path, '--exec-path')).trim();
    writeFileSync(join(bin.path, 'git'), `#!/bin/sh\necho "$1" >> '${count}'\nexec '${realGit}/git' "$@"\n`);
    chmodSync(join(bin.path, 'git'), 0o755);
    const r = await advanceAll(repo.path, { PATH: `${bin.path}:${testEnv().PATH}` });
    expect(r.exitCode).toBe(1); // m09's problem
    for (const id of MOLECULES) expect([id, verdict(String(r.stdout), id)]).toEqual([id, judged.get(id)]);
    const spawned = readFileSync(count, 'utf8').split('\n').filter(Boolean).length;
    // Per file it was two or three for each checkpoint (36 here); with the walk, a few per-file
    // lookups before it starts, then one walk and one read of the config's versions.
    expect(spawned).toBeLessThan(2 * MOLECULES.length);
  }, 240_000);

  it('the walk answers each file as its own git log does', async () => {
    const head = (await gitIn(repo.path, 'rev-parse', 'HEAD')).trim();
    const walked = await readHistory(repo.path, head);
    expect(walked).toBeDefined();
    const boundary = shallowBoundary(repo.path);
    const paths = MOLECULES.flatMap((id) =>
      readdirSync(join(repo.path, `.beads/molecules/${id}/checkpoints`)).map(
        (f) => `.beads/molecules/${id}/checkpoints/${f}`,
      ),
    );
    let fromWalk = 0;
    for (const path of paths) {
      const text = read(path);
      const perFile = await decisionAuthor(repo.path, path, text);
      const batched = authorFromHistory(walked?.files.get(path), (n) => blobId(text, n), boundary);
      if (batched) fromWalk++;
      expect([path, batched ?? perFile]).toEqual([path, perFile]);
      for (const authored of [false, true])
        expect([path, authored, addedFromHistory(walked?.files.get(path), authored)]).toEqual([
          path,
          authored,
          await firstCommitTime(repo.path, path, authored),
        ]);
    }
    // The trust configuration before and at every commit, as `git cat-file` has it.
    const commits = (await gitIn(repo.path, 'rev-list', head)).split('\n').filter(Boolean);
    for (const c of commits)
      expect([c, await configAround(repo.path, walked as History, c)]).toEqual([
        c,
        await configAt(repo.path, [`${c}^`, c]),
      ]);
    // All but the uncommitted edit come from the walk.
    expect(fromWalk).toBe(paths.length - 1);
    expect(await firstCommitTime(repo.path, '.beads/molecules/m99/checkpoints/review.md')).toBeUndefined();
    expect(
      addedFromHistory(walked?.files.get('.beads/molecules/m99/checkpoints/review.md'), false),
    ).toBeUndefined();
  });

  it('with a merge in the history the walk declines and the per-file walks decide', async () => {
    const copy = tempDir();
    cleanups.push(copy.cleanup);
    cpSync(repo.path, copy.path, { recursive: true });
    const at = copy.path;
    const writeAt = (rel: string, text: string) => writeFileSync(join(at, rel), text);
    await gitIn(at, 'checkout', '-q', '-b', 'merged');
    await gitIn(at, 'checkout', '-q', '-b', 'other');
    writeAt('notes.txt', 'other side\n');
    await commitAll(at, 'other side');
    await gitIn(at, 'checkout', '-q', 'merged');
    writeAt('more.txt', 'this side\n');
    await commitAll(at, 'this side');
    await gitIn(at, 'merge', '-q', '--no-ff', '-m', 'merge other', 'other');
    const head = (await gitIn(at, 'rev-parse', 'HEAD')).trim();
    expect(await readHistory(at, head)).toBeUndefined();
    const r = await advanceAll(at);
    for (const id of MOLECULES) expect([id, verdict(String(r.stdout), id)]).toEqual([id, judged.get(id)]);
  });
});
