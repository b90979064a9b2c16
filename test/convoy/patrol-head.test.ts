// Patrol's head (src/patrol/head.ts): a patrol with nothing due and nothing changed answers from
// the stats it kept, with the full path's answer; anything changed since (a fact, an approval
// written in place, a convoy file, the head itself) or a due time reached goes the full path.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inProcess } from '../engine/cli.js';
import { commitAll, JGIL } from '../helpers/repo.js';
import { convoyRepo } from './helpers.js';

const { gt, gtOk } = inProcess;

const AT = (hhmm: string) => {
  const t = `2026-01-06T${hhmm}:00Z`;
  return {
    GASTOWN_TEST_CLOCK: '1',
    GASTOWN_NOW: t,
    GIT_AUTHOR_DATE: t,
    GIT_COMMITTER_DATE: t,
    // Stamps and the head are kept at once (tests change files within one second).
    GASTOWN_STAMP_WINDOW_MS: '0',
    GASTOWN_TRACE: 'patrol',
  };
};
const FROM_HEAD = 'gastown: trace patrol head';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

async function repo() {
  const r = await convoyRepo();
  cleanups.push(r.cleanup);
  return r.path;
}

/** `patrol --json --no-commit`: its answer, and whether the head gave it. */
async function patrol(cwd: string, hhmm: string) {
  const r = await gt(cwd, ['patrol', '--json', '--no-commit'], AT(hhmm));
  return { code: r.exitCode, json: JSON.parse(r.stdout), fromHead: r.stderr.includes(FROM_HEAD) };
}

/** Patrols until one answers from the head (the first runs settle the summaries, then keep it). */
async function untilFromHead(cwd: string, hhmm: string) {
  const runs = [];
  for (let i = 0; i < 6; i++) {
    const r = await patrol(cwd, hhmm);
    runs.push(r);
    if (r.fromHead) return runs;
  }
  throw new Error(`patrol never answered from its head: ${JSON.stringify(runs)}`);
}

describe("patrol's head", () => {
  it('answers a quiet patrol with what the full path answered', async () => {
    const cwd = await repo();
    await gtOk(cwd, ['molecule', 'create', '--formula', 'day', '--name', 'd1'], AT('09:00'));
    await gtOk(cwd, ['step', 'start', 'd1', 'work', '--as', 'polecat-1'], AT('09:00'));
    await commitAll(cwd, 'd1 started');
    const runs = await untilFromHead(cwd, '09:05');
    const full = runs[runs.length - 2];
    const head = runs[runs.length - 1];
    expect(full?.fromHead).toBe(false);
    expect(head?.json).toEqual(full?.json);
    // The claim comes from the head: polecat-1 (never heard from) holds d1/work.
    expect(head?.json.agents).toEqual([
      { agent: 'polecat-1', state: 'unknown', claims: [{ molecule: 'd1', step: 'work', attempt: 1 }] },
    ]);
  });

  /** A repository whose d1 waits at its sign-off (asked at 09:00), patrol answering from its head. */
  const atSignoff = async () => {
    const cwd = await repo();
    await gtOk(cwd, ['molecule', 'create', '--formula', 'day', '--name', 'd1'], AT('09:00'));
    await gtOk(cwd, ['step', 'done', 'd1', 'work'], AT('09:00'));
    await gtOk(cwd, ['advance', '--commit'], AT('09:00'));
    await commitAll(cwd, 'd1 at its sign-off');
    await untilFromHead(cwd, '09:10');
    return cwd;
  };

  it('acts on a checkpoint timeout that came due since, though nothing changed', async () => {
    const cwd = await atSignoff();
    // The sign-off approves itself an hour after it was asked (09:00).
    const due = await patrol(cwd, '10:30');
    expect(due.fromHead).toBe(false);
    expect(due.json.transitions).toEqual(
      expect.arrayContaining([expect.objectContaining({ molecule: 'd1', step: 'signoff' })]),
    );
  });

  it('sees an approval written in place into a checkpoint file', async () => {
    const cwd = await atSignoff();
    const file = join(cwd, '.beads/molecules/d1/checkpoints/signoff.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^decision: pending.*$/m, 'decision: approved'));
    // Not committed yet, so it does not count, but the head no longer vouches for the folder.
    expect((await patrol(cwd, '09:12')).fromHead).toBe(false);
    await commitAll(cwd, 'jgil approves d1', { ...JGIL, ...AT('09:15') });
    const r = await patrol(cwd, '09:20');
    expect(r.fromHead).toBe(false);
    expect(r.json.transitions).toEqual(
      expect.arrayContaining([expect.objectContaining({ molecule: 'd1', step: 'signoff' })]),
    );
  });

  it('sees a fact added, a convoy file edited in place and a damaged head', async () => {
    const cwd = await repo();
    await gtOk(cwd, ['convoy', 'create', 'c', '--name', 'C', '--owner', '@jgil'], AT('09:00'));
    await gtOk(cwd, ['molecule', 'create', '--formula', 'day', '--name', 'd1', '--convoy', 'c'], AT('09:00'));
    await commitAll(cwd, 'd1 in convoy c');
    await untilFromHead(cwd, '09:05');

    // A step started since: a claim, which only the full path's scan finds.
    await gtOk(cwd, ['step', 'start', 'd1', 'work', '--as', 'polecat-1'], AT('09:06'));
    await gtOk(cwd, ['heartbeat', '--as', 'polecat-1'], AT('09:06'));
    const started = await patrol(cwd, '09:07');
    expect(started.fromHead).toBe(false);
    expect(started.json.agents).toEqual([
      expect.objectContaining({ agent: 'polecat-1', claims: [{ molecule: 'd1', step: 'work', attempt: 1 }] }),
    ]);
    const again = await untilFromHead(cwd, '09:08');
    expect(again[again.length - 1]?.json.agents).toEqual(started.json.agents);

    // convoy.toml rewritten in place (same inode) into something unreadable: a problem.
    const convoy = join(cwd, '.beads/convoys/c/convoy.toml');
    const text = readFileSync(convoy, 'utf8');
    writeFileSync(convoy, 'id = \n');
    const broken = await patrol(cwd, '09:09');
    expect(broken.fromHead).toBe(false);
    expect(broken.code).toBe(1);
    expect(JSON.stringify(broken.json.problems)).toContain('convoy.toml');
    writeFileSync(convoy, text);
    await untilFromHead(cwd, '09:10');

    // The head's kept stats altered: it vouches for nothing.
    const headFile = join(cwd, '.beads/.cache/patrol-head');
    const bytes = readFileSync(headFile);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    writeFileSync(headFile, bytes);
    const damaged = await patrol(cwd, '09:11');
    expect(damaged.fromHead).toBe(false);
    expect(damaged.json.agents).toEqual(started.json.agents);
  });
});
