// Engine commits never publish an approval's `done` without the approval, nor an approval under
// someone else's name: with hooks installed, real git, the built CLI in the hooks. The commands a
// test runs itself (an approval, a catch-up, what a fresh clone reads) run in the test worker.
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gastownInProcess } from '../helpers/inproc.js';
import { gastown, gitIn, JGIL, person, tempDir } from '../helpers/repo.js';
import { copyOfTemplate } from '../helpers/template.js';
import { git, initIn, type Repo } from './helpers.js';

const FLOW = (gate: string) => `formula = "approved-flow"

[[steps]]
id = "draft"

[[steps]]
id = "approve"
needs = ["draft"]

[steps.gate]
type = "human"
${gate}

[[steps]]
id = "ship"
needs = ["approve"]
`;
const BOB = person('Bob', 'bob@example.com');

const repos: Repo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

/** r1 poured from FLOW(gate) and its draft done by a trailer, all committed with hooks. */
async function poured(gate: string): Promise<string> {
  // Built once per gate and run, then copied for each test.
  const repo = await copyOfTemplate(`approvals-poured-${gate}`, async (cwd) => {
    await initIn(cwd, {});
    writeFileSync(join(cwd, '.beads/formulas/approved-flow.formula.toml'), FLOW(gate));
    writeFileSync(
      join(cwd, '.beads/config.toml'),
      '[users.jgil]\nemails = ["jgil@example.com"]\n\n[users.bob]\nemails = ["bob@example.com"]\n\n[agents.polecat-1]\nemails = ["agent@example.com"]\n',
    );
    expect(
      (await gastown(['molecule', 'create', '--formula', 'approved-flow', '--name', 'r1'], cwd)).exitCode,
    ).toBe(0);
    await gitIn(cwd, 'add', '-A');
    expect((await git(cwd, ['commit', '-q', '-m', 'pour r1'])).exitCode).toBe(0);
    const done = ['commit', '-q', '--allow-empty', '-m', 'draft', '--trailer', 'Gastown-Done: r1/draft'];
    expect((await git(cwd, done)).exitCode).toBe(0);
  });
  repos.push(repo);
  return repo.path;
}

/** What another clone sees: doctor's exit code and the molecule's state. */
async function freshCloneState(cwd: string): Promise<{ code: number; state: string }> {
  const dir = tempDir();
  try {
    const clone = join(dir.path, 'c');
    await gitIn(dir.path, 'clone', '-q', `file://${cwd}`, clone);
    await gastownInProcess(['advance'], clone);
    const doctor = await gastownInProcess(['doctor'], clone);
    const st = JSON.parse((await gastownInProcess(['molecule', 'status', 'r1', '--json'], clone)).stdout) as {
      state: string;
    };
    return { code: doctor.exitCode ?? -1, state: st.state };
  } finally {
    dir.cleanup();
  }
}

const untracked = async (cwd: string) =>
  (await gitIn(cwd, 'status', '--porcelain', '--untracked-files=all', '.beads')).trim();

