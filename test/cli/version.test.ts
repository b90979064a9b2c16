// `gastown --version`: what it prints, and that it answers before the command table is loaded.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chunksLoaded, TABLE_CHUNK } from '../helpers/chunks.js';
import { CLI, ROOT, tempDir, testEnv } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

const released = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

/** Runs the built CLI and keeps its output byte for byte (the final newline too). */
function gastown(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env: testEnv(env), encoding: 'utf8' });
  return { exitCode: r.status, stdout: r.stdout, stderr: r.stderr };
}

function outside(): string {
  const dir = tempDir();
  cleanups.push(dir.cleanup);
  return dir.path;
}

describe('gastown --version', () => {
  it('prints the package version and exits 0, as --version and -V, in or out of a repository', () => {
    const cwd = outside();
    for (const flag of ['--version', '-V']) {
      const r = gastown([flag], cwd);
      expect(r.exitCode).toBe(0);
      expect(String(r.stdout)).toBe(`${released}\n`);
      expect(String(r.stderr)).toBe('');
    }
  });

  it('with anything else on the line, commander decides as before', () => {
    const r = gastown(['--version', '--bogus'], outside());
    // commander stops at --version wherever it stands, so the extra flag changes nothing.
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toBe(`${released}\n`);
  });

  it('answers without loading commander and the command table', () => {
    const r = gastown(['--version'], outside(), { NODE_DEBUG: 'module' });
    expect(r.exitCode).toBe(0);
    const loaded = chunksLoaded(String(r.stderr));
    expect(loaded).toContain('gastown.cjs');
    expect(loaded.filter((f) => TABLE_CHUNK.test(f))).toEqual([]);
  });
});
