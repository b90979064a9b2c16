// Hooks end to end: real git, the built CLI in the hooks, temp repositories. An agent's "done"
// commit turns into the next step before `git commit` returns, and nothing here may break git.
// The commands a test runs itself, to set up state or read it, run in the test worker.
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gastownInProcess } from '../helpers/inproc.js';
import { gitIn, run, tempDir, testEnv } from '../helpers/repo.js';
import { git, log, REVIEW_FLOW, type Repo, setRecordedNode, shinyRepo } from './helpers.js';

const repos: Repo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});
async function repo(opts: { husky?: boolean } = {}) {
  const r = await shinyRepo(opts);
  repos.push(r);
  return r.path;
}

const DONE_DESIGN = [
  'commit',
  '-q',
  '--allow-empty',
  '-m',
  'design done',
  '--trailer',
  'Gastown-Done: m1/design',
];

/** What a Gastown-Done commit for m1/design must leave: the engine commit on top, nothing else. */
async function expectEngineCommitAfter(cwd: string, r: { exitCode?: number }) {
  expect(r.exitCode).toBe(0);
  const [engine, agent] = await log(cwd, 2);
  expect(agent?.subject).toBe('design done');
  expect(agent?.author).toBe('Test Agent');
  expect(engine?.author).toBe('gastown');
  expect(engine?.subject).toMatch(/^gastown: /);
  expect(engine?.trailers).toContain('Gastown-Molecule: m1');
  expect(engine?.trailers).toContain('Gastown-Transition: m1/design done');
  expect(engine?.trailers).toContain('Gastown-Transition: m1/implement ready');
  expect(await gitIn(cwd, 'status', '--porcelain')).toBe('');
}

async function expectEngineCommitAfterDone(cwd: string) {
  const r = await git(cwd, DONE_DESIGN);
  await expectEngineCommitAfter(cwd, r);
  return r;
}

/** The git processes a traced run started (GIT_TRACE2_EVENT `trace`), each as its arguments. */
function gitStarted(trace: string): string[][] {
  return readFileSync(trace, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string; argv?: string[] })
    .filter((e) => e.event === 'start')
    .map((e) => (e.argv ?? []).slice(1));
}

