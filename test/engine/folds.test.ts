// One reconcile pass: a commit trailer or a checkpoint decision is a fact fed to the reconcile
// of its molecule, which is read and folded once per run; what the engine writes while it
// settles is folded into that state. `GASTOWN_TRACE=folds` prints how often each molecule was
// folded from its files. Real repositories, the built CLI, the installed hooks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commitAll, gastown, gitIn, JGIL, makeRepo } from '../helpers/repo.js';
import { git, initRepo } from '../triggers/helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

const TRACE = { GASTOWN_TRACE: 'folds' };
const foldsOf = (stderr: string, molecule: string) =>
  [...stderr.matchAll(/^gastown: trace folds (\S+) (\d+)$/gm)]
    .filter((m) => m[1] === molecule)
    .map((m) => Number(m[2]));

// No gate, loop, on_complete or condition: a and b are ready together, c needs both.
const PAIR =
  'formula = "pair"\n\n[[steps]]\nid = "a"\n\n[[steps]]\nid = "b"\n\n[[steps]]\nid = "c"\nneeds = ["a", "b"]\n';

const REVIEW = `formula = "review"

[[steps]]
id = "work"

[[steps]]
id = "review"
needs = ["work"]

[steps.gate]
type = "human"
approvers = []

[[steps]]
id = "ship"
needs = ["review"]
`;

describe('one reconcile pass', () => {
  it('one Gastown-Done trailer on a molecule without gates folds it once in the hook’s advance', async () => {
    const repo = await initRepo();
    cleanups.push(repo.cleanup);
    const cwd = repo.path;
    writeFileSync(join(cwd, '.beads/formulas/pair.formula.toml'), PAIR);
    expect((await gastown(['molecule', 'create', '--formula', 'pair', '--name', 'p1'], cwd)).exitCode).toBe(
      0,
    );
    await gitIn(cwd, 'add', '-A');
    await git(cwd, ['commit', '-q', '-m', 'start p1']);

    const first = await git(
      cwd,
      ['commit', '-q', '--allow-empty', '-m', 'a', '--trailer', 'Gastown-Done: p1/a'],
      TRACE,
    );
    expect(String(first.stderr)).toContain('gastown: p1/a done');
    expect(foldsOf(String(first.stderr), 'p1')).toEqual([1]);
    // The trailer's fact makes c ready: what the engine writes while settling is no second fold.
    const second = await git(
      cwd,
      ['commit', '-q', '--allow-empty', '-m', 'b', '--trailer', 'Gastown-Done: p1/b'],
      TRACE,
    );
    expect(String(second.stderr)).toContain('gastown: p1/c ready');
    expect(foldsOf(String(second.stderr), 'p1')).toEqual([1]);
  });

  it('one checkpoint approve folds its molecule once, and the step it approves moves on', async () => {
    const repo = await makeRepo();
    cleanups.push(repo.cleanup);
    const cwd = repo.path;
    mkdirSync(join(cwd, '.beads/formulas'), { recursive: true });
    writeFileSync(join(cwd, '.beads/formulas/review.formula.toml'), REVIEW);
    writeFileSync(join(cwd, '.beads/config.toml'), '[users.jgil]\nemails = ["jgil@example.com"]\n');
    for (const args of [
      ['molecule', 'create', '--formula', 'review', '--name', 'm1'],
      ['step', 'done', 'm1', 'work'],
    ])
      expect((await gastown(args, cwd)).exitCode).toBe(0);
    await commitAll(cwd, 'work done');

    const r = await gastown(['checkpoint', 'approve', 'm1', 'review'], cwd, { ...JGIL, ...TRACE });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toContain('m1: ship is ready');
    expect(foldsOf(String(r.stderr), 'm1')).toEqual([1]);
  });
});
