// The one way gastown runs git: the binary, argument arrays, never a shell.
import { execa } from 'execa';
import { GastownError } from '../errors.js';

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

export async function git(args: readonly string[], options: GitOptions): Promise<GitResult> {
  const result = await execa('git', args, {
    cwd: options.cwd,
    env: { ...GIT_ENV, ...options.env },
    reject: false,
    stripFinalNewline: false,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
  });
  const out: GitResult = {
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    exitCode: result.exitCode ?? 1,
  };
  if (result.failed && result.exitCode === undefined) {
    throw new GastownError(
      'git.spawn',
      `could not run git ${args[0] ?? ''}: ${result.shortMessage ?? 'unknown error'}`,
    );
  }
  if (out.exitCode !== 0 && !options.allowFailure) {
    throw new GastownError(
      'git.failed',
      `git ${args.join(' ')} failed (exit ${out.exitCode}): ${out.stderr.trim()}`,
    );
  }
  return out;
}

/** Like `git`, but stdout as raw bytes (object contents whose sizes are counted in bytes). */
export async function gitBytes(args: readonly string[], options: GitOptions): Promise<Buffer> {
  const result = await execa('git', args, {
    cwd: options.cwd,
    env: { ...GIT_ENV, ...options.env },
    reject: false,
    encoding: 'buffer',
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
  });
  if (result.exitCode !== 0 && !options.allowFailure) {
    throw new GastownError(
      'git.failed',
      `git ${args.join(' ')} failed (exit ${result.exitCode ?? '?'}): ${Buffer.from(
        result.stderr as Uint8Array,
      )
        .toString('utf8')
        .trim()}`,
    );
  }
  return Buffer.from(result.stdout as Uint8Array);
}
