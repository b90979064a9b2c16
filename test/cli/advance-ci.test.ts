// `gastown advance --ci --commit` in a clone where no hook ran, including a shallow clone.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { gastownInProcess as gastown } from '../helpers/inproc.js';
import { commitAll, gitIn, JGIL, makeRepo, tempDir, testEnv } from '../helpers/repo.js';
import { REVIEW_FLOW, shinyRepo } from '../triggers/helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

async function repoWithUnappliedTrailer() {
  const repo = await shinyRepo({ hooks: 'none' });
  cleanups.push(repo.cleanup);
  // No hooks are installed: this trailer is what a web-UI merge or a --no-verify commit leaves behind.
  await gitIn(
    repo.path,
    'commit',
    '-q',
    '--allow-empty',
    '-m',
    'design done',
    '--trailer',
    'Gastown-Done: m1/design',
  );
  return repo;
}

/** No hooks, @jgil a user, review-flow molecule r1 with its draft done and committed. */
async function draftedReviewFlow(): Promise<string> {
  const repo = await makeRepo();
  cleanups.push(repo.cleanup);
  const cwd = repo.path;
  expect((await gastown(['init', '--hooks', 'none'], cwd)).exitCode).toBe(0);
  writeFileSync(join(cwd, '.beads/formulas/review-flow.formula.toml'), REVIEW_FLOW);
  writeFileSync(
    join(cwd, '.beads/config.toml'),
    '[users.jgil]\nemails = ["jgil@example.com"]\n\n[agents.polecat-1]\nemails = ["polecat-1@agents.example.com"]\n',
  );
  const made = await gastown(['molecule', 'create', '--formula', 'review-flow', '--name', 'r1'], cwd);
  expect(made.exitCode).toBe(0);
  expect((await gastown(['step', 'done', 'r1', 'draft', '--as', 'polecat-1'], cwd)).exitCode).toBe(0);
  await commitAll(cwd, 'draft');
  return cwd;
}

