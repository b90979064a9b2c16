// init, hooks install/uninstall/status: existing hooks are chained and keep running, a second
// run changes nothing, uninstall gives back every hook file byte for byte. `init` runs in the test
// worker, `hooks` as the built CLI; the hooks installed run the built CLI when git commits.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gastownInProcess } from '../helpers/inproc.js';
import { gastown, gitIn, makeRepo } from '../helpers/repo.js';
import { git } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
async function repo() {
  const r = await makeRepo();
  cleanups.push(r.cleanup);
  return r.path;
}

/** Every file under `dir` with its bytes and mode. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else
        out[p] =
          `${(statSync(join(dir, p)).mode & 0o777).toString(8)} ${readFileSync(join(dir, p), 'base64')}`;
    }
  };
  walk('');
  return out;
}

function writeHook(dir: string, name: string, text: string, mode = 0o755) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), text);
  chmodSync(join(dir, name), mode);
}

describe('gastown init', () => {
  it('creates .beads/ from the template with the cache ignored, and a second run changes nothing', async () => {
    const cwd = await repo();
    const first = await gastownInProcess(['init', '--json'], cwd);
    expect(first.exitCode).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.created).toEqual(['.beads/.gitignore', '.beads/config.toml', '.beads/formulas/README.md']);
    expect(report.hooks.mode).toBe('native');
    expect(await gitIn(cwd, 'check-ignore', '.beads/.cache/lock')).toBe('.beads/.cache/lock');
    const before = { beads: snapshot(join(cwd, '.beads')), git: snapshot(join(cwd, '.git/hooks')) };
    const second = await gastownInProcess(['init'], cwd);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain('already initialised: nothing changed');
    expect({ beads: snapshot(join(cwd, '.beads')), git: snapshot(join(cwd, '.git/hooks')) }).toEqual(before);
  });

  it('never overwrites an existing file and ignores the cache when the user’s .gitignore did not', async () => {
    const cwd = await repo();
    mkdirSync(join(cwd, '.beads'));
    writeFileSync(join(cwd, '.beads/config.toml'), '[engine]\ncommit = false\n');
    writeFileSync(join(cwd, '.beads/.gitignore'), 'mine');
    const r = await gastownInProcess(['init', '--hooks', 'none'], cwd);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(cwd, '.beads/config.toml'), 'utf8')).toBe('[engine]\ncommit = false\n');
    expect(readFileSync(join(cwd, '.beads/.gitignore'), 'utf8')).toMatch(/^mine\n.*\n\.cache\/\n$/s);
    expect(await gitIn(cwd, 'check-ignore', '.beads/.cache/x')).toBe('.beads/.cache/x');
    expect(existsSync(join(cwd, '.git/hooks/post-commit'))).toBe(false);
  });

  it('--dry-run changes nothing', async () => {
    const cwd = await repo();
    const before = snapshot(join(cwd, '.git/hooks'));
    const r = await gastownInProcess(['init', '--dry-run'], cwd);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('would create .beads/config.toml');
    expect(existsSync(join(cwd, '.beads'))).toBe(false);
    expect(snapshot(join(cwd, '.git/hooks'))).toEqual(before);
  });

  it('fails outside a git repository with a clear message and no stack', async () => {
    const dir = await repo();
    const outside = join(dir, '.git'); // inside .git there is no working tree
    const r = await gastownInProcess(['init'], outside);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error: not inside a git working tree/);
    expect(r.stderr).not.toContain('    at ');
  });
});

describe('gastown hooks', () => {
  it('chains existing hooks (which keep running) and uninstall restores every file byte for byte', async () => {
    const cwd = await repo();
    const hooks = join(cwd, '.git/hooks');
    writeHook(
      hooks,
      'post-commit',
      `#!/bin/sh\necho "user post-commit ran" >> '${join(cwd, '.git/user.log')}'\nexit 0\n`,
    );
    writeHook(
      hooks,
      'pre-commit',
      `#!/usr/bin/env node\nrequire('fs').appendFileSync('${join(cwd, '.git/user.log')}', 'user pre-commit ran\\n')\n`,
    );
    writeHook(hooks, 'post-merge', '#!/bin/sh\necho disabled\n', 0o644);
    writeHook(hooks, 'post-checkout', '#!/bin/sh'); // no final newline
    const before = snapshot(hooks);

    const r = await gastownInProcess(['init'], cwd);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('post-merge exists but is not executable');
    expect(readFileSync(join(hooks, 'post-commit'), 'utf8')).toContain('# >>> gastown [chained] >>>');
    expect(existsSync(join(hooks, 'pre-commit.gastown-chained'))).toBe(true);

    await gitIn(cwd, 'commit', '-q', '--allow-empty', '-m', 'user work');
    expect(readFileSync(join(cwd, '.git/user.log'), 'utf8')).toBe(
      'user pre-commit ran\nuser post-commit ran\n',
    );

    const status = JSON.parse((await gastown(['hooks', 'status', '--json'], cwd)).stdout);
    expect(status.mode).toBe('native');
    expect(
      status.hooks.filter((h: { installed: boolean }) => h.installed).map((h: { hook: string }) => h.hook),
    ).toEqual(['pre-commit', 'post-commit', 'post-rewrite', 'post-checkout']);

    const u = await gastown(['hooks', 'uninstall'], cwd);
    expect(u.exitCode).toBe(0);
    expect(snapshot(hooks)).toEqual(before);
    expect(existsSync(join(cwd, '.git/gastown'))).toBe(false);
  });

  it('installs into core.hooksPath and uninstalls from there', async () => {
    const cwd = await repo();
    await gitIn(cwd, 'config', 'core.hooksPath', 'githooks');
    writeHook(join(cwd, 'githooks'), 'post-commit', '#!/bin/sh\necho team hook\n');
    const before = snapshot(join(cwd, 'githooks'));
    expect((await gastown(['hooks', 'install', '--json'], cwd)).exitCode).toBe(0);
    expect(readFileSync(join(cwd, 'githooks/pre-commit'), 'utf8')).toContain('# >>> gastown [created] >>>');
    const c = await git(cwd, ['commit', '-q', '--allow-empty', '-m', 'x']);
    expect(c.stdout + c.stderr).toContain('team hook');
    expect((await gastown(['hooks', 'status'], cwd)).exitCode).toBe(0);
    await gastown(['hooks', 'uninstall'], cwd);
    expect(snapshot(join(cwd, 'githooks'))).toEqual(before);
    expect((await gastown(['hooks', 'status'], cwd)).exitCode).toBe(1);
  });
});
