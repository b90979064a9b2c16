// One CLI command, from its arguments to its exit code, with no process of its own: it reads
// env and cwd from its caller, prints only through the given sink and never exits. main.ts runs
// it on the process's descriptors; tests run it in-process (test/helpers/inproc.ts), where each
// call must behave as a fresh process would (src/scope.ts).
//
// Argv shapes that run on every commit or prompt are dispatched directly (`--version` and the
// shortcuts of src/cli/shortcuts.ts); everything else goes to the command table (program.ts),
// whose groups live in src/cli/table/ and load their implementation lazily.
import { traceFrom, traceLines } from '../engine/trace.js';
import { ExitCode, formatLocated, isGastownError } from '../errors.js';
import { closeScope, openScope } from '../scope.js';
import { VERSION } from '../version.js';
import { type CliContext, createContext, type Sink } from './context.js';
import { shortcutCall } from './shortcuts.js';

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Where stdout (1) and stderr (2) text goes. */
  write: Sink;
  /** Whether stderr is a terminal (colours); false when the caller keeps the output. */
  isTTY?: () => boolean;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let running = false;

/**
 * Runs `gastown <args>` and returns its exit code. One at a time per process: module memos and
 * the scope are per command, so an overlapping call would see another command's environment.
 */
export async function runCommand(args: readonly string[], opts: RunOptions): Promise<number> {
  if (running) throw new Error('gastown commands cannot overlap in one process; run them in turn');
  running = true;
  openScope(opts.env, opts.cwd);
  traceFrom(opts.env.GASTOWN_TRACE);
  try {
    return await dispatch([...args], opts);
  } finally {
    for (const line of traceLines()) opts.write(2, `${line}\n`);
    traceFrom(undefined);
    closeScope();
    running = false;
  }
}

/** Runs `gastown <args>` with its output kept: what a test reads from a child process. */
export async function runCli(
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const write: Sink = (fd, text) => (fd === 1 ? out : err).push(text);
  const code = await runCommand(args, { ...opts, write, isTTY: () => false });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function dispatch(args: string[], opts: RunOptions): Promise<number> {
  let ctx: CliContext;
  try {
    ctx = createContext(opts.env, opts.cwd, opts.write, opts.isTTY);
  } catch (err) {
    // A bad environment value is reported like a bad flag: one line, exit 2.
    if (!isGastownError(err)) throw err;
    opts.write(2, `error: ${formatLocated(err.location, err.message)}\n`);
    return err.exitCode;
  }
  try {
    // `--version` alone, as commander would answer it, without compiling commander and the table.
    if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
      ctx.write(1, `${VERSION}\n`);
      return ExitCode.ok;
    }
    const call = shortcutCall(args);
    if (call) {
      const code = await call.shortcut.run(ctx, call.operands, call.flags);
      if (code !== undefined) return code;
    }
    const { runProgram } = await import('./program.js');
    return await runProgram(ctx, ['node', 'gastown', ...args]);
  } catch (err) {
    if (isGastownError(err)) {
      ctx.io.err(`${ctx.io.color.red('error')}: ${formatLocated(err.location, err.message)}`);
      return err.exitCode;
    }
    const e = err as Error;
    ctx.io.err(`${ctx.io.color.red('internal error')}: ${e?.stack ?? String(err)}`);
    return ExitCode.failure;
  }
}
