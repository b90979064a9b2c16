// Two clones of one repository advance a molecule independently and merge through a bare remote.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitIn, tempDir } from '../helpers/repo.js';
import { inProcess, repoWithFormulas, type Status, stepStates } from './cli.js';

// Rules and output only: the CLI runs in this worker (test/helpers/inproc.ts).
const { gt, gtJson, gtOk } = inProcess;

async function setup() {
  const origin = await repoWithFormulas('beads/quick-check');
  await gtOk(origin.path, ['molecule', 'create', '--formula', 'quick-check', '--name', 'qc']);
  await gitIn(origin.path, 'add', '-A');
  await gitIn(origin.path, 'commit', '-q', '-m', 'pour qc');
  const dir = tempDir();
  const bare = join(dir.path, 'remote.git');
  await gitIn(dir.path, 'clone', '-q', '--bare', origin.path, bare);
  const a = join(dir.path, 'a');
  const b = join(dir.path, 'b');
  await gitIn(dir.path, 'clone', '-q', bare, a);
  await gitIn(dir.path, 'clone', '-q', bare, b);
  return {
    a,
    b,
    cleanup() {
      origin.cleanup();
      dir.cleanup();
    },
  };
}

async function commitAndPush(cwd: string, message: string) {
  await gitIn(cwd, 'add', '-A');
  await gitIn(cwd, 'commit', '-q', '-m', message);
  await gitIn(cwd, 'push', '-q', 'origin', 'main');
}

