// The one way gastown runs git: the binary, argument arrays, never a shell.
// node:child_process rather than execa: in the bundled CLI, importing execa cost ~30 ms and each
// call ~3 ms more than spawn (docs/decisions.md), and a post-commit hook makes several calls.
import { type ChildProcess, spawn } from 'node:child_process';
import { GastownError } from '../errors.js';
import { commandEnv } from '../scope.js';

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface GitOptions {
  cwd: string;
  input?: string;
  env?: Record<string, string>;
  /** Return a non-zero exit instead of throwing. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

/** Environment every git call gets: stable messages and no prompts. */
export const GIT_ENV: Record<string, string> = { LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' };

interface RawResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

function runGit(args: readonly string[], options: GitOptions): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: { ...commandEnv(), ...GIT_ENV, ...options.env },
      stdio: [options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      ...(options.timeoutMs !== undefined
        ? { timeout: options.timeoutMs, killSignal: 'SIGKILL' as const }
        : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new GastownError('git.spawn', `could not run git ${args[0] ?? ''}: ${e.code ?? e.message}`)),
    );
    child.once('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        stdout: Buffer.concat(out),
        stderr: signal ? `${stderr}git ${args[0] ?? ''} was stopped (${signal})` : stderr,
        exitCode: code ?? 1,
      });
    });
    if (options.input !== undefined) {
      child.stdin?.on('error', () => {}); // git may exit before reading all input; its exit code says why
      child.stdin?.end(options.input);
    }
  });
}

/** A git process left running with every stream piped, for a caller that talks to it in turns. */
export function spawnGit(args: readonly string[], cwd: string): ChildProcess {
  return spawn('git', args, { cwd, env: { ...commandEnv(), ...GIT_ENV }, stdio: ['pipe', 'pipe', 'pipe'] });
}

function failed(args: readonly string[], r: RawResult): GastownError {
  return new GastownError(
    'git.failed',
    `git ${args.join(' ')} failed (exit ${r.exitCode}): ${r.stderr.trim()}`,
  );
}

export async function git(args: readonly string[], options: GitOptions): Promise<GitResult> {
  const r = await runGit(args, options);
  if (r.exitCode !== 0 && !options.allowFailure) throw failed(args, r);
  return { stdout: r.stdout.toString('utf8'), stderr: r.stderr, exitCode: r.exitCode };
}

/** Like `git`, but stdout as raw bytes (object contents whose sizes are counted in bytes). */
export async function gitBytes(args: readonly string[], options: GitOptions): Promise<Buffer> {
  const r = await runGit(args, options);
  if (r.exitCode !== 0 && !options.allowFailure) throw failed(args, r);
  return r.stdout;
}

/**
 * Runs git and hands `onLine` each line of its stdout as it comes (without the `\n`), so a long
 * output (a `log -p` over every checkpoint of 10,000 molecules is ~20 MB) is never held whole.
 * Never throws for an exit code: the caller reads `exitCode`.
 */
export function gitLines(
  args: readonly string[],
  options: Pick<GitOptions, 'cwd' | 'env'>,
  onLine: (line: string) => void,
): Promise<{ exitCode: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: { ...commandEnv(), ...GIT_ENV, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Each line decoded on its own: a string kept from a line (a path, a commit id) then holds
    // that line, not the 64 KiB chunk it came in with. A \n byte is never part of a UTF-8 sequence.
    // The start of a line that has not ended yet, in the chunks it came in.
    const carry: Buffer[] = [];
    const take = (b: Buffer) => {
      let from = 0;
      for (let nl = b.indexOf(10); nl >= 0; nl = b.indexOf(10, from)) {
        if (carry.length === 0) onLine(b.toString('utf8', from, nl));
        else {
          carry.push(b.subarray(from, nl));
          onLine(Buffer.concat(carry).toString('utf8'));
          carry.length = 0;
        }
        from = nl + 1;
      }
      if (from < b.length) carry.push(b.subarray(from));
    };
    const err: Buffer[] = [];
    child.stdout?.on('data', take);
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new GastownError('git.spawn', `could not run git ${args[0] ?? ''}: ${e.code ?? e.message}`)),
    );
    child.once('close', (code) => {
      if (carry.length > 0) onLine(Buffer.concat(carry).toString('utf8'));
      resolve({ exitCode: code ?? 1, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
