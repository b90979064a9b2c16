// What a short command loads before it answers: `--version` only the entry and the `base` chunk,
// a warm `formula validate` neither node:crypto (~20 M instructions with the streams it loads)
// nor the resolver, a warm `convoy show` and a `patrol` with nothing due neither the engine nor
// the mail code. Each load is part of every run's start-up.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AT_COMMIT_TIME, convoyRepo } from '../convoy/helpers.js';
import { gtOk } from '../engine/cli.js';
import { chunksLoaded } from '../helpers/chunks.js';
import { CLI, CORPUS, commitAll, tempDir, testEnv } from '../helpers/repo.js';

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
  return { stdout: r.stdout, stderr: r.stderr, chunks: chunksLoaded(r.stderr), builtins };
}

/** A chunk's name without its content hash (`chunks/quick-AbCd1234.cjs` → `quick`). */
const chunkNames = (files: string[]) =>
  files.map((f) => f.replace(/^chunks[\\/]/, '').replace(/-[A-Za-z0-9_-]{8}\.cjs$/, '')).sort();

// A member without a gate: a gated member's view is judged with git's facts and never cached.
const PLAIN = 'formula = "plain"\nversion = 1\n\n[[steps]]\nid = "a"\ntitle = "First"\n';
const STAMPED = { ...AT_COMMIT_TIME, GASTOWN_STAMP_WINDOW_MS: '0' };

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

describe('start-up of convoy show and patrol', () => {
  let repo: Awaited<ReturnType<typeof convoyRepo>>;
  beforeAll(async () => {
    repo = await convoyRepo();
    const cwd = repo.path;
    writeFileSync(join(cwd, '.beads/formulas/plain.formula.toml'), PLAIN);
    await gtOk(cwd, ['convoy', 'create', 'c', '--name', 'Plain', '--owner', '@jgil']);
    await gtOk(cwd, ['molecule', 'create', '--formula', 'plain', '--name', 'p1', '--convoy', 'c'], STAMPED);
    await commitAll(cwd, 'a convoy of one');
    // Fill and stamp the caches, as earlier runs would have (patrol's head and the convoy's view
    // are kept whole by the runs after the caches answered).
    for (let i = 0; i < 3; i++) {
      await gtOk(cwd, ['convoy', 'show', 'c'], STAMPED);
      await gtOk(cwd, ['patrol', '--no-commit'], STAMPED);
    }
  });
  afterAll(() => repo.cleanup());

  it('a warm convoy show loads neither the engine, the mail code nor the convoy reader', () => {
    const show = loads(['convoy', 'show', 'c'], repo.path, { ...STAMPED, GASTOWN_TRACE: 'convoy' });
    expect(show.stdout).toContain('p1');
    expect(show.stderr).toContain('gastown: trace convoy kept');
    expect(chunkNames(show.chunks)).toEqual(['base', 'convoy', 'gastown.cjs', 'quick', 'rolldown-runtime']);
  });

  it('a patrol with nothing due loads neither the engine, the mail code, the escalation store nor the convoy reader', () => {
    const patrol = loads(['patrol', '--no-commit'], repo.path, { ...STAMPED, GASTOWN_TRACE: 'patrol' });
    expect(patrol.stdout).toContain('nothing to do');
    expect(patrol.stderr).toContain('gastown: trace patrol head');
    expect(chunkNames(patrol.chunks)).toEqual([
      'actor',
      'base',
      'gastown.cjs',
      'mail-address',
      'model',
      'patrol',
      'quick',
      'rolldown-runtime',
      'store-config',
    ]);
  });
});
