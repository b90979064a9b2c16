// Every command that shows a checkpoint or a molecule shows the engine's verdict, never a raw
// field: an agent's own approval leaves the checkpoint pending in `checkpoint list`, the agent's
// `checkpoint approve` is refused before anything is written, and a squash merge that leaves an
// approval no counted vote backs makes `molecule status`, `list` and `checkpoint list` say
// `invalid` as `doctor` does, with the way back. Real git repositories and the CLI run in this process.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gastownInProcess } from '../helpers/inproc.js';
import { commitAll as commitAllIn, gitIn, JGIL } from '../helpers/repo.js';
import { guardedWorkDone } from './guarded.js';

const CP = '.beads/molecules/m1/checkpoints/review.md';

interface Entry {
  molecule: string;
  checkpoint: string;
  decision: string;
  note?: string;
  votes: { decision: string; by: string; counts: boolean; why: string }[];
}

/** Every file under .beads/ but the cache, names and bytes. */
function beadsHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (name === '.cache') continue;
      if (statSync(p).isDirectory()) walk(p);
      else h.update(`${p}\0`).update(readFileSync(p)).update('\0');
    }
  };
  walk(dir);
  return h.digest('hex');
}

describe('lists show the verdict, not the field', () => {
  let repo: { path: string; cleanup(): void };
  const run = (args: string[], env: Record<string, string> = {}) => gastownInProcess(args, repo.path, env);
  const ok = async (args: string[], env: Record<string, string> = {}) => {
    const r = await run(args, env);
    if (r.exitCode !== 0) throw new Error(`gastown ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return String(r.stdout);
  };
  const json = async <T>(args: string[]) => JSON.parse(String((await run([...args, '--json'])).stdout)) as T;
  const commitAll = (message: string, env: Record<string, string> = {}) =>
    commitAllIn(repo.path, message, env);
  const approveByHand = () => {
    const file = join(repo.path, CP);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^decision: pending/m, 'decision: approved'));
  };

  beforeEach(async () => {
    // Made once, copied for each test.
    // The fixed test identity (agent@example.com) is the agent.
    repo = await guardedWorkDone('checkpoint-verdict-m1-work-done');
  });
  afterEach(() => repo.cleanup());

  it("checkpoint list keeps an agent's own approval pending and says whose approval did not count", async () => {
    approveByHand();
    await commitAll('approve my own work');
    const all = await json<Entry[]>(['checkpoint', 'list']);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ molecule: 'm1', checkpoint: 'review', decision: 'pending' });
    expect(all[0]?.note).toContain('an uncounted approval by polecat-1');
    expect(all[0]?.votes).toEqual([
      expect.objectContaining({ decision: 'approved', by: 'polecat-1', counts: false }),
    ]);
    expect(await json<Entry[]>(['checkpoint', 'list', '--pending'])).toHaveLength(1);
    const text = await ok(['checkpoint', 'list', '--pending']);
    expect(text).not.toContain('No pending checkpoints');
    expect(text).not.toContain('approved ');
    expect(text).toMatch(/m1 {2}review {2}pending/);
    expect(text).toContain('an uncounted approval by polecat-1');
  });

  it('checkpoint approve by the agent that did the work exits 1, says why first, and writes nothing', async () => {
    const before = beadsHash(join(repo.path, '.beads'));
    const r = await run(['checkpoint', 'approve', 'm1', 'review', '--text', 'looks fine to me']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    const first = String(r.stderr).split('\n')[0] ?? '';
    expect(first).toContain('your approval would not count');
    expect(first).toContain('polecat-1');
    expect(first).toContain('prevent_self_approval');
    expect(beadsHash(join(repo.path, '.beads'))).toBe(before);
    // The approver's own approval still goes through.
    await ok(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    const [entry] = await json<Entry[]>(['checkpoint', 'list']);
    expect(entry?.decision).toBe('approved');
  });

  it('after a squash merge carrying an approval, status, list and checkpoint list say invalid as doctor does', async () => {
    await gitIn(repo.path, 'checkout', '-q', '-b', 'feature');
    await ok(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    await commitAll('review approved', JGIL);
    await ok(['step', 'done', 'm1', 'ship', '--as', 'polecat-1']);
    await commitAll('ship');
    expect(await json<{ state: string }>(['molecule', 'status', 'm1'])).toMatchObject({ state: 'completed' });
    await gitIn(repo.path, 'checkout', '-q', 'main');
    await gitIn(repo.path, 'merge', '-q', '--squash', 'feature');
    await commitAll('squash feature'); // authored by the agent: the approval is now the agent's edit

    const doctor = await run(['doctor']);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toContain('no counted approval backs it');

    const status = await run(['molecule', 'status', 'm1', '--json']);
    expect(status.exitCode).toBe(1);
    const s = JSON.parse(String(status.stdout)) as { state: string; problems: { message: string }[] };
    expect(s.state).toBe('invalid');
    expect(s.problems.map((p) => p.message).join('\n')).toContain('no counted approval backs it');
    expect(s.problems.map((p) => p.message).join('\n')).toContain('gastown checkpoint approve m1 review');
    const text = await run(['molecule', 'status', 'm1']);
    expect(text.stdout).toMatch(/m1 .*invalid/);
    expect(text.stdout).not.toContain('completed');

    const list = await json<{ id: string; state: string; problem?: string }[]>(['molecule', 'list']);
    expect(list).toEqual([expect.objectContaining({ id: 'm1', state: 'invalid' })]);
    expect(list[0]?.problem).toContain('no counted approval backs it');
    expect((await ok(['molecule', 'list'])).split('\n')[0]).toMatch(/^m1 +invalid/);

    const current = await run(['molecule', 'current', 'm1']);
    expect(current.exitCode).toBe(1);
    expect(current.stdout).toContain('m1 is invalid: .beads/molecules/m1/events/review.1.done.toml');

    const [entry] = await json<Entry[]>(['checkpoint', 'list']);
    expect(entry?.decision).toBe('invalid');
    expect(entry?.note).toContain('no counted approval backs it');

    // A digest would hide the unbacked fact: squash refuses, as it refuses any invalid molecule.
    const squash = await run(['molecule', 'squash', 'm1']);
    expect(squash.exitCode).toBe(1);
    expect(squash.stderr).toContain('molecule m1 is invalid');

    // The way back: the approver's own vote, committed by them.
    await ok(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    await commitAll('approve again after the squash', JGIL);
    expect(await json<{ state: string }>(['molecule', 'status', 'm1'])).toMatchObject({ state: 'completed' });
    expect((await run(['doctor'])).stdout).not.toContain('no counted approval backs it');
    const [after] = await json<Entry[]>(['checkpoint', 'list']);
    expect(after?.decision).toBe('approved');
  });
});
