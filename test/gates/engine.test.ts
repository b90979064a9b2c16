// Gates wired into the engine, through the CLI (run in this process) in real git repositories: self-approval,
// bad checkpoint edits, a timeout taken exactly once, a gate command that does not exist.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gastownInProcess } from '../helpers/inproc.js';
import { commitAll as commitAllIn, JGIL, makeRepo } from '../helpers/repo.js';

const FORMULA = `formula = "review"
type = "workflow"

[[steps]]
id = "work"
title = "Do the work"

[[steps]]
id = "review"
title = "Review the work"
needs = ["work"]

[steps.gate]
type = "human"
approvers = []
prevent_self_approval = true
timeout = "2h"
on_timeout = "reject"
on_reject = "work"

[[steps]]
id = "check"
title = "Check"
needs = ["review"]

[steps.gate]
type = "command"
run = [["gastown-no-such-tool-xyz", "{{target}}"]]
on_fail = "work"
max_attempts = 1
`;

const AT = (t: string) => ({ GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: `2026-01-06T${t}:00Z` });

/** Hash of every file under .beads/ (names and bytes): "nothing changed" made checkable. */
function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (name === '.cache') continue;
      if (statSync(p).isDirectory()) walk(p);
      else h.update(`${p}\0${readFileSync(p, 'utf8')}\0`);
    }
  };
  walk(dir);
  return h.digest('hex');
}

