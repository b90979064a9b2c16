// Bad input changes nothing: corrupted state files, bad ids, existing molecules, a held lock.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitIn } from '../helpers/repo.js';
import { gt, gtJson, gtOk, inProcess, repoWithFormulas, type Status, treeHash } from './cli.js';

describe('bad input', () => {
  // The CLI runs in this process; the lock below is held by another process, for the built CLI.
  const { gt, gtJson, gtOk } = inProcess;
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  beforeAll(async () => {
    repo = await repoWithFormulas('beads/quick-check');
    for (const name of ['good', 'broken'])
      await gtOk(repo.path, ['molecule', 'create', '--formula', 'quick-check', '--name', name]);
  });
  afterAll(() => repo.cleanup());

  it('a hand-corrupted state file is named with its field; other molecules keep working; nothing is rewritten', async () => {
    const cwd = repo.path;
    const file = join(cwd, '.beads/molecules/broken/events/lint.1.ready.toml');
    writeFileSync(file, 'step = "lint"\nattempt = 1\nkind = "ready"\nassignee = 7\n');
    writeFileSync(
      join(cwd, '.beads/molecules/good/events/lint.1.done.toml'),
      'step = "lint"\nattempt = 1\nkind = "done"\n',
    );
    const corrupted = readFileSync(file, 'utf8');

    const status = await gt(cwd, ['molecule', 'status', 'broken']);
    expect(status.exitCode).toBe(1);
    expect(status.stderr).toContain(
      '.beads/molecules/broken/events/lint.1.ready.toml: assignee: `assignee` must be a string, found number 7',
    );

    const before = await treeHash(cwd);
    const adv = await gt(cwd, ['advance', '--json']);
    expect(adv.exitCode).toBe(1);
    const result = JSON.parse(String(adv.stdout)) as {
      problems: { molecule?: string; file?: string; message: string }[];
      written: string[];
    };
    expect(result.problems).toEqual([
      {
        molecule: 'broken',
        file: '.beads/molecules/broken/events/lint.1.ready.toml',
        message: 'assignee: `assignee` must be a string, found number 7',
      },
    ]);
    expect(result.written).toEqual([]);
    expect(await treeHash(cwd)).toBe(before);
    expect(readFileSync(file, 'utf8')).toBe(corrupted);
    // The good molecule still works.
    await gtOk(cwd, ['step', 'done', 'good', 'test']);
    const good = await gtJson<Status>(cwd, ['molecule', 'status', 'good']);
    expect(good.progress.done).toBe(2);

    writeFileSync(
      join(cwd, '.beads/molecules/broken/molecule.toml'),
      'id = "broken"\nformula = "quick-check"\n',
    );
    const meta = await gt(cwd, ['molecule', 'status', 'broken']);
    expect(meta.stderr).toContain(
      '.beads/molecules/broken/molecule.toml: formula_hash: missing required field `formula_hash`',
    );
    const toml = join(cwd, '.beads/config.toml');
    writeFileSync(toml, '[engine]\ncommit = "yes"\n');
    const cfg = await gt(cwd, ['advance']);
    expect(cfg.exitCode).toBe(1);
    expect(cfg.stderr).toContain('.beads/config.toml: engine.commit: `engine.commit` must be true or false');
    writeFileSync(toml, '[engine]\ncommit = false\n[notifications]\nroute = "mail"\n');
    expect((await gt(cwd, ['molecule', 'status', 'good'])).exitCode).toBe(0);
  });

  it('rejects bad ids, unknown formulas and existing molecules without writing anything', async () => {
    const cwd = repo.path;
    await gitIn(cwd, 'add', '-A');
    const before = await treeHash(cwd);
    for (const name of ['../escape', 'a/b', 'Upper', '-x', '']) {
      const r = await gt(cwd, ['molecule', 'create', '--formula', 'quick-check', '--name', name]);
      expect(r.exitCode, name).toBe(2);
      expect(r.stderr).toContain('invalid molecule name');
    }
    const dup = await gt(cwd, ['molecule', 'create', '--formula', 'quick-check', '--name', 'good']);
    expect(dup.exitCode).toBe(1);
    expect(dup.stderr).toContain('molecule good already exists');
    const unknown = await gt(cwd, ['molecule', 'create', '--formula', 'no-such-formula', '--name', 'x1']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('no-such-formula');
    const badStep = await gt(cwd, ['step', 'done', 'good', '../../x']);
    expect(badStep.exitCode).toBe(2);
    expect(await treeHash(cwd)).toBe(before);
    expect(existsSync(join(cwd, '.beads/molecules/x1'))).toBe(false);
  });
});

describe('the lock', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  let holder: ChildProcess | undefined;
  beforeAll(async () => {
    repo = await repoWithFormulas('beads/quick-check');
    await gtOk(repo.path, ['molecule', 'create', '--formula', 'quick-check', '--name', 'qc']);
  });
  afterAll(() => {
    holder?.kill('SIGKILL');
    repo.cleanup();
  });

  it('a live holder makes advance exit 3 naming its pid; once it is gone the lock is taken over', async () => {
    const cwd = repo.path;
    // A child process that holds the lock (the documented file format) until stdin closes.
    const script = `const fs=require('fs');fs.writeFileSync(process.argv[1],JSON.stringify({pid:process.pid,host:require('os').hostname(),started:new Date().toISOString()}));process.stdout.write('held\\n');process.stdin.resume();`;
    holder = spawn(process.execPath, ['-e', script, join(cwd, '.beads/.cache/lock')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => holder?.stdout?.once('data', () => resolve()));
    writeFileSync(
      join(cwd, '.beads/molecules/qc/events/lint.1.done.toml'),
      'step = "lint"\nattempt = 1\nkind = "done"\n',
    );
    const before = await treeHash(cwd);
    const busy = await gt(cwd, ['advance', '--lock-wait', '100']);
    expect(busy.exitCode).toBe(3);
    expect(busy.stderr).toContain(`pid ${holder.pid}`);
    expect(await treeHash(cwd)).toBe(before);
    const step = await gt(cwd, ['step', 'done', 'qc', 'test'], { GASTOWN_LOCK_WAIT_MS: '100' });
    expect(step.exitCode).toBe(3);

    // The holder dies without cleaning up: its lock is stale and is taken over.
    const exited = new Promise((resolve) => holder?.once('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    await gtOk(cwd, ['advance']);
    expect(existsSync(join(cwd, '.beads/.cache/lock'))).toBe(false);
  });

  it('two advances at once: each file is written exactly once', async () => {
    const cwd = repo.path;
    for (const name of ['p1', 'p2', 'p3']) {
      await gtOk(cwd, ['molecule', 'create', '--formula', 'quick-check', '--name', name]);
      for (const s of ['lint', 'test', 'build']) {
        writeFileSync(
          join(cwd, `.beads/molecules/${name}/events/${s}.1.done.toml`),
          `step = "${s}"\nattempt = 1\nkind = "done"\n`,
        );
      }
    }
    const [x, y] = await Promise.all([
      gtJson<{ written: string[] }>(cwd, ['advance']),
      gtJson<{ written: string[] }>(cwd, ['advance']),
    ]);
    const all = [...x.written, ...y.written].sort();
    expect(all).toEqual([...new Set(all)]);
    expect(all).toEqual(['p1', 'p2', 'p3'].map((m) => `.beads/molecules/${m}/events/report.1.ready.toml`));
  });
});