describe('advance --ci', () => {
  it('applies HEAD trailers in a shallow clone and commits the transitions', async () => {
    const repo = await repoWithUnappliedTrailer();
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const clone = join(dir.path, 'clone');
    await gitIn(dir.path, 'clone', '-q', '--depth', '1', `file://${repo.path}`, clone);
    expect((await gitIn(clone, 'rev-parse', '--is-shallow-repository')).trim()).toBe('true');

    const r = await gastown(['advance', '--ci', '--commit', '--json'], clone);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = JSON.parse(String(r.stdout));
    expect(out.transitions.map((t: { step?: string; kind: string }) => `${t.step} ${t.kind}`)).toEqual(
      expect.arrayContaining(['design done', 'implement ready']),
    );
    const head = await gitIn(clone, 'log', '-1', '--format=%an%n%B');
    expect(head).toContain('Gastown-Transition: m1/implement ready');
    expect(head.split('\n')[0]).toBe('gastown');

    const status = JSON.parse(String((await gastown(['molecule', 'status', 'm1', '--json'], clone)).stdout));
    expect(status.ready).toEqual(['implement']);

    // Running it again changes nothing and makes no second commit.
    const before = (await gitIn(clone, 'rev-parse', 'HEAD')).trim();
    const again = await gastown(['advance', '--ci', '--commit'], clone);
    expect(again.exitCode).toBe(0);
    expect(String(again.stdout)).toContain('nothing to do');
    expect((await gitIn(clone, 'rev-parse', 'HEAD')).trim()).toBe(before);
  });

  it('in a shallow clone, an approval made past its boundary is not judged again: no false "invalid"', async () => {
    const cwd = await draftedReviewFlow();
    expect((await gastown(['checkpoint', 'approve', 'r1', 'approve'], cwd, JGIL)).exitCode).toBe(0);
    await commitAll(cwd, 'approved', JGIL);
    // Someone else commits on top: in a depth-1 clone this commit seems to add every file.
    await gitIn(cwd, 'commit', '-q', '--allow-empty', '-m', 'later work');
    const full = await gastown(['advance', '--ci'], cwd);
    expect(full.exitCode, String(full.stderr)).toBe(0);

    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const clone = join(dir.path, 'clone');
    await gitIn(dir.path, 'clone', '-q', '--depth', '1', `file://${cwd}`, clone);
    const r = await gastown(['advance', '--ci'], clone);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const st = JSON.parse(String((await gastown(['molecule', 'status', 'r1', '--json'], clone)).stdout));
    expect(st.state).not.toBe('invalid');
    expect(st.ready).toEqual(['ship']);
  });

  it('in a shallow clone, an approval made past its boundary is credited to nobody', async () => {
    const cwd = await draftedReviewFlow();
    // The agent approves its own work; @jgil then commits something else on top.
    const cp = join(cwd, '.beads/molecules/r1/checkpoints/approve.md');
    writeFileSync(cp, readFileSync(cp, 'utf8').replace(/^decision: pending.*$/m, 'decision: approved'));
    await commitAll(cwd, 'approve it myself');
    await gitIn(cwd, 'commit', '-q', '--allow-empty', '-m', 'unrelated');
    await execa(
      'git',
      ['commit', '-q', '--amend', '--reset-author', '--allow-empty', '-m', 'unrelated, by jgil'],
      {
        cwd,
        env: testEnv(JGIL),
        extendEnv: false,
      },
    );

    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const clone = join(dir.path, 'clone');
    await gitIn(dir.path, 'clone', '-q', '--depth', '1', `file://${cwd}`, clone);
    const r = await gastown(['advance', '--ci', '--json'], clone);
    const out = JSON.parse(String(r.stdout)) as { transitions: { summary: string }[] };
    expect(out.transitions.map((t) => t.summary).join('\n')).not.toContain('approved by');
    const st = JSON.parse(String((await gastown(['molecule', 'status', 'r1', '--json'], clone)).stdout));
    expect(st.steps.find((s: { id: string }) => s.id === 'approve').state).not.toBe('done');
    expect(JSON.stringify(st)).toContain('cannot be told');
  });

  it('advance --commit after an approval made in the working tree commits the approval as its maker first', async () => {
    const cwd = await draftedReviewFlow();
    // @jgil edits the decision and runs the engine with --commit, committing nothing himself.
    const cp = join(cwd, '.beads/molecules/r1/checkpoints/approve.md');
    writeFileSync(cp, readFileSync(cp, 'utf8').replace(/^decision: pending.*$/m, 'decision: approved'));
    const r = await gastown(['advance', '--commit'], cwd, JGIL);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(await gitIn(cwd, 'status', '--porcelain')).toBe('');
    const log = (await gitIn(cwd, 'log', '-2', '--format=%an|%s', '--name-only')).trim();
    expect(log).toMatch(/^gastown\|gastown: /);
    expect(log).toContain('J Gil|checkpoint decision in r1/checkpoints/approve.md');
    // Another clone sees the approval behind the done, by @jgil.
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const clone = join(dir.path, 'clone');
    await gitIn(dir.path, 'clone', '-q', `file://${cwd}`, clone);
    const c = await gastown(['advance', '--ci'], clone);
    expect(c.exitCode, String(c.stderr)).toBe(0);
    const st = JSON.parse(String((await gastown(['molecule', 'status', 'r1', '--json'], clone)).stdout));
    expect(st.state).toBe('active');
    expect(st.ready).toEqual(['ship']);
  });

  it('exits 1 when a molecule has a problem', async () => {
    const repo = await repoWithUnappliedTrailer();
    await gitIn(
      repo.path,
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'typo',
      '--trailer',
      'Gastown-Done: m1/no-such-step',
    );
    const r = await gastown(['advance', '--ci'], repo.path);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain('no-such-step');
  });
});
