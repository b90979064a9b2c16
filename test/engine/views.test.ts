// `molecule list` and `molecule current` answer from the summaries advance keeps (engine/views.ts),
// and a molecule waiting at a pending checkpoint is one advance skips while nothing changed. A
// changed file is always read again: the answers after a change are those of a full judgement.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookAtMolecules } from '../../src/engine/views.js';
import { gitIn, JGIL, makeRepo } from '../helpers/repo.js';
import { inProcess } from './cli.js';
import { POLECAT, paAtReview } from './polecats.js';

const { gtJson, gtOk } = inProcess;

interface AdvanceJson {
  transitions: unknown[];
  unchanged?: { stamp: number; key: number };
}

/** How each molecule was looked at: from its summary, or read and judged. */
async function ways(looks: ReturnType<typeof lookAtMolecules>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const l of looks) out[l.id] = l.view ? 'summary' : 'read';
  return out;
}

describe('list and current from summaries', () => {
  let repo: Awaited<ReturnType<typeof makeRepo>>;
  beforeAll(async () => {
    repo = await makeRepo();
    const cwd = repo.path;
    // pa waits at its review checkpoint (written here; committed below, which starts its clock).
    await paAtReview(cwd);
    await gitIn(cwd, 'add', '-A');
    await gitIn(cwd, 'commit', '-q', '-m', 'pa done');
  });
  afterAll(() => repo.cleanup());

  it('a molecule waiting at a pending checkpoint is skipped by a no-op advance like a quiet one', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['advance']);
    const again = await gtJson<AdvanceJson>(cwd, ['advance']);
    expect(again.transitions).toEqual([]);
    const u = again.unchanged ?? { stamp: 0, key: 0 };
    expect(u.stamp + u.key).toBe(2);
  });

  it('answers from the summaries once judged, with the words of a full judgement', async () => {
    const cwd = repo.path;
    const now = new Date();
    const listRead = await gtJson(cwd, ['molecule', 'list']);
    const currentRead = await gtJson(cwd, ['molecule', 'current', '--for', 'polecat-1']);
    expect(await ways(lookAtMolecules(cwd, now))).toEqual({ pa: 'summary', pb: 'summary' });
    expect(await gtJson(cwd, ['molecule', 'list'])).toEqual(listRead);
    expect(await gtJson(cwd, ['molecule', 'current', '--for', 'polecat-1'])).toEqual(currentRead);
    expect(currentRead).toEqual([
      {
        molecule: 'pb',
        step: 'implement',
        title: 'Implement pb-issue',
        state: 'ready',
        attempt: 1,
        assignee: 'polecat-1',
        description: expect.stringMatching(/^Read the issue and its acceptance criteria/),
      },
    ]);
  });

  it('reads a molecule again once a file of it changed, and shows what changed', async () => {
    const cwd = repo.path;
    // An edit in place changes neither the folder's names nor its stat: the content key sees it.
    const request = join(cwd, '.beads/molecules/pa/checkpoints/review.md');
    const pending = readFileSync(request, 'utf8');
    writeFileSync(request, pending.replace(/^decision: pending/m, 'decision: rejected'));
    expect(await ways(lookAtMolecules(cwd, new Date()))).toEqual({ pa: 'read', pb: 'summary' });
    writeFileSync(request, pending);
    await gtOk(cwd, ['checkpoint', 'approve', 'pa', 'review'], JGIL);
    expect(await ways(lookAtMolecules(cwd, new Date()))).toEqual({ pa: 'read', pb: 'summary' });
    await gtOk(cwd, ['advance']);
    const list = await gtJson<{ id: string; progress: { done: number } }[]>(cwd, ['molecule', 'list']);
    expect(list.find((m) => m.id === 'pa')?.progress.done).toBe(3);
    const current = await gtJson<{ molecule: string; step: string }[]>(cwd, ['molecule', 'current']);
    expect(current.map((c) => `${c.molecule}/${c.step}`)).toEqual(['pa/merge', 'pb/implement']);
  });

  // A cold reader over 10,000 molecules held every judged molecule's files until the last one
  // was read (~400 MiB): each is read when the caller gets to it, and let go after.
  it('reads molecules one at a time, when the caller gets to each', async () => {
    const cwd = repo.path;
    rmSync(join(cwd, '.beads/.cache'), { recursive: true, force: true });
    const looks = lookAtMolecules(cwd, new Date());
    const next = async () => {
      const r = looks.next();
      return r.done ? undefined : await r.value;
    };
    expect((await next())?.id).toBe('pa');
    // pb changes after pa was handed over: a reader that read both first would miss it.
    await gtOk(cwd, ['step', 'done', 'pb', 'implement'], POLECAT);
    const pb = (await next())?.judged;
    expect(pb?.state.stepById.get('implement')?.status).toBe('done');
    expect(looks.next().done).toBe(true);
  });
});
