// Links and odd entries under .beads/: nothing is followed for a write or a delete, a link in a
// molecule's place makes that molecule invalid (the others go on), and status, doctor and
// advance alike report what is not a regular file in events/ and a fact name no number can hold.
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, gitIn, makeRepo, tempDir } from '../helpers/repo.js';
import { git } from '../triggers/helpers.js';
import { inProcess } from './cli.js';

// Rules and output only: the CLI runs in this worker (test/helpers/inproc.ts).
const { gt, gtOk } = inProcess;

/** Every file under `dir` with its bytes: "nothing changed" made checkable. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, `${rel}${name}/`);
      else out.push(`${rel}${name} ${st.isFile() ? readFileSync(p, 'utf8') : '(not a file)'}`);
    }
  };
  walk(dir, '');
  return out;
}

const STACK = /\n\s+at .*:\d+/;

describe('links and odd entries under .beads/', () => {
  let repo: Awaited<ReturnType<typeof makeRepo>>;
  let outside: ReturnType<typeof tempDir>;
  let cwd: string;
  const mol = (id: string, rel = '') => join(cwd, '.beads/molecules', id, rel);
  const done = (id: string, step: string, attempt = 1) =>
    writeFileSync(
      mol(id, `events/${step}.${attempt}.done.toml`),
      `step = "${step}"\nattempt = ${attempt}\nkind = "done"\n`,
    );

  beforeAll(async () => {
    repo = await makeRepo();
    cwd = repo.path;
    outside = tempDir('gastown-outside-');
    await gtOk(cwd, ['init']);
    cpSync(
      join(CORPUS, 'beads/quick-check.formula.toml'),
      join(cwd, '.beads/formulas/quick-check.formula.toml'),
    );
    for (const id of ['m1', 'm2', 'm3', 'm4', 'done1'])
      await gtOk(cwd, ['molecule', 'create', '--formula', 'quick-check', '--name', id]);
    for (const step of ['lint', 'test', 'build', 'report']) await gtOk(cwd, ['step', 'done', 'done1', step]);
    await gitIn(cwd, 'add', '-A');
    await gitIn(cwd, 'commit', '-q', '-m', 'start');
  });
  afterAll(() => {
    repo.cleanup();
    outside.cleanup();
  });

  it('a molecule folder linked outside: step, advance, cancel and squash write and delete nothing there; pre-commit and doctor refuse the link', async () => {
    // Copies of real molecules outside the repository, each behind a link named like a molecule.
    for (const [from, to] of [
      ['m1', 'victim'],
      ['done1', 'finished'],
    ] as const) {
      cpSync(mol(from), join(outside.path, to), { recursive: true });
      const meta = join(outside.path, to, 'molecule.toml');
      writeFileSync(meta, readFileSync(meta, 'utf8').replace(`id = "${from}"`, `id = "${to}"`));
      symlinkSync(join(outside.path, to), mol(to));
    }
    const before = snapshot(outside.path);
    expect(before.some((f) => f.startsWith('finished/events/report.1.done.toml'))).toBe(true);

    for (const args of [
      ['step', 'done', 'victim', 'lint'],
      ['step', 'start', 'victim', 'test'],
      ['advance'],
      ['molecule', 'cancel', 'victim'],
      ['molecule', 'squash', 'finished'],
    ]) {
      const r = await gt(cwd, args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/\.beads\/molecules\/(victim|finished): a symbolic link/);
      expect(r.stderr).not.toMatch(STACK);
    }
    expect(snapshot(outside.path)).toEqual(before);

    const status = await gt(cwd, ['molecule', 'status', 'victim', '--json']);
    expect(status.exitCode).toBe(1);
    expect(JSON.parse(String(status.stdout)).state).toBe('invalid');
    const doctor = await gt(cwd, ['doctor']);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(/error\s+files\s+\.beads\/molecules\/victim: a symbolic link/);

    // pre-commit refuses to commit a link there (git mode 120000).
    await gitIn(cwd, 'add', '.beads/molecules/victim');
    const commit = await git(cwd, ['commit', '-q', '-m', 'a link']);
    expect(commit.exitCode).not.toBe(0);
    expect(commit.stderr).toContain('.beads/molecules/victim: a symbolic link, not a regular file');
    expect(await gitIn(cwd, 'log', '-1', '--format=%s')).toBe('start');
    await gitIn(cwd, 'reset', '-q');

    // burn removes the link itself, never what it points to.
    await gtOk(cwd, ['molecule', 'burn', 'victim']);
    await gtOk(cwd, ['molecule', 'burn', 'finished']);
    expect(existsSync(mol('victim'))).toBe(false);
    expect(snapshot(outside.path)).toEqual(before);
  });

  it('a linked .beads/, .beads/molecules/ or .beads/.cache/: every command that writes refuses, naming it', async () => {
    for (const rel of ['.beads/molecules', '.beads/.cache', '.beads']) {
      const real = join(cwd, rel);
      const away = join(outside.path, rel.replaceAll('/', '_'));
      if (!existsSync(real)) mkdirSync(real);
      renameSync(real, away);
      symlinkSync(away, real);
      // A lock left by a dead process (pid above Linux's pid_max): doctor --fix must not touch it.
      const planted = rel === '.beads/.cache' ? join(away, 'lock') : undefined;
      if (planted)
        writeFileSync(planted, JSON.stringify({ pid: 4194305, host: hostname(), started: '2026-01-01' }));
      const before = snapshot(away);
      for (const args of [
        ['step', 'done', 'm2', 'lint'],
        ['advance'],
        ['molecule', 'create', '--formula', 'quick-check', '--name', 'm9'],
      ]) {
        const r = await gt(cwd, args);
        expect(r.exitCode, `${rel}: ${args.join(' ')}`).toBe(1);
        expect(r.stderr).toContain(`${rel}: a symbolic link: gastown never writes or deletes through a link`);
        expect(r.stderr).not.toMatch(STACK);
      }
      // Commands that write no state still keep their caches out of a linked folder (a formula
      // not validated before, so its result is not cached yet).
      const probe = `probe-${rel.replaceAll(/[./]/g, '')}`;
      writeFileSync(join(cwd, `${probe}.formula.toml`), `formula = "${probe}"\n[[steps]]\nid = "a"\n`);
      const validate = await gt(cwd, ['formula', 'validate', `${probe}.formula.toml`]);
      expect(validate.exitCode, rel).toBe(0);
      rmSync(join(cwd, `${probe}.formula.toml`));
      const doctor = await gt(cwd, ['doctor', '--fix']);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout).toContain(`${rel}: a symbolic link`);
      expect(snapshot(away), rel).toEqual(before);
      if (planted) rmSync(planted);
      rmSync(real);
      renameSync(away, real);
    }
    await gtOk(cwd, ['step', 'done', 'm2', 'lint']);
  });

  it('molecule create over a dangling link: a clear error, nothing made, and later advances go on with the other molecules', async () => {
    symlinkSync(join(outside.path, 'newm'), mol('newm'));
    const create = await gt(cwd, ['molecule', 'create', '--formula', 'quick-check', '--name', 'newm']);
    expect(create.exitCode).toBe(1);
    expect(create.stderr).toContain(
      '.beads/molecules/newm: molecule newm cannot be created: its folder is a symbolic link',
    );
    expect(create.stderr).not.toMatch(STACK);
    expect(existsSync(join(outside.path, 'newm'))).toBe(false);
    expect(lstatSync(mol('newm')).isSymbolicLink()).toBe(true);

    for (const step of ['lint', 'test', 'build']) done('m3', step);
    const adv = await gt(cwd, ['advance', '--json']);
    expect(adv.exitCode).toBe(1);
    const result = JSON.parse(String(adv.stdout)) as {
      written: string[];
      problems: { molecule?: string; file?: string; message: string }[];
    };
    expect(result.written).toContain('.beads/molecules/m3/events/report.1.ready.toml');
    expect(result.problems).toEqual([
      expect.objectContaining({ molecule: 'newm', file: '.beads/molecules/newm' }),
    ]);
    expect(result.problems[0]?.message).toMatch(/^a symbolic link: gastown never writes/);
    rmSync(mol('newm'));
  });

  it('a folder, fifo or link in events/ is a problem naming it, for status, doctor and advance alike', async () => {
    const { execFileSync } = await import('node:child_process');
    const cases: [string, () => void][] = [
      ['events/test.1.done.toml', () => mkdirSync(mol('m4', 'events/test.1.done.toml'))],
      ['events/build.1.done.toml', () => execFileSync('mkfifo', [mol('m4', 'events/build.1.done.toml')])],
      ['events/lint.1.done.toml', () => symlinkSync('/nonexistent', mol('m4', 'events/lint.1.done.toml'))],
    ];
    for (const [rel, make] of cases) {
      make();
      const file = `.beads/molecules/m4/${rel}`;
      const status = await gt(cwd, ['molecule', 'status', 'm4']);
      expect(status.exitCode, rel).toBe(1);
      expect(status.stderr).toContain(`${file}: a`);
      const doctor = await gt(cwd, ['doctor']);
      expect(doctor.exitCode, rel).toBe(1);
      expect(doctor.stdout).toContain(file);
      const adv = await gt(cwd, ['advance']);
      expect(adv.exitCode, rel).toBe(1);
      expect(adv.stderr).toContain(file);
      const step = await gt(cwd, ['step', 'done', 'm4', rel.split('/')[1]?.split('.')[0] as string]);
      expect(step.exitCode, rel).toBe(1);
      expect(step.stderr).toContain(file);
      expect(step.stderr).not.toMatch(STACK);
      rmSync(mol('m4', rel), { recursive: true });
    }
  });

  it('an attempt above the bound is no fact: the molecule is invalid, naming the file, and nothing is acted on', async () => {
    await gtOk(cwd, ['molecule', 'create', '--formula', 'quick-check', '--name', 'big']);
    const name = 'lint.99999999999999999999.reopened.toml';
    writeFileSync(
      mol('big', `events/${name}`),
      'step = "lint"\nattempt = 99999999999999999999\nkind = "reopened"\n',
    );
    const file = `.beads/molecules/big/events/${name}`;
    const adv = await gt(cwd, ['advance']);
    expect(adv.exitCode).toBe(1);
    expect(adv.stderr).toContain(`${file}: attempt 99999999999999999999 is over the limit`);
    expect(readdirSync(mol('big', 'events')).sort()).toEqual(
      ['build.1.ready.toml', name, 'lint.1.ready.toml', 'test.1.ready.toml'].sort(),
    );
    const status = await gt(cwd, ['molecule', 'status', 'big', '--json']);
    expect(JSON.parse(String(status.stdout)).state).toBe('invalid');
    const doctor = await gt(cwd, ['doctor']);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(new RegExp(`error\\s+files\\s+${file.replaceAll('.', '\\.')}`));
    rmSync(mol('big', `events/${name}`));
  });
});
