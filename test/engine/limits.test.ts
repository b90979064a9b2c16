// State files are read only when they are regular files under the size limit (docs/state.md,
// "Size and type"): a huge file, a symlink to /dev/zero or a fifo makes its molecule invalid,
// naming the file, and never crashes or hangs a command or leaves the lock behind.
import { existsSync, mkdirSync, readdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, testEnv } from '../helpers/repo.js';
import { gtOk, repoWithFormulas, type Status } from './cli.js';

const cliPath = process.env.GASTOWN_TEST_CLI ?? CLI;
const LIMIT = '2.0 MiB';
const GATED =
  'formula = "gated"\nversion = 1\n\n[[steps]]\nid = "a"\ntitle = "A"\n\n[[steps]]\nid = "b"\ntitle = "B"\nneeds = ["a"]\n\n[steps.gate]\ntype = "human"\n';

/** The CLI with a deadline: a command that would hang fails the test instead. */
async function gtTimed(cwd: string, args: string[]) {
  const r = await execa(process.execPath, [cliPath, ...args], {
    cwd,
    env: testEnv(),
    reject: false,
    extendEnv: false,
    stdin: 'ignore',
    timeout: 20_000,
    forceKillAfterDelay: 1000,
  });
  expect(r.timedOut, `gastown ${args.join(' ')} did not finish`).toBe(false);
  return r;
}

const done = (step: string) => `step = "${step}"\nattempt = 1\nkind = "done"\n`;
const lockFile = (cwd: string) => join(cwd, '.beads/.cache/lock');

interface AdvanceJson {
  problems: { molecule?: string; file?: string; message: string }[];
  written: string[];
}

describe('state file size limit', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  beforeAll(async () => {
    repo = await repoWithFormulas('beads/quick-check');
    for (const name of ['big', 'good'])
      await gtOk(repo.path, ['molecule', 'create', '--formula', 'quick-check', '--name', name]);
    await gtOk(repo.path, ['advance']);
  });
  afterAll(() => repo.cleanup());

  it('a 600 MB output makes only its molecule invalid in advance, list, status and doctor', async () => {
    const cwd = repo.path;
    mkdirSync(join(cwd, '.beads/molecules/big/outputs'));
    // Sparse: 600 MB long, nothing written.
    writeFileSync(join(cwd, '.beads/molecules/big/outputs/lint.md'), '');
    truncateSync(join(cwd, '.beads/molecules/big/outputs/lint.md'), 600 * 1024 * 1024);
    for (const name of ['big', 'good'])
      for (const s of ['lint', 'test', 'build'])
        writeFileSync(join(cwd, `.beads/molecules/${name}/events/${s}.1.done.toml`), done(s));
    const bigEvents = readdirSync(join(cwd, '.beads/molecules/big/events')).sort();
    const file = '.beads/molecules/big/outputs/lint.md';

    const adv = await gtTimed(cwd, ['advance', '--json']);
    expect(adv.exitCode, String(adv.stderr)).toBe(1);
    const result = JSON.parse(String(adv.stdout)) as AdvanceJson;
    expect(result.problems).toEqual([
      {
        molecule: 'big',
        file,
        message: `file is 600.0 MiB; files gastown reads as state are limited to ${LIMIT}`,
      },
    ]);
    expect(result.written).toEqual(['.beads/molecules/good/events/report.1.ready.toml']);
    expect(readdirSync(join(cwd, '.beads/molecules/big/events')).sort()).toEqual(bigEvents);
    expect(existsSync(lockFile(cwd))).toBe(false);

    const list = await gtTimed(cwd, ['molecule', 'list', '--json']);
    expect(list.exitCode, String(list.stderr)).toBe(0);
    const states = Object.fromEntries(
      (JSON.parse(String(list.stdout)) as { id: string; state: string }[]).map((m) => [m.id, m.state]),
    );
    expect(states).toEqual({ big: 'invalid', good: 'active' });

    const status = await gtTimed(cwd, ['molecule', 'status', 'big']);
    expect(status.exitCode).toBe(1);
    expect(status.stderr).toContain(
      `${file}: file is 600.0 MiB; files gastown reads as state are limited to ${LIMIT}`,
    );
    const good = await gtTimed(cwd, ['molecule', 'status', 'good', '--json']);
    expect(good.exitCode).toBe(0);
    expect((JSON.parse(String(good.stdout)) as Status).ready).toEqual(['report']);

    const doctor = await gtTimed(cwd, ['doctor']);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toContain(`${file}: file is 600.0 MiB`);
  });

  it('molecule create refuses an --inputs file over the limit before writing anything', async () => {
    const cwd = repo.path;
    const inputs = join(cwd, 'big-inputs.toml');
    writeFileSync(inputs, `[inputs]\nnotes = "${'x'.repeat(3 * 1024 * 1024)}"\n`);
    const before = readdirSync(join(cwd, '.beads/molecules')).sort();
    const r = await gtTimed(cwd, [
      'molecule',
      'create',
      '--formula',
      'quick-check',
      '--name',
      'huge',
      '--inputs',
      'big-inputs.toml',
    ]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      `big-inputs.toml: inputs file is 3.0 MiB; files gastown reads as state are limited to ${LIMIT}`,
    );
    expect(readdirSync(join(cwd, '.beads/molecules')).sort()).toEqual(before);
    expect(existsSync(lockFile(cwd))).toBe(false);
    // An endless device is refused after the limit, not read for ever.
    const zero = await gtTimed(cwd, [
      'molecule',
      'create',
      '--formula',
      'quick-check',
      '--name',
      'z',
      '--inputs',
      '/dev/zero',
    ]);
    expect(zero.exitCode).toBe(2);
    expect(zero.stderr).toContain(`/dev/zero: inputs file is more than ${LIMIT}`);
    expect(readdirSync(join(cwd, '.beads/molecules')).sort()).toEqual(before);
  });
});