describe('gates in the engine', () => {
  let repo: { path: string; cleanup(): void };
  const run = async (args: string[], env: Record<string, string> = AT('09:30')) =>
    gastownInProcess(args, repo.path, env);
  const ok = async (args: string[], env?: Record<string, string>) => {
    const r = await run(args, env);
    if (r.exitCode !== 0) throw new Error(`gastown ${args.join(' ')}: ${r.stderr}`);
    return String(r.stdout);
  };
  const status = async (id: string, env?: Record<string, string>) =>
    JSON.parse(await ok(['molecule', 'status', id, '--json'], env)) as {
      state: string;
      blocked_reason?: string;
      steps: { id: string; state: string; attempt: number; notes?: string[] }[];
    };
  const commitAll = (message: string, env: Record<string, string> = {}) =>
    commitAllIn(repo.path, message, env);
  const cpFile = (mol: string, id = 'review') =>
    join(repo.path, `.beads/molecules/${mol}/checkpoints/${id}.md`);
  const pour = async (name: string) => {
    await ok(['molecule', 'create', '--formula', 'review', '--name', name, '--assignee', 'polecat-1']);
    await ok(['step', 'done', name, 'work', '--as', 'polecat-1']);
    await commitAll(`${name}: work done`);
  };

  beforeEach(async () => {
    repo = await makeRepo();
    mkdirSync(join(repo.path, '.beads/formulas'), { recursive: true });
    writeFileSync(join(repo.path, '.beads/formulas/review.formula.toml'), FORMULA);
    writeFileSync(
      join(repo.path, '.beads/config.toml'),
      '[users.jgil]\nemails = ["jgil@example.com"]\n\n[agents.polecat-1]\nemails = ["agent@example.com"]\n',
    );
    writeFileSync(join(repo.path, '.beads/.gitignore'), '.cache/\n');
    await commitAll('init');
  });
  afterEach(() => repo.cleanup());

  it('an approval committed by the agent that did the work does not count, and status says why', async () => {
    await pour('m1');
    writeFileSync(
      cpFile('m1'),
      readFileSync(cpFile('m1'), 'utf8').replace(/^decision: pending.*$/m, 'decision: approved'),
    );
    await commitAll('approve my own work'); // as agent@example.com = polecat-1
    await ok(['advance']);
    const review = (await status('m1')).steps.find((s) => s.id === 'review');
    expect(review?.state).toBe('pending');
    expect(review?.notes?.join('\n')).toMatch(
      /not counted: approved in \.beads\/molecules\/m1\/checkpoints\/review\.md: made by agent@example\.com \(commit [0-9a-f]{12}\), which is polecat-1, the agent that did work; prevent_self_approval is on/,
    );

    // A person then approves: their own approval file, attributed to their identity.
    const out = await ok(['checkpoint', 'approve', 'm1', 'review'], { ...AT('09:40'), ...JGIL });
    expect(out).toContain('review approved by @jgil');
  });

  it('`decision: maybe` or broken front matter: an error naming the file and the allowed values, nothing changes', async () => {
    await pour('m1');
    const before = readFileSync(cpFile('m1'), 'utf8');
    for (const bad of [
      before.replace(/^decision: pending.*$/m, 'decision: maybe'),
      before.replace('reason: ""', 'reason: "unclosed'),
    ]) {
      writeFileSync(cpFile('m1'), bad);
      const tree = treeHash(join(repo.path, '.beads'));
      const adv = await run(['advance']);
      expect(adv.stdout + adv.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
      expect(treeHash(join(repo.path, '.beads'))).toBe(tree);
      // advance (and CI) say so and fail, rather than reporting nothing to do.
      for (const args of [['advance'], ['advance', '--ci']]) {
        const r = await run(args);
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toContain('.beads/molecules/m1/checkpoints/review.md');
      }
      const st = await status('m1');
      expect(st.state).toBe('blocked');
      expect(st.blocked_reason).toContain('.beads/molecules/m1/checkpoints/review.md');
      expect(st.blocked_reason).toMatch(/pending(, | \| )approved(, | \| )rejected/);
      const cli = await run(['checkpoint', 'approve', 'm1', 'review']);
      expect(cli.exitCode).toBe(1);
      expect(cli.stderr).toContain('.beads/molecules/m1/checkpoints/review.md');
      expect(treeHash(join(repo.path, '.beads'))).toBe(tree);
    }
  });

  it('with the clock injected, a checkpoint pending past its 2h timeout takes on_timeout exactly once', async () => {
    await pour('m1'); // the request is committed at 09:00 (the test identity's date)
    await ok(['advance'], AT('10:59'));
    expect((await status('m1', AT('10:59'))).steps.find((s) => s.id === 'review')?.notes?.join()).toContain(
      'due 2026-01-06T11:00:00.000Z',
    );

    const first = await ok(['advance', '--json'], AT('11:30'));
    expect(
      JSON.parse(first).transitions.map(
        (t: { kind: string; step?: string; attempt?: number }) => `${t.step}.${t.attempt}.${t.kind}`,
      ),
    ).toEqual(expect.arrayContaining(['review.1.timed-out', 'work.2.reopened', 'review.2.reopened']));
    const tree = treeHash(join(repo.path, '.beads'));
    for (const t of ['12:00', '18:00']) {
      const again = JSON.parse(await ok(['advance', '--json'], AT(t)));
      expect(again.written).toEqual([]);
    }
    expect(treeHash(join(repo.path, '.beads'))).toBe(tree);
    const events = readdirSync(join(repo.path, '.beads/molecules/m1/events'));
    expect(events.filter((e) => e.includes('timed-out'))).toEqual(['review.1.timed-out.toml']);
    expect((await status('m1', AT('12:00'))).steps.find((s) => s.id === 'work')).toMatchObject({
      state: 'ready',
      attempt: 2,
    });
    expect(
      readFileSync(join(repo.path, '.beads/molecules/m1/feedback/work/2.rejected.md'), 'utf8'),
    ).toContain('timed out: no decision within 2h');
  });

  it('a gate command that does not exist: a failing report, the molecule blocked after max_attempts, no crash', async () => {
    await pour('m1');
    const approved = await run(['checkpoint', 'approve', 'm1', 'review'], { ...AT('09:40'), ...JGIL });
    expect(approved.exitCode).toBe(0);
    expect(approved.stderr).not.toMatch(/at .*\.js:\d+/);
    const report = readFileSync(join(repo.path, '.beads/molecules/m1/reports/check.1.md'), 'utf8');
    expect(report).toMatch(/^verdict: fail$/m);
    expect(report).toContain('command not found: gastown-no-such-tool-xyz');
    const st = await status('m1', AT('09:40'));
    expect(st.state).toBe('blocked');
    expect(st.blocked_reason).toContain(
      'gate check failed 1 time (max_attempts 1): command 1 `gastown-no-such-tool-xyz',
    );
  });

  it('comments reach the assignee as files; the checkpoint stays pending', async () => {
    await pour('m1');
    const out = await ok(
      ['checkpoint', 'comment', 'm1', 'review', '--text', 'Please add the degraded-mode case'],
      { ...AT('09:40'), ...JGIL },
    );
    const dir = join(repo.path, '.beads/molecules/m1/feedback/work');
    const [file] = readdirSync(dir);
    expect(file).toMatch(/^[0-9A-Z]{26}\.comment\.md$/);
    expect(out).toContain(`feedback/work/${file}`);
    expect(readFileSync(join(dir, file as string), 'utf8')).toContain('Please add the degraded-mode case');
    expect(readFileSync(cpFile('m1'), 'utf8')).toMatch(/^decision: pending/m);
    const show = JSON.parse(await ok(['checkpoint', 'show', 'm1', 'review', '--json'], AT('09:40')));
    expect(show).toMatchObject({
      decision: 'pending',
      step_state: 'pending',
      feedback: [`.beads/molecules/m1/feedback/work/${file}`],
    });
  });
});
