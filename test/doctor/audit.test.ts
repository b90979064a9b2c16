// `gastown doctor` at scale: the same findings (a forged approval, a link, a hand-edited frozen
// formula) from a handful of git processes however many checkpoints there are, counted by a
// `git` stand-in first on PATH that logs each start; and progress on a terminal's stderr only.
// Real git repositories, the built CLI where its git processes are counted or its terminal
// matters (`script` for a pseudo-terminal), else the CLI run in this process.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeGuardedWorkDone } from '../checkpoint/guarded.js';
import { gastownInProcess } from '../helpers/inproc.js';
import { CLI, commitAll, gastown, gitIn, JGIL, tempDir, testEnv } from '../helpers/repo.js';
import { copyOfRepo } from '../helpers/template.js';

const APPROVED = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
const mol = (id: string) => `.beads/molecules/${id}`;

/**
 * Eight molecules past their work: six approved by @jgil, each in its own commit, and recorded
 * done by advance; m7 approved and recorded done by the agent itself (a forgery); m8 pending.
 */
const gastownOk = async (cwd: string, args: string[], env: Record<string, string> = {}) => {
  const r = await gastownInProcess(args, cwd, env);
  if (r.exitCode !== 0)
    throw new Error(`gastown ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}${r.stdout}`);
};

function reviewedRepo() {
  return copyOfRepo('doctor-audit-reviewed-advanced', async (dir) => {
    await writeGuardedWorkDone(dir, undefined, [...APPROVED, 'm7', 'm8']);
    for (const id of APPROVED) {
      await gastownOk(dir, ['checkpoint', 'approve', id, 'review'], JGIL);
      await commitAll(dir, `approve ${id}`, JGIL);
    }
    await gastownOk(dir, ['advance']);
    if ((await gitIn(dir, 'status', '--porcelain')) !== '') await commitAll(dir, 'advance');
    const request = join(dir, mol('m7'), 'checkpoints/review.md');
    writeFileSync(
      request,
      readFileSync(request, 'utf8').replace(/^decision: pending.*$/m, 'decision: approved'),
    );
    writeFileSync(
      join(dir, mol('m7'), 'events/review.1.done.toml'),
      'step = "review"\nattempt = 1\nkind = "done"\nby = "@jgil"\n',
    );
    await commitAll(dir, 'approve it myself');
  });
}

