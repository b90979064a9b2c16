// Patrol and heartbeats through the built CLI: agents reported working, stalled or zombie from
// their heartbeats on the injected clock, and a zombie's claimed step released once, committed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gt, gtJson, gtOk, type Status } from '../engine/cli.js';
import { chunksLoaded, ENGINE_CHUNK } from '../helpers/chunks.js';
import { commitAll, gitIn } from '../helpers/repo.js';
import { convoyRepo } from './helpers.js';

function at(hhmm: string): Record<string, string> {
  const t = `2026-01-06T${hhmm}:00Z`;
  return { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: t, GIT_AUTHOR_DATE: t, GIT_COMMITTER_DATE: t };
}

interface PatrolJson {
  released: { molecule: string; step: string; attempt: number; agent: string }[];
  agents: { agent: string; state: string; claims: { molecule: string; step: string }[] }[];
  commits: string[];
}

describe('patrol and heartbeats', () => {
  let repo: Awaited<ReturnType<typeof convoyRepo>>;
  beforeAll(async () => {
    repo = await convoyRepo('\n[patrol]\nstalled_after = "15m"\nzombie_after = "1h"\n');
  });
  afterAll(() => repo.cleanup());

  it("releases a zombie agent's claimed step once, and the release is in git log", async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['molecule', 'create', '--formula', 'day', '--name', 'd1'], at('09:00'));
    await gtOk(cwd, ['step', 'start', 'd1', 'work', '--as', 'polecat-1'], at('09:00'));
    await commitAll(cwd, 'polecat-1 starts d1/work');
    await gtOk(cwd, ['heartbeat', '--as', 'polecat-1'], at('09:00'));
    // The heartbeat is not part of the project: git sees nothing new.
    expect(await gitIn(cwd, 'status', '--porcelain')).toBe('');
    expect(existsSync(join(cwd, '.beads/.cache/heartbeats/polecat-1.json'))).toBe(true);

    const state = async (hhmm: string) => (await gtJson<PatrolJson>(cwd, ['patrol'], at(hhmm))).agents;
    expect(await state('09:10')).toEqual([
      {
        agent: 'polecat-1',
        state: 'working',
        last_heartbeat: '2026-01-06T09:00:00.000Z',
        claims: [{ molecule: 'd1', step: 'work', attempt: 1 }],
      },
    ]);
    expect((await state('09:30'))[0]?.state).toBe('stalled');

    const dead = await gtJson<PatrolJson>(cwd, ['patrol'], at('10:00'));
    expect(dead.agents[0]?.state).toBe('zombie');
    expect(dead.released).toEqual([{ molecule: 'd1', step: 'work', attempt: 1, agent: 'polecat-1' }]);
    expect(dead.commits).toHaveLength(1);
    const s = await gtJson<Status>(cwd, ['molecule', 'status', 'd1']);
    expect(s.steps.find((x) => x.id === 'work')).toMatchObject({ state: 'ready', attempt: 2 });
    const log = await gitIn(cwd, 'log', '-1', '--format=%B', '--', '.beads/molecules/d1');
    expect(log).toContain('Gastown-Transition: d1/work reopened');
    expect(await gitIn(cwd, 'status', '--porcelain')).toBe('');

    // Once: the next patrol finds no claim of polecat-1 and releases nothing.
    const later = await gtJson<PatrolJson>(cwd, ['patrol'], at('12:00'));
    expect(later.released).toEqual([]);
    expect(later.agents).toEqual([
      expect.objectContaining({ agent: 'polecat-1', state: 'zombie', claims: [] }),
    ]);
    const reopened = await gitIn(
      cwd,
      'log',
      '--format=%s',
      '--',
      '.beads/molecules/d1/events/work.2.reopened.toml',
    );
    expect(reopened.trim()).not.toBe('');
    expect(reopened.trim().split('\n')).toHaveLength(1);
  });

  it('with nothing due it loads no engine, and a step started since is a claim at once', async () => {
    const other = await convoyRepo();
    try {
      const cwd = other.path;
      // Stamps recorded at once, so the second run is the warm one.
      const env = { ...at('09:00'), GASTOWN_STAMP_WINDOW_MS: '0' };
      await gtOk(cwd, ['molecule', 'create', '--formula', 'day', '--name', 'd1'], env);
      await commitAll(cwd, 'd1');
      for (let i = 0; i < 2; i++) await gtOk(cwd, ['patrol', '--no-commit'], env);
      const quiet = await gt(cwd, ['patrol', '--no-commit'], { ...env, NODE_DEBUG: 'module' });
      expect([quiet.exitCode, String(quiet.stdout)]).toEqual([0, 'nothing to do']);
      expect(chunksLoaded(String(quiet.stderr)).filter((f) => ENGINE_CHUNK.test(f))).toEqual([]);

      await gtOk(cwd, ['step', 'start', 'd1', 'work', '--as', 'polecat-1'], env);
      const r = await gtJson<PatrolJson>(cwd, ['patrol', '--no-commit'], env);
      expect(r.agents).toEqual([
        expect.objectContaining({
          agent: 'polecat-1',
          claims: [{ molecule: 'd1', step: 'work', attempt: 1 }],
        }),
      ]);
    } finally {
      other.cleanup();
    }
  });
});