describe('post-commit', () => {
  it('works the same through husky 9', async () => {
    const cwd = await repo({ husky: true });
    expect(await gitIn(cwd, 'config', 'core.hooksPath')).toBe('.husky/_');
    expect(readFileSync(join(cwd, '.husky/post-commit'), 'utf8')).toContain('# >>> gastown [created] >>>');
    await expectEngineCommitAfterDone(cwd);
  });

  it('runs in a linked worktree', async () => {
    const cwd = await repo();
    const wt = join(cwd, '..', `${cwd.split('/').pop()}-wt`);
    await gitIn(cwd, 'worktree', 'add', '-q', '-b', 'side', wt);
    try {
      await expectEngineCommitAfterDone(wt);
      // The main worktree's branch did not move.
      expect((await log(cwd, 1))[0]?.subject).toBe('start m1');
    } finally {
      await gitIn(cwd, 'worktree', 'remove', '--force', wt);
    }
  });

  it('leaves the user’s other staged changes staged and out of the engine commit', async () => {
    const cwd = await repo();
    writeFileSync(join(cwd, 'staged.txt'), 'not yet\n');
    writeFileSync(join(cwd, 'done.txt'), 'design\n');
    await gitIn(cwd, 'add', 'staged.txt', 'done.txt');
    const r = await git(cwd, [
      'commit',
      '-q',
      '-m',
      'design done',
      '--trailer',
      'Gastown-Done: m1/design',
      '--',
      'done.txt',
    ]);
    expect(r.exitCode).toBe(0);
    const [engine] = await log(cwd, 1);
    expect(engine?.author).toBe('gastown');
    const inEngine = await gitIn(cwd, 'show', '--name-only', '--format=', 'HEAD');
    expect(inEngine.split('\n').every((p) => p.startsWith('.beads/molecules/m1/'))).toBe(true);
    expect(await gitIn(cwd, 'status', '--porcelain')).toBe('A  staged.txt');
  });

  it('warns about a trailer naming an unknown molecule or step, keeps the commit, writes nothing', async () => {
    const cwd = await repo();
    for (const trailer of ['Gastown-Done: nosuch/design', 'Gastown-Done: m1/nosuch']) {
      const r = await git(cwd, ['commit', '-q', '--allow-empty', '-m', 'oops', '--trailer', trailer]);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toMatch(/gastown: warning: .*nosuch/);
      const [head] = await log(cwd, 1);
      expect(head?.subject).toBe('oops');
      expect(await gitIn(cwd, 'status', '--porcelain')).toBe('');
    }
  });

  it('with node gone from PATH and its recorded path: one warning line, git proceeds', async () => {
    const cwd = await repo();
    setRecordedNode(cwd, '/nonexistent/node');
    const bin = tempDir('gastown-bin-');
    try {
      for (const tool of ['git', 'grep', 'sed', 'cat', 'cut', 'mktemp', 'rm', 'head', 'awk', 'sleep']) {
        const found = ['/usr/bin', '/bin', '/usr/local/bin']
          .map((d) => join(d, tool))
          .find((p) => existsSync(p));
        if (found) symlinkSync(found, join(bin.path, tool));
      }
      const r = await git(cwd, DONE_DESIGN, { PATH: bin.path });
      expect(r.exitCode).toBe(0);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^gastown: post-commit skipped: node not found/);
      expect((await log(cwd, 1))[0]?.subject).toBe('design done');
    } finally {
      bin.cleanup();
    }
  });

  // One Gastown-Done commit, traced, with every program a hook may start noted: each test below
  // reads another side of the same run.
  describe('a Gastown-Done commit', () => {
    let shared: Repo;
    let cwd: string;
    let r: Awaited<ReturnType<typeof git>>;
    let started: string[][];
    let noted: string;
    beforeAll(async () => {
      shared = await shinyRepo();
      cwd = shared.path;
      const trace = join(cwd, '.git/trace2.jsonl');
      // Every other program a hook may start, noted (git puts its own folder first on PATH, which
      // holds none of these).
      const bin = tempDir('gastown-bin-');
      const notes = join(bin.path, 'started.txt');
      for (const tool of ['sleep', 'awk', 'sed', 'timeout', 'cat', 'mktemp', 'grep']) {
        const real = ['/bin', '/usr/bin'].map((d) => join(d, tool)).find((p) => existsSync(p));
        if (!real) continue;
        writeFileSync(join(bin.path, tool), `#!/bin/sh\necho ${tool} >> '${notes}'\nexec '${real}' "$@"\n`);
        chmodSync(join(bin.path, tool), 0o755);
      }
      try {
        r = await git(cwd, DONE_DESIGN, { GIT_TRACE2_EVENT: trace, PATH: `${bin.path}:${process.env.PATH}` });
        noted = existsSync(notes) ? readFileSync(notes, 'utf8') : '';
      } finally {
        bin.cleanup();
      }
      started = gitStarted(trace);
    });
    afterAll(() => shared.cleanup());

    it('turns it into an engine commit making the next step ready', async () => {
      await expectEngineCommitAfter(cwd, r);
      expect(r.stderr).toContain('gastown: m1/implement ready');
      // The molecule's folder history reads as its story.
      const history = await log(cwd, 10, 'HEAD', '.beads/molecules/m1');
      expect(history.map((h) => h.subject)).toEqual([expect.stringMatching(/^gastown: /), 'start m1']);
    });

    it('reads HEAD once: Node takes the runner’s git log instead of asking git again', async () => {
      expect(r.exitCode).toBe(0);
      expect((await log(cwd, 1))[0]?.trailers).toContain('Gastown-Transition: m1/implement ready');
      // Every git process of the commit, its hooks and the engine commit, by its arguments.
      const args = started.map((a) => a.join(' '));
      expect(args.filter((a) => a.startsWith('log '))).toHaveLength(1);
      expect(args.filter((a) => a.startsWith('rev-parse HEAD'))).toEqual([]);
      // The engine commit's commit object is written by Node, as its tree is.
      expect(args.filter((a) => a.startsWith('commit-tree '))).toEqual([]);
    });

    it('starts no watchdog process, and the engine commit writes no index', async () => {
      expect(noted).toBe('');
      expect(r.exitCode).toBe(0);
      expect((await log(cwd, 1))[0]?.trailers).toContain('Gastown-Transition: m1/implement ready');
      // What `git commit` starts by itself, hooks or not.
      const own = new Set(['commit', 'interpret-trailers', 'maintenance', 'gc']);
      const byHooks = started.map((a) => a[0] ?? '').filter((a) => !own.has(a));
      // The tree comes from one cat-file, not from an index read, updated and written; the user's
      // index follows HEAD with one update-index of the entries the tree was built from.
      expect(byHooks.filter((a) => ['read-tree', 'write-tree', 'ls-files', 'reset'].includes(a))).toEqual([]);
      expect(byHooks.filter((a) => a === 'update-index')).toHaveLength(1);
      // One cat-file reads both the molecule as of the trailer's commit and the trees the engine
      // commit changes.
      expect(byHooks.filter((a) => a === 'cat-file')).toHaveLength(1);
      // No `git status` (it reads the whole index): the engine commit compares the molecule's
      // files with the listing the at-commit view read, which is HEAD's.
      expect(byHooks.filter((a) => a === 'status' || a === 'ls-tree')).toEqual([]);
      // The runner finds the repository's folders itself: .git is a folder at the top.
      expect(byHooks.filter((a) => a === 'rev-parse')).toEqual([]);
      // pre-commit's block 1, post-commit's block 1, Node 3 (cat-file, update-ref, update-index).
      expect(byHooks.length, byHooks.join(' ')).toBeLessThanOrEqual(5);
    });
  });

  it('never starts node for a commit that touches no .beads/ file and has no trailer', async () => {
    const cwd = await repo();
    const marker = join(cwd, '.git/node-started');
    const wrapper = join(cwd, '.git/node-wrapper');
    writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> '${marker}'\nexec '${process.execPath}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    setRecordedNode(cwd, wrapper);
    writeFileSync(join(cwd, 'code.txt'), 'code\n');
    await gitIn(cwd, 'add', 'code.txt');
    expect((await git(cwd, ['commit', '-q', '-m', 'plain work'])).exitCode).toBe(0);
    await gitIn(cwd, 'checkout', '-q', '-b', 'other');
    await gitIn(cwd, 'checkout', '-q', 'main');
    expect(existsSync(marker)).toBe(false);
    // The same hooks do start it when a trailer is present.
    await expectEngineCommitAfterDone(cwd);
    expect(readFileSync(marker, 'utf8')).toContain('hook post-commit');
  });
});

