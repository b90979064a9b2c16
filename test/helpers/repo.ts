// Real temporary git repositories with a fixed identity, and the built CLI as a child process.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa, type Options } from 'execa';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where this run keeps its repository templates (test/helpers/template.ts). */
    gastownTemplates: string;
    /** Stand-ins put first on PATH for every process a test starts (test/global-setup.ts). */
    /** Where the processes tests start keep V8's code cache of dist/ (compile-cache.cjs). */
    gastownCompileCache: string;
  }
}

/** What the run's global setup (test/global-setup.ts) provides; undefined outside such a run. */
export function provided(key: 'gastownTemplates' | 'gastownCompileCache'): string | undefined {
  try {
    return inject(key) || undefined;
  } catch {
    return undefined;
  }
}

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/gastown.cjs');
export const CORPUS = resolve(ROOT, '../shared/corpus');
const COMPILE_CACHE = join(ROOT, 'test/helpers/compile-cache.cjs');

/** Node started by a test (the CLI, a git hook) loads dist/ with the run's code cache. */
function compileCacheEnv(): Record<string, string> {
  const dir = provided('gastownCompileCache');
  if (!dir) return {};
  const inherited = process.env.NODE_OPTIONS ? `${process.env.NODE_OPTIONS} ` : '';
  return {
    NODE_OPTIONS: `${inherited}--require ${JSON.stringify(COMPILE_CACHE)}`,
    GASTOWN_TEST_COMPILE_CACHE: dir,
    GASTOWN_TEST_COMPILE_CACHE_FOR: join(ROOT, 'dist/'),
  };
}

/** A fixed identity so commits are reproducible and no global config leaks in. */
export const IDENTITY = {
  GIT_AUTHOR_NAME: 'Test Agent',
  GIT_AUTHOR_EMAIL: 'agent@example.com',
  GIT_COMMITTER_NAME: 'Test Agent',
  GIT_COMMITTER_EMAIL: 'agent@example.com',
  GIT_AUTHOR_DATE: '2026-01-06T09:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-06T09:00:00Z',
};

/** Git environment under which `name <email>` authors and commits (an approver, say). */
export function person(name: string, email: string): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: name,
    GIT_AUTHOR_EMAIL: email,
    GIT_COMMITTER_NAME: name,
    GIT_COMMITTER_EMAIL: email,
  };
}

/** The approver most tests configure as `[users.jgil]`. */
export const JGIL = person('J Gil', 'jgil@example.com');

/** Environment for child processes: isolated from the user's git config and colours. */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    NO_COLOR: '1',
    // Caches used outside a repository go to a scratch folder, never the user's ~/.cache.
    XDG_CACHE_HOME: join(tmpdir(), 'gastown-test-xdg-cache'),
    // The test switch for fault injection (src/testing/fault.ts): GASTOWN_FAULT_KILL_AT works.
    GASTOWN_TEST_FAULTS: '1',
    // A hook's time limit never runs out, so a hook's outcome never depends on how busy the
    // machine is (src/testing/fault.ts).
    GASTOWN_TEST_HOOK_TIMER: 'off',
    ...compileCacheEnv(),
    ...IDENTITY,
    ...extra,
  };
}

export function tempDir(prefix = 'gastown-test-'): { path: string; cleanup(): void } {
  const path = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Copies of prepared repositories in one temp folder: `copy(dir)` a fresh one for a test,
 * `cacheless(dir)` one without `.beads/.cache`, what a run with no cache at all sees.
 */
export function scratchCopies(): {
  copy(dir: string): string;
  cacheless(dir: string): string;
  cleanup(): void;
} {
  const scratch = tempDir();
  let n = 0;
  const copy = (dir: string, name = 'repo') => {
    const to = join(scratch.path, `${name}-${n++}`);
    cpSync(dir, to, { recursive: true });
    return to;
  };
  return {
    copy: (dir) => copy(dir),
    cacheless(dir) {
      const to = copy(dir, 'cold');
      rmSync(join(to, '.beads/.cache'), { recursive: true, force: true });
      return to;
    },
    cleanup: scratch.cleanup,
  };
}

/** A process run to its end, as the tests read execa's result (reject: false). */
export interface RunResult {
  /** Undefined when a signal ended it or it could not start. */
  exitCode?: number;
  signal?: NodeJS.Signals;
  /** Decoded, without the final newline (as execa gives them). */
  stdout: string;
  stderr: string;
}

const stripFinalNewline = (s: string) => (s.endsWith('\n') ? s.slice(0, s.endsWith('\r\n') ? -2 : -1) : s);

/**
 * Runs `cmd` with exactly `env`, stdin closed, and keeps its output. The helpers below start
 * thousands of processes per run; through execa each cost the worker ~3 ms more CPU than this.
 */
export function spawnRun(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env: Record<string, string> },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', (e) => resolve({ stdout: '', stderr: e.message }));
    child.once('close', (code, signal) =>
      resolve({
        ...(code !== null ? { exitCode: code } : {}),
        ...(signal !== null ? { signal } : {}),
        stdout: stripFinalNewline(Buffer.concat(out).toString('utf8')),
        stderr: stripFinalNewline(Buffer.concat(err).toString('utf8')),
      }),
    );
  });
}

export async function run(cmd: string, args: string[], cwd: string, opts: Options = {}) {
  return execa(cmd, args, { cwd, env: testEnv(), reject: false, extendEnv: false, stdin: 'ignore', ...opts });
}

/** Runs the built gastown CLI (build first: `npm test` does). */
export async function gastown(args: string[], cwd: string, env: Record<string, string> = {}) {
  return spawnRun(process.execPath, [CLI, ...args], { cwd, env: testEnv(env) });
}

/** Runs the built CLI and throws with its output when it exits non-zero. */
export async function gastownOk(cwd: string, args: string[], env: Record<string, string> = {}) {
  const r = await gastown(args, cwd, env);
  if (r.exitCode !== 0)
    throw new Error(`gastown ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}${r.stdout}`);
  return String(r.stdout);
}

export async function gitIn(cwd: string, ...args: string[]) {
  const r = await spawnRun('git', args, { cwd, env: testEnv() });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Stages everything and commits it; `env` overrides the fixed identity (who approves, say). */
export async function commitAll(cwd: string, message: string, env: Record<string, string> = {}) {
  await gitIn(cwd, 'add', '-A');
  const r = await spawnRun('git', ['commit', '-q', '-m', message], { cwd, env: testEnv(env) });
  if (r.exitCode !== 0) throw new Error(`git commit -m ${message} failed: ${r.stderr}`);
}

/** A fresh repository with one commit on `main`. */
export async function makeRepo(): Promise<{ path: string; cleanup(): void }> {
  const dir = tempDir();
  await gitIn(dir.path, 'init', '-q', '-b', 'main');
  await gitIn(dir.path, 'commit', '-q', '--allow-empty', '-m', 'initial');
  return dir;
}
