// One CLI command, from its arguments to its exit code, with no process of its own: it reads
// env and cwd from its caller, prints only through the given sink and never exits. main.ts runs
// it on the process's descriptors; tests run it in-process (test/helpers/inproc.ts), where each
// call must behave as a fresh process would (src/scope.ts).
//
// Argv shapes that run on every commit or prompt are dispatched directly (the hook entry point,
// a plain `advance`, `mail inbox|check`: src/cli/quick-mail.ts, `convoy show` and `patrol`:
// src/cli/quick-fleet.ts, `molecule status|list|current` and `prime`: src/cli/quick-readers.ts,
// `formula validate`, `--version`); everything else goes to the
// command table (program.ts), whose groups live in src/cli/table/ and load their implementation
// lazily.
import { traceFrom, traceLines } from '../engine/trace.js';
import { ExitCode, formatLocated, isGastownError } from '../errors.js';
import { closeScope, openScope } from '../scope.js';
import { type CliContext, createContext, type Sink } from './context.js';
import { quickFleetCall } from './quick-fleet.js';
import { quickMailCall } from './quick-mail.js';
import { quickReaderCall } from './quick-readers.js';
import { VERSION } from './version.js';

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

/**
 * `gastown advance` and `gastown advance --json`, exactly: what scripts and people run after
 * every change, most often with nothing to do. Tried before commander and the command table
 * are loaded; any other argv, or anything the quiet check cannot vouch for, takes the full path.
 */
function plainAdvance(args: readonly string[]): { json: boolean } | undefined {
  if (args[0] !== 'advance' || args.length > 2) return undefined;
  if (args.length === 1) return { json: false };
  return args[1] === '--json' ? { json: true } : undefined;
}

/**
 * `gastown hook <name> [args...]`: the hidden entry point the installed hook runner calls on
 * every commit, checkout and merge; it has no options, so commander adds nothing but start-up.
 */
export function hookCall(args: readonly string[]): { name: string; args: string[] } | undefined {
  const name = args[1];
  if (args[0] !== 'hook' || name === undefined || name.startsWith('-')) return undefined;
  const rest = args.slice(2);
  return rest.some((a) => a.startsWith('-')) ? undefined : { name, args: rest };
}

/**
 * `gastown formula validate FILE... [--json]`: a pre-commit path, run over whole folders. Only
 * plain operands and `--json` (the options src/cli/table/formula.ts defines); anything else
 * starting with `-` (help, `--`) goes to commander.
 */
export function quickFormulaValidate(args: readonly string[]): { refs: string[]; json: boolean } | undefined {
  if (args[0] !== 'formula' || args[1] !== 'validate') return undefined;
  const refs: string[] = [];
  let json = false;
  for (const a of args.slice(2)) {
    if (a === '--json') json = true;
    else if (a.startsWith('-')) return undefined;
    else refs.push(a);
  }
  return refs.length > 0 ? { refs, json } : undefined;
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
    const call = hookCall(args);
    if (call) {
      const { hook } = await import('./commands/hook.js');
      return await hook(ctx, call.name, call.args);
    }
    const plain = plainAdvance(args);
    if (plain) {
      const { quietAdvance } = await import('./commands/advance.js');
      const code = quietAdvance(ctx, plain);
      if (code !== undefined) return code;
    }
    const fleet = quickFleetCall(args);
    if (fleet?.command === 'show')
      return await (await import('./commands/convoy.js')).show(ctx, fleet.id, fleet.flags);
    if (fleet?.command === 'patrol')
      return await (await import('./commands/patrol.js')).patrol(ctx, fleet.flags);
    const mail = quickMailCall(args);
    if (mail) {
      const commands = await import('./commands/mail.js');
      return (await commands[mail.command](ctx, mail.flags)) ?? 0;
    }
    const validate = quickFormulaValidate(args);
    if (validate) {
      const { validate: run } = await import('./commands/formula.js');
      return await run(ctx, validate.refs, { json: validate.json });
    }
    const reader = quickReaderCall(args);
    if (reader?.command === 'prime') {
      const { prime } = await import('./commands/desk.js');
      return await prime(ctx, reader.flags);
    }
    if (reader) {
      const commands = await import('./commands/molecule.js');
      const { command, args: ids, flags } = reader;
      if (command === 'list') return await commands.list(ctx, flags);
      if (command === 'status') return await commands.status(ctx, ids[0] as string, flags);
      return await commands.current(ctx, ids[0], flags);
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