describe('pre-commit and post-commit blocks', () => {
  it('starts no runner for a commit touching no .beads/ file, and both runners for one that does', async () => {
    const cwd = await repo();
    // The installed runner, made to note each start.
    const runner = join(cwd, '.git/gastown/runner.sh');
    const noted = join(cwd, '.git/runner-started');
    const text = readFileSync(runner, 'utf8');
    writeFileSync(runner, text.replace('\n', `\necho "$1" >> '${noted}'\n`));
    writeFileSync(join(cwd, 'code.txt'), 'code\n');
    await gitIn(cwd, 'add', 'code.txt');
    expect((await git(cwd, ['commit', '-q', '-m', 'plain work'])).exitCode).toBe(0);
    expect(existsSync(noted)).toBe(false);
    writeFileSync(join(cwd, '.beads/molecules/m1/notes.txt'), 'a note\n');
    await gitIn(cwd, 'add', '.beads/molecules/m1/notes.txt');
    expect((await git(cwd, ['commit', '-q', '-m', 'a note'])).exitCode).toBe(0);
    expect(readFileSync(noted, 'utf8')).toBe('pre-commit\npost-commit\n');
  });
});

describe('post-rewrite', () => {
  it('applies each transition exactly once when a rebase rewrites 5 commits with trailers', async () => {
    const cwd = await repo();
    // A user post-rewrite hook that reads the rewritten list must still get it.
    const hook = join(cwd, '.git/hooks/post-rewrite');
    const userPart = `cat > '${join(cwd, '.git/user-saw-rewrite')}'\n`;
    writeFileSync(hook, readFileSync(hook, 'utf8') + userPart);
    await gitIn(cwd, 'checkout', '-q', '-b', 'feature');
    // Made where no hook ran (web UI, CI, GASTOWN_HOOKS=0).
    for (const step of ['design', 'implement', 'review', 'test', 'submit']) {
      const r = await git(
        cwd,
        ['commit', '-q', '--allow-empty', '-m', `${step} done`, '--trailer', `Gastown-Done: m1/${step}`],
        {
          GASTOWN_HOOKS: '0',
        },
      );
      expect(r.exitCode).toBe(0);
    }
    expect((await log(cwd, 1))[0]?.subject).toBe('submit done');
    await gitIn(cwd, 'checkout', '-q', 'main');
    writeFileSync(join(cwd, 'main.txt'), 'moved on\n');
    await gitIn(cwd, 'add', 'main.txt');
    await git(cwd, ['commit', '-q', '-m', 'main moves']);
    await gitIn(cwd, 'checkout', '-q', 'feature');

    const r = await git(cwd, ['rebase', '-q', 'main']);
    expect(r.exitCode).toBe(0);
    const transitions = async () =>
      (await log(cwd, 50)).flatMap((c) => c.trailers.filter((t) => t.startsWith('Gastown-Transition:')));
    const first = await transitions();
    expect(first).toContain('Gastown-Transition: m1/submit done');
    expect(new Set(first).size).toBe(first.length);
    expect((await log(cwd, 1))[0]?.author).toBe('gastown');
    expect(readFileSync(join(cwd, '.git/user-saw-rewrite'), 'utf8').trim().split('\n')).toHaveLength(5);

    // Rebasing again replays the same trailers: nothing new is recorded.
    const again = await git(cwd, ['rebase', '-q', '--force-rebase', 'main']);
    expect(again.exitCode).toBe(0);
    expect(await transitions()).toEqual(first);
    expect(await gitIn(cwd, 'status', '--porcelain')).toBe('');
  });
});