describe('doctor audits every molecule with a few git processes', () => {
  let repo: { path: string; cleanup(): void };
  let shim: { path: string; cleanup(): void };
  const log = () => join(shim.path, 'git.log');

  beforeEach(async () => {
    repo = await reviewedRepo();
    // A `git` first on PATH that notes each start, then runs the real one.
    shim = tempDir('gastown-git-shim-');
    const real = execFileSync('sh', ['-c', 'command -v git'], { env: testEnv(), encoding: 'utf8' }).trim();
    writeFileSync(join(shim.path, 'git'), `#!/bin/sh\necho "$1 $2" >> '${log()}'\nexec '${real}' "$@"\n`);
    chmodSync(join(shim.path, 'git'), 0o755);
  });
  afterEach(() => {
    repo?.cleanup();
    shim?.cleanup();
  });

  const counted = async (args: string[]) => {
    writeFileSync(log(), '');
    const r = await gastown(args, repo.path, { PATH: `${shim.path}:${testEnv().PATH}` });
    const starts = readFileSync(log(), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    return { r, starts };
  };

  it('finds a forged approval, a link and an edited frozen formula, starting a bounded number of git processes', async () => {
    const frozen = join(repo.path, mol('m2'), 'formula.resolved.toml');
    writeFileSync(frozen, `${readFileSync(frozen, 'utf8')}\n# edited by hand\n`);
    await commitAll(repo.path, 'edit a frozen formula');
    symlinkSync('/etc/hostname', join(repo.path, mol('m8'), 'outputs-link.md'));

    const { r, starts } = await counted(['doctor', '--json']);
    expect(r.exitCode).toBe(1);
    const checks = (JSON.parse(String(r.stdout)) as { checks: { check: string; message: string }[] }).checks;
    const errors = checks.map((c) => `${c.check}: ${c.message}`);
    expect(errors).toContainEqual(
      expect.stringMatching(/^files: \.beads\/molecules\/m8\/outputs-link\.md: a symbolic link/),
    );
    expect(errors).toContainEqual(
      expect.stringMatching(/^molecules: \.beads\/molecules\/m2\/formula\.resolved\.toml: changed by commit/),
    );
    expect(errors).toContainEqual(
      expect.stringMatching(/^molecules: \.beads\/molecules\/m7\/events\/review\.1\.done\.toml: /),
    );
    // The six approvals by @jgil stand (a wrong author or trust table would report their done).
    for (const id of APPROVED) expect(errors.join('\n')).not.toContain(`/${id}/events/`);
    // Per checkpoint, the per-file questions started two or three git processes each (over 20
    // here); one history walk and one cat-file answer them all.
    expect(starts.length, starts.join('\n')).toBeLessThanOrEqual(16);
  });

  it('in a history with merges, judges a decision by the history of its own file, as the engine does', async () => {
    const at = (t: string) => ({
      GIT_AUTHOR_DATE: `2026-01-07T${t}:00Z`,
      GIT_COMMITTER_DATE: `2026-01-07T${t}:00Z`,
    });
    const request = join(repo.path, mol('m8'), 'checkpoints/review.md');
    await gitIn(repo.path, 'branch', 'side');
    // main: @jgil approves m8.
    await gastownOk(repo.path, ['checkpoint', 'approve', 'm8', 'review'], JGIL);
    await commitAll(repo.path, 'approve m8', { ...JGIL, ...at('10:00') });
    const approved = readFileSync(request, 'utf8');
    // side, later: the agent writes the same bytes, and something else the merge brings.
    await gitIn(repo.path, 'checkout', '-q', 'side');
    writeFileSync(request, approved);
    writeFileSync(join(repo.path, mol('m1'), 'checkpoints/.keep'), '');
    await commitAll(repo.path, 'same decision on a side branch', at('11:00'));
    await gitIn(repo.path, 'checkout', '-q', 'main');
    await execa('git', ['merge', '-q', '--no-ff', '-m', 'merge side', 'side'], {
      cwd: repo.path,
      env: testEnv(at('12:00')),
      extendEnv: false,
    });
    // `git log -- review.md` follows main through the merge: @jgil decided, and advance counts it.
    await gastownInProcess(['advance'], repo.path); // exits 1 over m7's forgery
    if ((await gitIn(repo.path, 'status', '--porcelain')) !== '')
      await commitAll(repo.path, 'advance', at('13:00'));
    expect(readFileSync(join(repo.path, mol('m8'), 'events/review.1.done.toml'), 'utf8')).toContain('@jgil');
    const r = await gastownInProcess(['doctor', '--json'], repo.path);
    const messages = (JSON.parse(String(r.stdout)) as { checks: { message: string }[] }).checks.map(
      (c) => c.message,
    );
    expect(messages.join('\n')).not.toContain('/m8/');
    expect(messages.join('\n')).toContain('/m7/events/review.1.done.toml');
  });

  it('shows progress on a terminal, and none under --json or when stderr is a pipe', async () => {
    const env = testEnv();
    // stdout to /dev/null, stderr on the pseudo-terminal `script` gives the command.
    const onTty = (args: string) =>
      execa('script', ['-qec', `'${process.execPath}' '${CLI}' ${args} > /dev/null`, '/dev/null'], {
        cwd: repo.path,
        env,
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
      });
    const tty = await onTty('doctor');
    expect(String(tty.stdout)).toMatch(/doctor: \d+\/8 molecules/);
    const json = await onTty('doctor --json');
    expect(String(json.stdout)).not.toContain('molecules\r');
    expect(String(json.stdout)).not.toMatch(/doctor: \d+\//);
    const piped = await gastown(['doctor'], repo.path);
    expect(String(piped.stderr)).not.toMatch(/doctor: \d+\//);
    expect(String(piped.stdout)).toContain('doctor: problems found');
    expect(await gitIn(repo.path, 'status', '--porcelain')).toBe('');
  });
});