describe('approvals and engine commits', () => {
  it('an approval recorded by `checkpoint approve` and not committed holds the molecule out of later engine commits until it is', async () => {
    const cwd = await poured('approvers = ["@jgil"]');
    expect((await gastownInProcess(['checkpoint', 'approve', 'r1', 'approve'], cwd, JGIL)).exitCode).toBe(0);
    // @jgil goes on and commits other work, leaving the decision uncommitted. A trailer for
    // `ship` in it is judged as of that commit, where the approval is not: refused, as every
    // clone would.
    const ship = ['commit', '-q', '--allow-empty', '-m', 'ship it', '--trailer', 'Gastown-Done: r1/ship'];
    const r = await git(cwd, ship, JGIL);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('as of that commit, step ship of r1 is not ready');
    expect(r.stderr).toContain('r1 not committed');
    expect((await gitIn(cwd, 'log', '-1', '--format=%an')).trim()).toBe('J Gil');
    // What was pushed is consistent: the approval is still pending there.
    expect(await freshCloneState(cwd)).toEqual({ code: 0, state: 'active' });

    // @jgil commits the decision: the next engine commit publishes what was held back.
    await gitIn(cwd, 'add', '.beads/molecules/r1/checkpoints/approve.md');
    expect((await git(cwd, ['commit', '-q', '-m', 'approve r1'], JGIL)).exitCode).toBe(0);
    expect(await untracked(cwd)).toBe('');
    expect((await git(cwd, ship, JGIL)).exitCode).toBe(0);
    expect(await untracked(cwd)).toBe('');
    expect(await freshCloneState(cwd)).toEqual({ code: 0, state: 'completed' });
  });

  it("after a run died, another person's uncommitted approval is never committed under the agent's name", async () => {
    const cwd = await poured('approvers = []\nmin_approvals = 2');
    expect((await gastownInProcess(['checkpoint', 'approve', 'r1', 'approve'], cwd, JGIL)).exitCode).toBe(0);
    await gitIn(cwd, 'add', '-A');
    expect((await git(cwd, ['commit', '-q', '-m', 'jgil approves'], JGIL)).exitCode).toBe(0);
    expect((await gastownInProcess(['checkpoint', 'approve', 'r1', 'approve'], cwd, BOB)).exitCode).toBe(0);
    const bobsVote = '.beads/molecules/r1/checkpoints/approve.approvals/bob-example.com.md';
    expect(existsSync(join(cwd, bobsVote))).toBe(true);
    // A run that died holding the lock (pid 2^22+1 is above Linux's pid_max).
    writeFileSync(
      join(cwd, '.beads/.cache/lock'),
      JSON.stringify({ pid: 4194305, host: hostname(), started: '2026-01-06T09:00:00Z' }),
    );
    const before = await gitIn(cwd, 'rev-parse', 'HEAD');
    const adv = await gastownInProcess(['advance', '--commit'], cwd);
    expect(adv.exitCode).toBe(0);
    expect(adv.stderr).toContain('r1 not committed');
    expect(await gitIn(cwd, 'rev-parse', 'HEAD')).toBe(before);
    expect(await untracked(cwd)).toContain(`?? ${bobsVote}`);
    expect(await freshCloneState(cwd)).toEqual({ code: 0, state: 'active' });
  });

  it('a molecule found invalid publishes nothing: a discarded vote leaves its done out of history', async () => {
    const cwd = await poured('approvers = ["@jgil"]');
    expect((await gastownInProcess(['checkpoint', 'approve', 'r1', 'approve'], cwd, JGIL)).exitCode).toBe(0);
    await gitIn(cwd, 'checkout', '--', '.beads/molecules/r1/checkpoints/approve.md');
    const ship = ['commit', '-q', '--allow-empty', '-m', 'ship it', '--trailer', 'Gastown-Done: r1/ship'];
    const r = await git(cwd, ship, JGIL);
    expect(r.stderr).toContain('r1 not committed');
    expect(await freshCloneState(cwd)).toEqual({ code: 0, state: 'active' });
  });

  it('advance --commit publishes facts held back once their approval was committed without hooks', async () => {
    const cwd = await poured('approvers = ["@jgil"]');
    expect((await gastownInProcess(['checkpoint', 'approve', 'r1', 'approve'], cwd, JGIL)).exitCode).toBe(0);
    await gitIn(cwd, 'add', '.beads/molecules/r1/checkpoints/approve.md');
    expect(
      (await git(cwd, ['commit', '-q', '-m', 'approve'], { ...JGIL, GASTOWN_HOOKS: '0' })).exitCode,
    ).toBe(0);
    expect(await untracked(cwd)).toContain('approve.1.done.toml');
    const adv = await gastownInProcess(['advance', '--commit'], cwd);
    expect(adv.exitCode, adv.stderr).toBe(0);
    expect(await untracked(cwd)).toBe('');
    const clone = await freshCloneState(cwd);
    expect(clone).toEqual({ code: 0, state: 'active' });
  });
});