describe('post-merge', () => {
  const states = async (cwd: string) => {
    const st = JSON.parse((await gastownInProcess(['molecule', 'status', 'm1', '--json'], cwd)).stdout) as {
      steps: { id: string; state: string; attempt: number }[];
    };
    return Object.fromEntries(st.steps.map((x) => [x.id, `${x.state}@${x.attempt}`]));
  };
  const noHooks = { GASTOWN_HOOKS: '0' };

  it('a real merge (git still keeps MERGE_HEAD while post-merge runs) applies the trailers it brought', async () => {
    const cwd = await repo();
    await gitIn(cwd, 'checkout', '-q', '-b', 'feature');
    const done = ['commit', '-q', '--allow-empty', '-m', 'design', '--trailer', 'Gastown-Done: m1/design'];
    expect((await git(cwd, done, noHooks)).exitCode).toBe(0);
    await gitIn(cwd, 'checkout', '-q', 'main');
    writeFileSync(join(cwd, 'other.txt'), 'main moves\n');
    await gitIn(cwd, 'add', 'other.txt');
    expect((await git(cwd, ['commit', '-q', '-m', 'main moves'])).exitCode).toBe(0);
    const m = await git(cwd, ['merge', '-q', '--no-ff', '--no-edit', 'feature']);
    expect(m.exitCode, m.stderr).toBe(0);
    expect(await states(cwd)).toMatchObject({ design: 'done@1', implement: 'ready@1' });
    const [engine] = await log(cwd, 1);
    expect(engine?.author).toBe('gastown');
    expect(await gitIn(cwd, 'status', '--porcelain')).toBe('');
  });

  it('a fast-forward merge that brings only trailers applies them', async () => {
    const cwd = await repo();
    await gitIn(cwd, 'checkout', '-q', '-b', 'feature');
    const done = ['commit', '-q', '--allow-empty', '-m', 'design', '--trailer', 'Gastown-Done: m1/design'];
    expect((await git(cwd, done, noHooks)).exitCode).toBe(0);
    await gitIn(cwd, 'checkout', '-q', 'main');
    const m = await git(cwd, ['merge', '-q', '--ff-only', 'feature']);
    expect(m.exitCode, m.stderr).toBe(0);
    expect(await states(cwd)).toMatchObject({ design: 'done@1', implement: 'ready@1' });
  });
});

