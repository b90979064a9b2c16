// Who a step fact names: only someone who acted. Without --as or GASTOWN_AGENT, nothing is
// guessed from the step's assignee; `--continue` claims the next step for whoever did this one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inProcess, repoWithFormulas, treeHash } from './cli.js';

// Rules of what is written: the CLI runs in the test worker.
const { gt, gtOk } = inProcess;

// An empty GASTOWN_AGENT is no agent; set it so the runner's own environment cannot leak in.
const NOBODY = { GASTOWN_AGENT: '' };

describe('who a step fact names', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  const event = (name: string) => join(repo.path, '.beads/molecules/m/events', name);
  const read = (name: string) => readFileSync(event(name), 'utf8');
  beforeEach(async () => {
    repo = await repoWithFormulas();
    // shiny: design → implement → review (assigned to "reviewer") → test → submit.
    await gtOk(
      repo.path,
      [
        'molecule',
        'create',
        '--formula',
        'shiny',
        '--name',
        'm',
        '--var',
        'feature=x',
        '--assignee',
        'polecat-1',
      ],
      NOBODY,
    );
  });
  afterEach(() => repo.cleanup());

  it('--continue without an actor claims the next step for whoever did the finished one, never its assignee', async () => {
    await gtOk(repo.path, ['step', 'start', 'm', 'design', '--as', 'polecat-1'], NOBODY);
    const first = await gtOk(repo.path, ['step', 'done', 'm', 'design', '--continue'], NOBODY);
    expect(first.stdout).toContain('next: m/implement');
    expect(read('design.1.done.toml')).toMatch(/^by = "polecat-1"$/m);
    expect(read('implement.1.started.toml')).toMatch(/^by = "polecat-1"$/m);

    // The next ready step is the reviewer's: polecat-1 does not claim it, and nobody claims it
    // in the reviewer's name.
    const second = await gtOk(repo.path, ['step', 'done', 'm', 'implement', '--continue'], NOBODY);
    expect(second.stdout).toContain('no step of m is ready for polecat-1');
    expect(existsSync(event('review.1.ready.toml'))).toBe(true);
    expect(existsSync(event('review.1.started.toml'))).toBe(false);
  });

  it('--continue with no actor known is a usage error and writes nothing', async () => {
    const before = await treeHash(repo.path);
    const r = await gt(repo.path, ['step', 'done', 'm', 'design', '--continue'], NOBODY);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--as');
    expect(r.stderr).toContain('GASTOWN_AGENT');
    expect(await treeHash(repo.path)).toBe(before);
    expect(existsSync(event('design.1.done.toml'))).toBe(false);
  });

  it('step start, done and fail without an actor leave `by` out instead of naming the assignee', async () => {
    await gtOk(repo.path, ['step', 'done', 'm', 'design', '--as', 'polecat-1'], NOBODY);
    await gtOk(repo.path, ['step', 'done', 'm', 'implement', '--as', 'polecat-1'], NOBODY);
    expect(read('review.1.ready.toml')).toMatch(/^assignee = "reviewer"$/m);
    const started = await gtOk(repo.path, ['step', 'start', 'm', 'review'], NOBODY);
    expect(started.stdout).not.toContain('by reviewer');
    const failed = await gtOk(repo.path, ['step', 'fail', 'm', 'review', '--reason', 'flaky'], NOBODY);
    expect(failed.stdout).not.toContain('by reviewer');
    expect(read('review.1.started.toml')).not.toMatch(/^by =/m);
    expect(read('review.1.failed.toml')).not.toMatch(/^by =/m);

    // Someone who did start it is named on the terminal fact, as before.
    await gtOk(repo.path, ['step', 'reopen', 'm', 'review', '--as', 'polecat-1'], NOBODY);
    await gtOk(repo.path, ['step', 'start', 'm', 'review', '--as', 'witness', '--reassign'], NOBODY);
    await gtOk(repo.path, ['step', 'done', 'm', 'review'], NOBODY);
    expect(read('review.2.done.toml')).toMatch(/^by = "witness"$/m);
  });
});
