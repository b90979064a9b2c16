// The engine-commit path end to end: what a hook leaves running, what an engine commit
// publishes, what a kill in the middle of one leaves, and what pre-commit lets in. Real git, the
// built CLI, temp repositories.
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gastown, gitIn, tempDir } from '../helpers/repo.js';
import { git, log, type Repo, shinyRepo } from './helpers.js';

const repos: Repo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});
async function repo(opts: { hooks?: string } = {}) {
  const r = await shinyRepo(opts);
  repos.push(r);
  return r.path;
}

const M1 = '.beads/molecules/m1';
const DESIGN_DONE = `${M1}/events/design.1.done.toml`;
const IMPLEMENT_READY = `${M1}/events/implement.1.ready.toml`;

/** A `done` for m1's design written by hand, as an agent with an editor would. */
function handWrittenDone(cwd: string): void {
  writeFileSync(join(cwd, DESIGN_DONE), 'step = "design"\nattempt = 1\nkind = "done"\n');
}

/** Processes still alive whose environment carries `tag` (everything a command started inherits it). */
function processesTagged(tag: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (!env.includes(`GASTOWN_TEST_TAG=${tag}`)) continue;
      found.push(`${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')}`);
    } catch {
      /* gone, or not ours */
    }
  }
  return found;
}

async function statusOf(cwd: string, id = 'm1') {
  const r = await gastown(['molecule', 'status', id, '--json'], cwd);
  return JSON.parse(r.stdout) as {
    state: string;
    steps: { id: string; state: string }[];
    problems: { file: string; message: string }[];
  };
}

describe('the hook runner', () => {
  it('leaves no process behind once a hooked Gastown-Done commit returns', async () => {
    const cwd = await repo();
    const tag = `engine-commit-${process.pid}-${Date.now()}`;
    const r = await git(
      cwd,
      ['commit', '-q', '--allow-empty', '-m', 'design done', '--trailer', 'Gastown-Done: m1/design'],
      { GASTOWN_TEST_TAG: tag },
    );
    expect(r.exitCode).toBe(0);
    // Node ran and committed (the hook was not a no-op)…
    expect(r.stderr).toContain('gastown: m1/implement ready');
    expect((await log(cwd, 1))[0]?.author).toBe('gastown');
    // …and neither it nor its watchdog (a `sleep` of hook_timeout) outlived git.
    expect(processesTagged(tag)).toEqual([]);
  });
});