describe('a hook stopped at its time limit', () => {
  it('leaves no fact out of history: the next engine commit takes what the stopped run wrote', async () => {
    const cwd = await repo();
    // No clock decides this test. The gate tells the hook's timer that it is running (the fact
    // before it is written by then), then holds the hook until the test releases it; the timer,
    // a stand-in for Node's setTimeout loaded into the hook, runs out exactly then.
    const started = join(cwd, '.git/gate-started');
    const release = join(cwd, '.git/gate-release');
    const once = join(cwd, '.git/gate-ran');
    const limitSeen = join(cwd, '.git/timer-limit');
    expect((await run('mkfifo', [started, release], cwd)).exitCode).toBe(0);
    const gate = [
      "const fs = require('fs');",
      'const [started, release, once] = process.argv.slice(1);',
      'if (fs.existsSync(once)) process.exit(0);',
      "fs.writeFileSync(once, '');",
      "fs.writeFileSync(started, 'running\\n');",
      'fs.readFileSync(release);',
    ].join(' ');
    writeFileSync(
      join(cwd, '.beads/formulas/slow-gate.formula.toml'),
      `formula = "slow-gate"\n\n[[steps]]\nid = "work"\n\n[[steps]]\nid = "tests"\nneeds = ["work"]\n\n[steps.gate]\ntype = "command"\nrun = [${JSON.stringify(['node', '-e', gate, started, release, once])}]\n`,
    );
    const bin = tempDir('gastown-bin-');
    // The hook's time limit is the one timer of 400 ms: it notes the limit and fires once the
    // gate has said it runs (reading the fifo in the background, so the hook goes on meanwhile).
    const timer = join(bin.path, 'timer.cjs');
    writeFileSync(
      timer,
      [
        "const fs = require('fs');",
        'const real = globalThis.setTimeout;',
        'globalThis.setTimeout = function (fn, ms, ...rest) {',
        '  if (ms !== 400) return real(fn, ms, ...rest);',
        `  fs.writeFileSync(${JSON.stringify(limitSeen)}, String(ms));`,
        '  const t = real(() => {}, 2 ** 31 - 1);',
        `  fs.readFile(${JSON.stringify(started)}, () => { clearTimeout(t); fn(...rest); });`,
        '  return t;',
        '};',
      ].join('\n'),
    );
    const config = join(cwd, '.beads/config.toml');
    const text = readFileSync(config, 'utf8');
    expect(text).toContain('hook_timeout = "5s"');
    writeFileSync(config, text.replace('hook_timeout = "5s"', 'hook_timeout = "400ms"'));
    expect(
      (await gastownInProcess(['molecule', 'create', '--formula', 'slow-gate', '--name', 'g1'], cwd))
        .exitCode,
    ).toBe(0);
    await gitIn(cwd, 'add', '-A');
    expect((await git(cwd, ['commit', '-q', '-m', 'pour g1'])).exitCode).toBe(0);

    let r: Awaited<ReturnType<typeof git>>;
    try {
      r = await git(
        cwd,
        ['commit', '-q', '--allow-empty', '-m', 'work', '--trailer', 'Gastown-Done: g1/work'],
        // The hook's time limit on (the harness keeps it off), read through the stand-in timer.
        { NODE_OPTIONS: `${testEnv().NODE_OPTIONS ?? ''} --require ${timer}`, GASTOWN_TEST_HOOK_TIMER: 'on' },
      );
    } finally {
      releaseFifo(release);
      bin.cleanup();
    }
    expect(r.exitCode).toBe(0);
    // The hook waited for the configured limit and stopped, and git went on.
    expect(readFileSync(limitSeen, 'utf8').trim()).toBe('400');
    expect(r.stderr).toContain('stopped after 0.4s (hook_timeout)');
    expect((await log(cwd, 1))[0]?.subject).toBe('work');
    // The stopped run recorded the step before the gate held it up; nothing committed that.
    expect(await gitIn(cwd, 'status', '--porcelain', '--untracked-files=all', '.beads')).toContain(
      '.beads/molecules/g1/events/work.1.done.toml',
    );
    const adv = await gastownInProcess(['advance', '--commit'], cwd);
    expect(adv.exitCode, adv.stderr).toBe(0);
    expect(await gitIn(cwd, 'status', '--porcelain', '--untracked-files=all', '.beads')).toBe('');
    expect(await gitIn(cwd, 'ls-files', '.beads/molecules/g1/events')).toContain('work.1.done.toml');
  });
});

/** Lets a reader blocked on `fifo` go on (it reads end of file); nothing to do if none waits. */
function releaseFifo(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
  }
}

