// `checkpoint approve|reject` in real git repositories (the CLI run in this process; the built one
// where another process holds the lock): a decision that is
// already recorded is not silently re-made, a repeated approval writes nothing, the lock is taken
// before the file is touched, and the edit changes nothing but the decision and reason.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gastownInProcess } from '../helpers/inproc.js';
import { commitAll as commitAllIn, gastown, JGIL, makeRepo, person } from '../helpers/repo.js';

const formulaWith = (minApprovals: number) => `formula = "review"
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
min_approvals = ${minApprovals}
on_reject = "work"

[[steps]]
id = "ship"
title = "Ship"
needs = ["review"]
`;

const NOW = { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: '2026-01-06T09:30:00Z' };
const ANA = person('Ana', 'ana@example.com');

/** Every file under .beads/ but the cache, names and bytes: "nothing changed" made checkable. */
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

describe('checkpoint approve and reject', () => {
  let repo: { path: string; cleanup(): void };
  let holder: ChildProcess | undefined;
  const run = (args: string[], env: Record<string, string> = {}) =>
    gastownInProcess(args, repo.path, { ...NOW, GASTOWN_LOCK_WAIT_MS: '100', ...env });
  const spawned = (args: string[], env: Record<string, string> = {}) =>
    gastown(args, repo.path, { ...NOW, GASTOWN_LOCK_WAIT_MS: '100', ...env });
  const ok = async (args: string[], env: Record<string, string> = {}) => {
    const r = await run(args, env);
    if (r.exitCode !== 0) throw new Error(`gastown ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return String(r.stdout);
  };
  const stepOf = async (id: string) =>
    (
      JSON.parse(await ok(['molecule', 'status', 'm1', '--json'])) as {
        steps: { id: string; state: string; attempt: number }[];
      }
    ).steps.find((s) => s.id === id);
  const cpFile = () => join(repo.path, '.beads/molecules/m1/checkpoints/review.md');
  const approvals = () => join(repo.path, '.beads/molecules/m1/checkpoints/review.approvals');
  const tree = () => beadsHash(join(repo.path, '.beads'));
  const pour = async (minApprovals = 1) => {
    writeFileSync(join(repo.path, '.beads/formulas/review.formula.toml'), formulaWith(minApprovals));
    await ok(['molecule', 'create', '--formula', 'review', '--name', 'm1', '--assignee', 'polecat-1']);
    await ok(['step', 'done', 'm1', 'work', '--as', 'polecat-1']);
    await commitAllIn(repo.path, 'work done');
  };

  beforeEach(async () => {
    repo = await makeRepo();
    mkdirSync(join(repo.path, '.beads/formulas'), { recursive: true });
    writeFileSync(
      join(repo.path, '.beads/config.toml'),
      '[users.jgil]\nemails = ["jgil@example.com"]\n\n[users.ana]\nemails = ["ana@example.com"]\n\n[agents.polecat-1]\nemails = ["agent@example.com"]\n',
    );
    writeFileSync(join(repo.path, '.beads/.gitignore'), '.cache/\n');
    await commitAllIn(repo.path, 'init');
  });
  afterEach(() => {
    holder?.kill('SIGKILL');
    holder = undefined;
    repo.cleanup();
  });

  it('reject after the approval is recorded fails, says how to revisit it, and changes no file', async () => {
    await pour();
    await ok(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    expect(await stepOf('review')).toMatchObject({ state: 'done', attempt: 1 });
    const before = tree();
    const r = await run(['checkpoint', 'reject', 'm1', 'review', '--reason', 'changed my mind'], JGIL);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).not.toContain('rejected');
    expect(r.stderr).toContain('checkpoint review of m1 is already approved and recorded');
    expect(r.stderr).toContain('gastown step reopen m1 review');
    expect(tree()).toBe(before);
    expect(await stepOf('review')).toMatchObject({ state: 'done', attempt: 1 });
  });

  it('a repeated approve by the same person is a no-op that says so, before and after it is recorded', async () => {
    await pour(2);
    await ok(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    expect(await stepOf('review')).toMatchObject({ state: 'pending' });
    let before = tree();
    const again = await run(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('already says approved and is not committed');
    expect(existsSync(approvals())).toBe(false);
    expect(tree()).toBe(before);
    // Committed as theirs, it is still the same person's approval.
    await commitAllIn(repo.path, 'approve', JGIL);
    before = tree();
    const committed = await run(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    expect(committed.exitCode).toBe(0);
    expect(committed.stdout).toContain('you (jgil@example.com) already approved review of m1');
    expect(existsSync(approvals())).toBe(false);
    expect(tree()).toBe(before);

    // A second person's approval is their own file and decides it.
    await ok(['checkpoint', 'approve', 'm1', 'review'], ANA);
    expect(readdirSync(approvals())).toEqual(['ana-example.com.md']);
    expect(await stepOf('review')).toMatchObject({ state: 'done' });
    before = tree();
    for (const who of [JGIL, ANA]) {
      const late = await run(['checkpoint', 'approve', 'm1', 'review', '--json'], who);
      expect(late.exitCode).toBe(0);
      expect(JSON.parse(String(late.stdout))).toMatchObject({ file: null, unchanged: expect.any(String) });
    }
    expect(readdirSync(approvals())).toEqual(['ana-example.com.md']);
    expect(tree()).toBe(before);
  });

  it('with two approvals needed, the first approver may still reject before it is recorded', async () => {
    await pour(2);
    await ok(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    const out = await ok(['checkpoint', 'reject', 'm1', 'review', '--reason', 'missed the retry case'], JGIL);
    expect(out).toContain('work re-opened as attempt 2');
    expect(readdirSync(approvals())).toEqual(['jgil-example.com.md']);
    expect(await stepOf('work')).toMatchObject({ state: 'ready', attempt: 2 });
    // That rejection is recorded now: approving the old request cannot undo it.
    const before = tree();
    const late = await run(['checkpoint', 'approve', 'm1', 'review'], ANA);
    expect(late.exitCode).toBe(1);
    expect(late.stderr).toContain('already rejected and recorded');
    expect(tree()).toBe(before);
  });

  it('with the lock held by a live process, approve and reject exit 3 and leave the file byte-identical', async () => {
    await pour();
    const script = `const fs=require('fs');fs.writeFileSync(process.argv[1],JSON.stringify({pid:process.pid,host:require('os').hostname(),started:new Date().toISOString()}));process.stdout.write('held\\n');process.stdin.resume();`;
    holder = spawn(process.execPath, ['-e', script, join(repo.path, '.beads/.cache/lock')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => holder?.stdout?.once('data', () => resolve()));
    const bytes = readFileSync(cpFile());
    const before = tree();
    for (const args of [
      ['checkpoint', 'approve', 'm1', 'review'],
      ['checkpoint', 'reject', 'm1', 'review', '--reason', 'not yet'],
    ]) {
      const r = await spawned(args, JGIL);
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toContain(`pid ${holder.pid}`);
      expect(readFileSync(cpFile()).equals(bytes)).toBe(true);
      expect(tree()).toBe(before);
    }
  });

  it('approve changes only the decision: comments, spacing and the body stay as they were', async () => {
    await pour();
    const engineMade = readFileSync(cpFile(), 'utf8');
    expect(engineMade).toMatch(/^decision: pending # pending \| approved \| rejected$/m);
    const handEdited = engineMade
      .replace(/^reason:/m, '# a note from the lead: look at retries\nreason:')
      .concat('\nSee also the design notes.   \n');
    writeFileSync(cpFile(), handEdited);
    await commitAllIn(repo.path, 'notes');
    await ok(['checkpoint', 'approve', 'm1', 'review'], JGIL);
    expect(readFileSync(cpFile(), 'utf8')).toBe(
      handEdited.replace('decision: pending #', 'decision: approved #'),
    );
    expect(await stepOf('review')).toMatchObject({ state: 'done' });
  });
});