describe('what an engine commit publishes', () => {
  it('takes the hand-written done along with the ready it caused, so a clone agrees', async () => {
    const cwd = await repo({ hooks: 'none' });
    handWrittenDone(cwd);
    const r = await gastown(['advance', '--commit'], cwd);
    expect(r.exitCode, r.stderr).toBe(0);
    const files = (await gitIn(cwd, 'show', '--name-only', '--format=', 'HEAD')).split('\n');
    expect(files).toContain(IMPLEMENT_READY);
    expect(files).toContain(DESIGN_DONE);
    expect(await gitIn(cwd, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    // Another clone sees what was committed, and calls it what this one does.
    const other = tempDir();
    try {
      await gitIn(other.path, 'clone', '-q', cwd, 'clone');
      const s = await statusOf(join(other.path, 'clone'));
      expect(s.problems).toEqual([]);
      expect(s.state).toBe('active');
      expect(s.steps.find((x) => x.id === 'implement')?.state).toBe('ready');
    } finally {
      other.cleanup();
    }
  });

  it('publishes nothing for a molecule with another uncommitted change, and says which', async () => {
    const cwd = await repo({ hooks: 'none' });
    const notes = `${M1}/outputs/design.md`;
    mkdirSync(join(cwd, M1, 'outputs'), { recursive: true });
    writeFileSync(join(cwd, notes), 'first draft\n');
    await gitIn(cwd, 'add', notes);
    await gitIn(cwd, 'commit', '-q', '-m', 'notes');
    writeFileSync(join(cwd, notes), 'second draft, not committed\n');
    handWrittenDone(cwd);
    const head = await gitIn(cwd, 'rev-parse', 'HEAD');
    const r = await gastown(['advance', '--commit'], cwd);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`m1 not committed: ${notes} (modified) not committed`);
    expect(await gitIn(cwd, 'rev-parse', 'HEAD')).toBe(head);
    // Once the person commits their file, the next run publishes the molecule whole.
    await gitIn(cwd, 'commit', '-q', '-m', 'notes', '--', notes);
    const again = await gastown(['advance', '--commit'], cwd);
    expect(again.exitCode, again.stderr).toBe(0);
    const files = (await gitIn(cwd, 'show', '--name-only', '--format=', 'HEAD')).split('\n');
    expect(files).toEqual(expect.arrayContaining([DESIGN_DONE, IMPLEMENT_READY]));
    expect(await gitIn(cwd, 'status', '--porcelain', '--untracked-files=all')).toBe('');
  });
});

describe('a kill -9 while advance --commit commits', () => {
  const LOCK = '.beads/.cache/lock';

  it('before HEAD moves: the user’s index is untouched, the lock stays, the next run commits it all', async () => {
    const cwd = await repo({ hooks: 'none' });
    handWrittenDone(cwd);
    const head = await gitIn(cwd, 'rev-parse', 'HEAD');
    const killed = await gastown(['advance', '--commit'], cwd, { GASTOWN_FAULT_KILL_AT: 'commit-index' });
    expect(killed.signal).toBe('SIGKILL');
    expect(await gitIn(cwd, 'rev-parse', 'HEAD')).toBe(head);
    // Nothing is staged: a commit of the user's now takes nothing of the engine's.
    expect(await gitIn(cwd, 'diff', '--cached', '--name-only')).toBe('');
    expect(existsSync(join(cwd, LOCK))).toBe(true);
    writeFileSync(join(cwd, 'mine.txt'), 'my own work\n');
    await gitIn(cwd, 'add', 'mine.txt');

    const next = await gastown(['advance', '--commit'], cwd);
    expect(next.exitCode, next.stderr).toBe(0);
    const [engine] = await log(cwd, 1);
    expect(engine?.author).toBe('gastown');
    const files = (await gitIn(cwd, 'show', '--name-only', '--format=', 'HEAD')).split('\n');
    expect(files).toEqual(expect.arrayContaining([DESIGN_DONE, IMPLEMENT_READY]));
    expect(files).not.toContain('mine.txt');
    expect(await gitIn(cwd, 'status', '--porcelain', '--untracked-files=all')).toBe('A  mine.txt');
    expect(existsSync(join(cwd, LOCK))).toBe(false);
  });

  it('after HEAD moved: the next run brings the index up to it, keeping what the user staged', async () => {
    const cwd = await repo({ hooks: 'none' });
    writeFileSync(join(cwd, 'mine.txt'), 'my own work\n');
    await gitIn(cwd, 'add', 'mine.txt');
    handWrittenDone(cwd);
    const killed = await gastown(['advance', '--commit'], cwd, { GASTOWN_FAULT_KILL_AT: 'commit-ref' });
    expect(killed.signal).toBe('SIGKILL');
    expect((await log(cwd, 1))[0]?.author).toBe('gastown');
    // The index still lags HEAD: as it stands, the user's next commit would delete the facts.
    expect(await gitIn(cwd, 'diff', '--cached', '--name-only')).toContain(DESIGN_DONE);

    const next = await gastown(['advance', '--commit'], cwd);
    expect(next.exitCode, next.stderr).toBe(0);
    expect(await gitIn(cwd, 'status', '--porcelain', '--untracked-files=all')).toBe('A  mine.txt');
    expect(existsSync(join(cwd, LOCK))).toBe(false);
  });

  it('after HEAD moved: the user’s next commit, through pre-commit, keeps the engine’s facts', async () => {
    const cwd = await repo();
    writeFileSync(join(cwd, 'mine.txt'), 'my own work\n');
    await gitIn(cwd, 'add', 'mine.txt');
    handWrittenDone(cwd);
    const killed = await gastown(['advance', '--commit'], cwd, { GASTOWN_FAULT_KILL_AT: 'commit-ref' });
    expect(killed.signal).toBe('SIGKILL');
    const r = await git(cwd, ['commit', '-q', '-m', 'my work']);
    expect(r.exitCode, r.stderr).toBe(0);
    const [mine] = await log(cwd, 1);
    expect(mine?.subject).toBe('my work');
    expect(await gitIn(cwd, 'show', '--name-only', '--format=', 'HEAD')).toBe('mine.txt');
    expect(await gitIn(cwd, 'ls-files', DESIGN_DONE, IMPLEMENT_READY)).toBe(
      `${DESIGN_DONE}\n${IMPLEMENT_READY}`,
    );
    expect(await gitIn(cwd, 'status', '--porcelain', '--untracked-files=all')).toBe('');
  });
});

describe('pre-commit judges the staged tree as status does', () => {
  async function commitRefused(cwd: string, file: string, why: RegExp | string) {
    const head = await gitIn(cwd, 'rev-parse', 'HEAD');
    const r = await git(cwd, ['commit', '-q', '-m', 'change']);
    expect(r.exitCode, r.stderr).not.toBe(0);
    expect(r.stderr).toContain(`gastown: ${file}`);
    if (typeof why === 'string') expect(r.stderr).toContain(why);
    else expect(r.stderr).toMatch(why);
    expect(r.stderr).toContain('commit refused');
    expect(await gitIn(cwd, 'rev-parse', 'HEAD')).toBe(head);
  }

  it('refuses an event or a checkpoint over the size limit, naming it and its size', async () => {
    const cwd = await repo();
    const big = `step = "design"\nattempt = 1\nkind = "done"\nreason = "${'x'.repeat(3_000_000)}"\n`;
    writeFileSync(join(cwd, DESIGN_DONE), big);
    await gitIn(cwd, 'add', DESIGN_DONE);
    await commitRefused(cwd, DESIGN_DONE, /2\.9 MiB; files gastown reads as state are limited to 2\.0 MiB/);
    await gitIn(cwd, 'rm', '-q', '--cached', DESIGN_DONE);
    unlinkSync(join(cwd, DESIGN_DONE));
    const request = `${M1}/checkpoints/notes.md`;
    mkdirSync(join(cwd, M1, 'checkpoints'), { recursive: true });
    writeFileSync(join(cwd, request), `---\ndecision: pending\n---\n${'y'.repeat(3_000_000)}\n`);
    await gitIn(cwd, 'add', request);
    await commitRefused(cwd, request, /limited to 2\.0 MiB/);
  });

  it('refuses deleting molecule.toml, which status calls invalid', async () => {
    const cwd = await repo();
    await gitIn(cwd, 'rm', '-q', `${M1}/molecule.toml`);
    expect((await statusOf(cwd)).state).toBe('invalid');
    await commitRefused(cwd, `${M1}/molecule.toml`, /missing molecule\.toml/);
  });

  it('refuses an event for a step the formula does not have, which status calls invalid', async () => {
    const cwd = await repo();
    const stray = `${M1}/events/nosuch.1.done.toml`;
    writeFileSync(join(cwd, stray), 'step = "nosuch"\nattempt = 1\nkind = "done"\n');
    await gitIn(cwd, 'add', stray);
    const s = await statusOf(cwd);
    expect(s.state).toBe('invalid');
    const problem = s.problems.find((p) => p.file === stray);
    expect(problem?.message).toMatch(/nosuch/);
    await commitRefused(cwd, stray, problem?.message ?? '');
  });
});