describe('trailers seen again', () => {
  const trailer = (cwd: string, step: string) =>
    git(cwd, [
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      `${step} done`,
      '--trailer',
      `Gastown-Done: m1/${step}`,
    ]);
  const states = async (cwd: string) => {
    const st = JSON.parse((await gastownInProcess(['molecule', 'status', 'm1', '--json'], cwd)).stdout) as {
      steps: { id: string; state: string; attempt: number }[];
    };
    return Object.fromEntries(st.steps.map((x) => [x.id, `${x.state}@${x.attempt}`]));
  };

  it('a rebase does not complete a re-opened step with the trailers written before the re-open', async () => {
    const cwd = await repo();
    expect((await trailer(cwd, 'design')).exitCode).toBe(0);
    expect((await trailer(cwd, 'implement')).exitCode).toBe(0);
    const reopen = await gastownInProcess(
      ['step', 'reopen', 'm1', 'implement', '--reason', 'redo', '--as', 'lead'],
      cwd,
    );
    expect(reopen.exitCode).toBe(0);
    await gitIn(cwd, 'add', '-A');
    expect((await git(cwd, ['commit', '-q', '-m', 'implement re-opened'])).exitCode).toBe(0);
    expect(await states(cwd)).toMatchObject({ implement: 'ready@2', review: 'pending@2' });

    const r = await git(cwd, ['rebase', '-q', '--force-rebase', 'HEAD~5']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await states(cwd)).toMatchObject({ implement: 'ready@2', review: 'pending@2' });
    expect(await gitIn(cwd, 'status', '--porcelain')).toBe('');
  });

  it('pull --rebase: a trailer written before the re-open it is rebased onto does not complete the new attempt', async () => {
    const cwd = await repo();
    expect((await trailer(cwd, 'design')).exitCode).toBe(0);
    await gitIn(cwd, 'checkout', '-q', '-b', 'upstream');
    await gastownInProcess(['step', 'reopen', 'm1', 'design', '--reason', 'redo', '--as', 'lead'], cwd);
    await gitIn(cwd, 'add', '-A');
    expect((await git(cwd, ['commit', '-q', '-m', 'design re-opened'])).exitCode).toBe(0);
    await gitIn(cwd, 'checkout', '-q', 'main');
    // Written for attempt 1, where no hook ran, before this clone saw the re-open.
    const late = [
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'design again',
      '--trailer',
      'Gastown-Done: m1/design',
    ];
    expect((await git(cwd, late, { GASTOWN_HOOKS: '0' })).exitCode).toBe(0);
    const r = await git(cwd, ['rebase', '-q', 'upstream']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await states(cwd)).toMatchObject({ design: 'ready@2' });
    // A later catch-up sees only the rebased commit: it judges it as written, too.
    expect((await gastownInProcess(['advance'], cwd)).exitCode).toBe(0);
    expect(await states(cwd)).toMatchObject({ design: 'ready@2' });
    // So does any other clone, which never saw the rebase: the verdict was committed.
    expect(await gitIn(cwd, 'status', '--porcelain')).toBe('');
    const dir = tempDir();
    const clone = join(dir.path, 'c');
    await gitIn(dir.path, 'clone', '-q', `file://${cwd}`, clone);
    const ci = await gastownInProcess(['advance', '--ci', '--json'], clone);
    dir.cleanup();
    expect(ci.exitCode, ci.stderr).toBe(0);
    expect(JSON.parse(ci.stdout).transitions).toEqual([]);
  });

  it('a rebase keeps a trailer written on top of a re-open that it rewrites too', async () => {
    const cwd = await repo();
    expect((await trailer(cwd, 'design')).exitCode).toBe(0);
    await gitIn(cwd, 'checkout', '-q', '-b', 'upstream');
    writeFileSync(join(cwd, 'up.txt'), 'upstream moves\n');
    await gitIn(cwd, 'add', 'up.txt');
    expect((await git(cwd, ['commit', '-q', '-m', 'upstream moves'])).exitCode).toBe(0);
    await gitIn(cwd, 'checkout', '-q', 'main');
    await gastownInProcess(['step', 'reopen', 'm1', 'design', '--reason', 'redo', '--as', 'lead'], cwd);
    await gitIn(cwd, 'add', '-A');
    expect((await git(cwd, ['commit', '-q', '-m', 'design re-opened'])).exitCode).toBe(0);
    const redone = [
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'design redone',
      '--trailer',
      'Gastown-Done: m1/design',
    ];
    expect((await git(cwd, redone, { GASTOWN_HOOKS: '0' })).exitCode).toBe(0);
    expect(await states(cwd)).toMatchObject({ design: 'ready@2' });
    const r = await git(cwd, ['rebase', '-q', 'upstream']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await states(cwd)).toMatchObject({ design: 'done@2', implement: 'ready@2' });
  });

  it('a trailer from a branch that forked before the re-open does not complete the new attempt', async () => {
    const cwd = await repo();
    expect((await trailer(cwd, 'design')).exitCode).toBe(0);
    await gitIn(cwd, 'checkout', '-q', '-b', 'side');
    expect(
      (
        await git(
          cwd,
          [
            'commit',
            '-q',
            '--allow-empty',
            '-m',
            'implement on side',
            '--trailer',
            'Gastown-Done: m1/implement',
          ],
          { GASTOWN_HOOKS: '0' },
        )
      ).exitCode,
    ).toBe(0);
    await gitIn(cwd, 'checkout', '-q', 'main');
    await gastownInProcess(['step', 'start', 'm1', 'implement', '--as', 'polecat-1'], cwd);
    await gastownInProcess(['step', 'reopen', 'm1', 'implement', '--reason', 'redo', '--as', 'lead'], cwd);
    await gitIn(cwd, 'add', '-A');
    expect((await git(cwd, ['commit', '-q', '-m', 'implement re-opened'])).exitCode).toBe(0);
    expect(await states(cwd)).toMatchObject({ implement: 'ready@2' });
    // Merged by the hook (post-merge) and again by a plain advance's catch-up: neither applies it.
    const m = await git(cwd, ['merge', '-q', '--no-ff', '-m', 'merge side', 'side']);
    expect(m.exitCode, m.stderr).toBe(0);
    expect(await states(cwd)).toMatchObject({ implement: 'ready@2' });
    expect((await gastownInProcess(['advance'], cwd)).exitCode).toBe(0);
    expect(await states(cwd)).toMatchObject({ implement: 'ready@2' });
  });
});

