// What a short command loads before it answers: `--version` only the entry and the `base` chunk,
// and a warm `formula validate` neither node:crypto (~20 M instructions with the streams it
// loads) nor the resolver. Each load is part of every run's start-up.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chunksLoaded } from '../helpers/chunks.js';
import { CLI, CORPUS, tempDir, testEnv } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

function scratch(): string {
  const dir = tempDir('gastown-startup-');
  cleanups.push(dir.cleanup);
  return dir.path;
}

/** Runs the CLI and reports the bundle files and node built-ins it loaded. */
function loads(args: string[], cwd: string, env: Record<string, string> = {}) {
  const probe = join(cwd, 'builtins.cjs');
  writeFileSync(
    probe,
    "process.on('exit', () => require('node:fs').writeSync(2, 'BUILTINS ' + JSON.stringify(process.moduleLoadList) + '\\n'));\n",
  );
  const r = spawnSync(process.execPath, ['--require', probe, CLI, ...args], {
    cwd,
    env: testEnv({ ...env, NODE_DEBUG: 'module' }),
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  const line = r.stderr.split('\n').find((l) => l.startsWith('BUILTINS ')) as string;
  const builtins = (JSON.parse(line.slice('BUILTINS '.length)) as string[])
    .filter((m) => m.startsWith('NativeModule '))
    .map((m) => m.slice('NativeModule '.length));
  return { stdout: r.stdout, chunks: chunksLoaded(r.stderr), builtins };
}

describe('start-up of short commands', () => {
  it('--version loads the entry and the base chunk only', () => {
    const { chunks } = loads(['--version'], scratch());
    expect(chunks.filter((f) => !/^chunks[\\/](base|rolldown-runtime)-/.test(f))).toEqual(['gastown.cjs']);
  });

  it('a warm formula validate loads neither node:crypto nor the resolver', () => {
    const cwd = scratch();
    const dirs = ['gastown', 'beads'].map((d) => join(CORPUS, d));
    const files = dirs.flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith('.formula.toml'))
        .map((f) => join(d, f)),
    );
    const env = { GASTOWN_FORMULA_PATH: dirs.join(':'), GASTOWN_CACHE_DIR: join(cwd, 'cache') };
    const cold = loads(['formula', 'validate', ...files], cwd, env);
    expect(cold.builtins).toContain('crypto');
    const warm = loads(['formula', 'validate', ...files], cwd, env);
    expect(warm.stdout).toBe(cold.stdout);
    expect(warm.builtins).not.toContain('crypto');
    expect(warm.chunks.filter((f) => /^chunks[\\/]resolve-/.test(f))).toEqual([]);
  });
});