describe('merge safety', () => {
  let env: Awaited<ReturnType<typeof setup>> | undefined;
  afterEach(() => env?.cleanup());

  it('two clones completing different ready steps merge cleanly and the state shows both', async () => {
    env = await setup();
    const { a, b } = env;
    await gtOk(a, ['step', 'done', 'qc', 'lint', '--as', 'agent-a']);
    await gtOk(b, ['step', 'done', 'qc', 'test', '--as', 'agent-b']);
    await commitAndPush(a, 'lint done');
    await gitIn(b, 'add', '-A');
    await gitIn(b, 'commit', '-q', '-m', 'test done');
    await gitIn(b, 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main');
    expect(await gitIn(b, 'ls-files', '-u')).toBe('');
    await gitIn(b, 'push', '-q', 'origin', 'main');
    await gitIn(a, 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main');
    for (const clone of [a, b]) {
      const s = await gtJson<Status>(clone, ['molecule', 'status', 'qc']);
      expect(stepStates(s)).toEqual({ lint: 'done', test: 'done', build: 'ready', report: 'pending' });
      expect(s.state).toBe('active');
    }
    // Both clones finish the last parallel step the same way: identical facts, clean add/add.
    await gtOk(a, ['step', 'done', 'qc', 'build']);
    await gtOk(b, ['step', 'done', 'qc', 'build']);
    await commitAndPush(a, 'build done on a');
    await gitIn(b, 'add', '-A');
    await gitIn(b, 'commit', '-q', '-m', 'build done on b');
    await gitIn(b, 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main');
    const s = await gtJson<Status>(b, ['molecule', 'status', 'qc']);
    expect(stepStates(s)).toEqual({ lint: 'done', test: 'done', build: 'done', report: 'ready' });
  });

  it('a re-open on one clone and progress past it on the other merge into a re-open of that progress', async () => {
    env = await setup();
    const { a, b } = env;
    for (const step of ['lint', 'test', 'build'])
      await gtOk(a, ['step', 'done', 'qc', step, '--as', 'agent-a']);
    expect(stepStates(await gtJson<Status>(a, ['molecule', 'status', 'qc'])).report).toBe('ready');
    await commitAndPush(a, 'all checks done');
    // b has not seen that: it re-opens lint, which had not moved anything on there.
    await gtOk(b, ['step', 'reopen', 'qc', 'lint', '--reason', 'wrong config']);
    await gitIn(b, 'add', '-A');
    await gitIn(b, 'commit', '-q', '-m', 'lint re-opened');
    await gitIn(b, 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main');
    expect(await gitIn(b, 'ls-files', '-u')).toBe('');
    // report became ready on a before lint was re-opened on b: the merge re-opens it too.
    const adv = await gt(b, ['advance']);
    expect(adv.exitCode, String(adv.stderr)).toBe(0);
    expect(String(adv.stdout)).toContain('report re-opened as attempt 2');
    const s = await gtJson<Status>(b, ['molecule', 'status', 'qc']);
    expect(s.state).toBe('active');
    expect(stepStates(s)).toEqual({ lint: 'ready', test: 'done', build: 'done', report: 'pending' });
    expect((await gt(b, ['doctor'])).stdout).not.toContain('report.1.ready.toml');
  });

  it('a re-open merged into a molecule the other clone completed is reported, not lost', async () => {
    env = await setup();
    const { a, b } = env;
    for (const step of ['lint', 'test', 'build', 'report']) await gtOk(a, ['step', 'done', 'qc', step]);
    expect((await gtJson<Status>(a, ['molecule', 'status', 'qc'])).state).toBe('completed');
    await commitAndPush(a, 'all done');
    await gtOk(b, ['step', 'reopen', 'qc', 'lint', '--reason', 'wrong config']);
    await gitIn(b, 'add', '-A');
    await gitIn(b, 'commit', '-q', '-m', 'lint re-opened');
    await gitIn(b, 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main');
    for (const args of [['advance'], ['molecule', 'status', 'qc'], ['doctor']]) {
      const r = await gt(b, args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(String(r.stdout) + String(r.stderr)).toContain(
        '.beads/molecules/qc/events/molecule.completed.toml',
      );
    }
    // Nothing is offered as ready work while it is invalid.
    const st = JSON.parse(String((await gt(b, ['molecule', 'status', 'qc', '--json'])).stdout)) as Status;
    expect(st.state).toBe('invalid');
    expect(stepStates(st).lint).toBe('ready');
    expect(st.ready).toEqual([]);
    // A fresh clone (no cache: completed molecules are judged by their file names) sees it too.
    await gitIn(b, 'push', '-q', 'origin', 'main');
    const dir = tempDir();
    const c = join(dir.path, 'c');
    await gitIn(dir.path, 'clone', '-q', join(a, '../remote.git'), c);
    expect((await gt(c, ['advance'])).exitCode).toBe(1);
    dir.cleanup();
  });

  it('the same step completed differently on two clones is reported as a conflict', async () => {
    env = await setup();
    const { a, b } = env;
    // done on one clone, failed on the other: git keeps both files, status refuses to pick.
    await gtOk(a, ['step', 'done', 'qc', 'lint']);
    await gtOk(b, ['step', 'fail', 'qc', 'lint', '--reason', 'lint errors']);
    // done with different --as: the same file with other bytes, an add/add conflict.
    await gtOk(a, ['step', 'done', 'qc', 'build', '--as', 'agent-a']);
    await gtOk(b, ['step', 'done', 'qc', 'build', '--as', 'agent-b']);
    await commitAndPush(a, 'a');
    await gitIn(b, 'add', '-A');
    await gitIn(b, 'commit', '-q', '-m', 'b');
    await gitIn(b, 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main').catch(() => undefined);
    const r = await gt(b, ['molecule', 'status', 'qc', '--json']);
    expect(r.exitCode).toBe(1);
    const s = JSON.parse(String(r.stdout)) as Status;
    expect(s.state).toBe('conflict');
    expect(s.conflicts.map((c) => c.file).sort()).toEqual([
      '.beads/molecules/qc/events/build.1.done.toml',
      '.beads/molecules/qc/events/lint.1.done.toml',
      '.beads/molecules/qc/events/lint.1.failed.toml',
    ]);
    const human = await gt(b, ['molecule', 'status', 'qc']);
    expect(human.exitCode).toBe(1);
    expect(human.stderr).toContain(
      'conflict: .beads/molecules/qc/events/build.1.done.toml: unresolved merge',
    );
    // advance neither resolves nor writes anything for it, and says why.
    const adv = await gtJson<{ written: string[]; problems: { file?: string; message: string }[] }>(b, [
      'advance',
    ]);
    expect(adv.written).toEqual([]);
    expect(adv.problems.some((p) => p.file === '.beads/molecules/qc/events/lint.1.failed.toml')).toBe(true);
    // Recording anything on it is refused.
    const rec = await gt(b, ['step', 'done', 'qc', 'test']);
    expect(rec.exitCode).toBe(1);
    expect(rec.stderr).toContain('conflicting state');
  });
});
