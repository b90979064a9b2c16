// `.beads-template/` ships in the npm package (npm drops files named `.gitignore`, so the
// template keeps it as `gitignore`) and `gastown init` restores the dot.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { destinationName, readTemplate } from '../../src/triggers/init.js';
import { gastown, gitIn, makeRepo, ROOT, testEnv } from '../helpers/repo.js';

const TEMPLATE = join(ROOT, '.beads-template');

function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(`${p}\0${readFileSync(p, 'utf8')}\0`);
    }
  };
  walk(dir);
  return h.digest('hex');
}

describe('the .beads template', () => {
  it('holds no file npm would leave out, and maps `gitignore` to `.gitignore`', () => {
    const names: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        names.push(e.name);
        if (e.isDirectory()) walk(join(d, e.name));
      }
    };
    walk(TEMPLATE);
    expect(names.filter((n) => n === '.gitignore' || n === '.npmignore')).toEqual([]);
    expect(destinationName('gitignore')).toBe('.gitignore');
    expect(destinationName('config.toml')).toBe('config.toml');
    expect(readTemplate(TEMPLATE).map((f) => f.rel)).toEqual([
      '.gitignore',
      'config.toml',
      'formulas/README.md',
    ]);
  });

  it('is in the package npm would publish', async () => {
    const r = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      env: testEnv(),
      extendEnv: false,
    });
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        '.beads-template/gitignore',
        '.beads-template/config.toml',
        '.beads-template/formulas/README.md',
      ]),
    );
  });
});

describe('gastown init', () => {
  const repos: { cleanup(): void }[] = [];
  afterEach(() => {
    for (const r of repos.splice(0)) r.cleanup();
  });

  it('writes .beads/.gitignore from the template, and a second run changes nothing', async () => {
    const repo = await makeRepo();
    repos.push(repo);
    const first = await gastown(['init', '--hooks', 'none'], repo.path);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain('created .beads/.gitignore');
    expect(readFileSync(join(repo.path, '.beads/.gitignore'), 'utf8')).toBe(
      readFileSync(join(TEMPLATE, 'gitignore'), 'utf8'),
    );
    expect(existsSync(join(repo.path, '.beads/gitignore'))).toBe(false);
    // The cache is ignored by the template's file alone.
    expect(await gitIn(repo.path, 'check-ignore', '.beads/.cache/lock')).toBe('.beads/.cache/lock');

    const before = treeHash(join(repo.path, '.beads'));
    const second = await gastown(['init', '--hooks', 'none'], repo.path);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain('already initialised: nothing changed');
    expect(treeHash(join(repo.path, '.beads'))).toBe(before);
  });
});