describe('only regular files are read', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  beforeAll(async () => {
    repo = await repoWithFormulas('beads/quick-check');
    writeFileSync(join(repo.path, '.beads/formulas/gated.formula.toml'), GATED);
    for (const name of ['zero', 'pipe', 'good', 'meta'])
      await gtOk(repo.path, ['molecule', 'create', '--formula', 'quick-check', '--name', name]);
    // A human gate: advance keys these by every file's bytes, outputs included.
    for (const name of ['gzero', 'gpipe'])
      await gtOk(repo.path, ['molecule', 'create', '--formula', 'gated', '--name', name]);
    // Every molecule now has a cache entry: the next advance checks their keys.
    await gtOk(repo.path, ['advance']);
  });
  afterAll(() => repo.cleanup());

  it('a symlink to /dev/zero or a fifo in a molecule folder is reported, never followed or read', async () => {
    const cwd = repo.path;
    const mol = (id: string, rel: string) => join(cwd, '.beads/molecules', id, rel);
    for (const id of ['zero', 'pipe', 'gzero', 'gpipe']) mkdirSync(mol(id, 'outputs'));
    symlinkSync('/dev/zero', mol('zero', 'outputs/lint.md'));
    symlinkSync('/dev/zero', mol('gzero', 'outputs/a.md'));
    await execa('mkfifo', [mol('pipe', 'outputs/lint.md'), mol('gpipe', 'outputs/a.md')]);
    // A fact in the quick-check molecules so advance reads them in full, not by cached names.
    for (const id of ['zero', 'pipe', 'good'])
      writeFileSync(mol(id, 'events/lint.1.done.toml'), done('lint'));

    const adv = await gtTimed(cwd, ['advance', '--json']);
    expect(adv.exitCode, String(adv.stderr)).toBe(1);
    const result = JSON.parse(String(adv.stdout)) as AdvanceJson;
    const link =
      'a symbolic link, not a regular file: gastown reads only regular files as state and never follows links';
    const fifo =
      'a fifo, not a regular file: gastown reads only regular files as state and never follows links';
    expect(result.problems.sort((a, b) => String(a.molecule).localeCompare(String(b.molecule)))).toEqual([
      { molecule: 'gpipe', file: '.beads/molecules/gpipe/outputs/a.md', message: fifo },
      { molecule: 'gzero', file: '.beads/molecules/gzero/outputs/a.md', message: link },
      { molecule: 'pipe', file: '.beads/molecules/pipe/outputs/lint.md', message: fifo },
      { molecule: 'zero', file: '.beads/molecules/zero/outputs/lint.md', message: link },
    ]);
    expect(result.written).toEqual([]);
    expect(existsSync(lockFile(cwd))).toBe(false);

    const list = await gtTimed(cwd, ['molecule', 'list', '--json']);
    expect(list.exitCode, String(list.stderr)).toBe(0);
    const states = Object.fromEntries(
      (JSON.parse(String(list.stdout)) as { id: string; state: string }[]).map((m) => [m.id, m.state]),
    );
    expect(states).toEqual({
      good: 'active',
      gpipe: 'invalid',
      gzero: 'invalid',
      meta: 'active',
      pipe: 'invalid',
      zero: 'invalid',
    });
    for (const [id, file] of [
      ['zero', 'outputs/lint.md'],
      ['pipe', 'outputs/lint.md'],
    ] as const) {
      const status = await gtTimed(cwd, ['molecule', 'status', id]);
      expect(status.exitCode).toBe(1);
      expect(status.stderr).toContain(`.beads/molecules/${id}/${file}: a `);
    }
    await gtTimed(cwd, ['step', 'done', 'good', 'test']);
    const good = await gtTimed(cwd, ['molecule', 'status', 'good', '--json']);
    expect((JSON.parse(String(good.stdout)) as Status).progress.done).toBe(2);

    const doctor = await gtTimed(cwd, ['doctor']);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toContain(`.beads/molecules/zero/outputs/lint.md: ${link}`);
    expect(doctor.stdout).toContain(`.beads/molecules/gpipe/outputs/a.md: ${fifo}`);
    expect(existsSync(lockFile(cwd))).toBe(false);
  });

  it('a fifo as molecule.toml does not hang a cold advance', async () => {
    const cwd = repo.path;
    const meta = join(cwd, '.beads/molecules/meta/molecule.toml');
    await execa('rm', [meta]);
    await execa('mkfifo', [meta]);
    // No cache: the cold path reads a names-only molecule's molecule.toml by name.
    await execa('rm', ['-rf', join(cwd, '.beads/.cache')]);
    const adv = await gtTimed(cwd, ['advance', '--json']);
    expect(adv.exitCode, String(adv.stderr)).toBe(1);
    const result = JSON.parse(String(adv.stdout)) as AdvanceJson;
    expect(result.problems).toContainEqual({
      molecule: 'meta',
      file: '.beads/molecules/meta/molecule.toml',
      message:
        'a fifo, not a regular file: gastown reads only regular files as state and never follows links',
    });
    expect(result.problems.filter((p) => p.message.includes('missing'))).toEqual([]);
    expect(existsSync(lockFile(cwd))).toBe(false);
  });

  it('an advance that fails outright releases the lock', async () => {
    const cwd = repo.path;
    writeFileSync(join(cwd, '.beads/config.toml'), '[engine]\ncommit = "yes"\n');
    const adv = await gtTimed(cwd, ['advance']);
    expect(adv.exitCode).toBe(1);
    expect(adv.stderr).toContain('.beads/config.toml');
    expect(existsSync(lockFile(cwd))).toBe(false);
    // A config file that is a symlink is refused too, naming it, and the lock is released.
    await execa('rm', [join(cwd, '.beads/config.toml')]);
    symlinkSync('/dev/zero', join(cwd, '.beads/config.toml'));
    const linked = await gtTimed(cwd, ['advance']);
    expect(linked.exitCode).toBe(1);
    expect(linked.stderr).toContain('config.toml: a symbolic link, not a regular file');
    expect(existsSync(lockFile(cwd))).toBe(false);
  });
});