describe('pre-commit', () => {
  it('refuses a broken formula, naming the file and the field, and commits nothing', async () => {
    const cwd = await repo();
    const file = '.beads/formulas/broken.formula.toml';
    writeFileSync(
      join(cwd, file),
      'formula = "broken"\n\n[[steps]]\nid = "a"\ntitle = "A"\n\n[[steps]]\nid = "b"\ntitle = "B"\nneeds = ["nope"]\n',
    );
    await gitIn(cwd, 'add', file);
    const r = await git(cwd, ['commit', '-q', '-m', 'add formula']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/steps\[1\]\.needs/);
    expect(r.stderr).toContain('commit refused');
    expect((await log(cwd, 1))[0]?.subject).toBe('start m1');
  });

  it('refuses a malformed checkpoint edit, naming the file and the allowed decisions', async () => {
    const cwd = await repo();
    writeFileSync(join(cwd, '.beads/formulas/review-flow.formula.toml'), REVIEW_FLOW);
    expect(
      (await gastownInProcess(['molecule', 'create', '--formula', 'review-flow', '--name', 'r1'], cwd))
        .exitCode,
    ).toBe(0);
    expect((await gastownInProcess(['step', 'done', 'r1', 'draft', '--as', 'polecat-1'], cwd)).exitCode).toBe(
      0,
    );
    const file = '.beads/molecules/r1/checkpoints/approve.md';
    const text = readFileSync(join(cwd, file), 'utf8');
    writeFileSync(join(cwd, file), text.replace(/^decision: pending/m, 'decision: maybe'));
    await gitIn(cwd, 'add', '-A');
    const r = await git(cwd, ['commit', '-q', '-m', 'decide']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`${file}:`);
    expect(r.stderr).toMatch(/decision.*pending, approved, rejected/);
    expect((await log(cwd, 1))[0]?.subject).toBe('start m1');
  });

  it('refuses unparsable TOML state, with its line', async () => {
    const cwd = await repo();
    const file = '.beads/molecules/m1/events/design.1.done.toml';
    mkdirSync(join(cwd, '.beads/molecules/m1/events'), { recursive: true });
    writeFileSync(join(cwd, file), 'step = "design"\nattempt = = 1\n');
    await gitIn(cwd, 'add', file);
    const r = await git(cwd, ['commit', '-q', '-m', 'bad state']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`${file}:2`);
  });

  it('lets a commit through when the staged .beads/ files are valid', async () => {
    const cwd = await repo();
    const events = readdirSync(join(cwd, '.beads/molecules/m1/events'));
    expect(events.length).toBeGreaterThan(0);
    writeFileSync(join(cwd, '.beads/formulas/README.md'), 'notes\n');
    await gitIn(cwd, 'add', '-A');
    expect((await git(cwd, ['commit', '-q', '-m', 'docs'])).exitCode).toBe(0);
  });
});
