#!/usr/bin/env node
// Entry point. Argv shapes that run on every commit or prompt are dispatched directly (the hook
// entry point, a plain `advance`, `mail inbox|check`: src/cli/quick-mail.ts); everything else
// goes to the command table (program.ts), whose groups live in src/cli/table/ and load their
// implementation lazily, so `gastown --help` stays close to `node -e 0`. This is the only module that calls process.exit.
import { installGatePlugins } from '../engine/plugins.js';
import { traceFrom, traceLines } from '../engine/trace.js';
import { ExitCode, formatLocated, isGastownError } from '../errors.js';
import { createContext, writeOutput } from './context.js';
import { quickMailCall } from './quick-mail.js';

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
function hookCall(args: readonly string[]): { name: string; args: string[] } | undefined {
  const name = args[1];
  if (args[0] !== 'hook' || name === undefined || name.startsWith('-')) return undefined;
  const rest = args.slice(2);
  return rest.some((a) => a.startsWith('-')) ? undefined : { name, args: rest };
}

/** The composition root: the gate kinds the engine plans with, loaded on first need. */
function installPlugins(): void {
  installGatePlugins(async () => (await import('../gates/index.js')).registerBuiltInGates());
}

async function main(argv: string[]): Promise<number> {
  installPlugins();
  traceFrom(process.env.GASTOWN_TRACE);
  try {
    return await dispatch(argv);
  } finally {
    for (const line of traceLines()) writeOutput(2, `${line}\n`);
  }
}

async function dispatch(argv: string[]): Promise<number> {
  let ctx: ReturnType<typeof createContext>;
  try {
    ctx = createContext();
  } catch (err) {
    // A bad environment value is reported like a bad flag: one line, exit 2.
    if (!isGastownError(err)) throw err;
    writeOutput(2, `error: ${formatLocated(err.location, err.message)}\n`);
    return err.exitCode;
  }
  try {
    const call = hookCall(argv.slice(2));
    if (call) {
      const { hook } = await import('./commands/hook.js');
      // git waits for the hook: what a hook stopped at its time limit left running (a git
      // call, a lock wait) must not hold it.
      exitAtOnce = true;
      return await hook(ctx, call.name, call.args);
    }
    const plain = plainAdvance(argv.slice(2));
    if (plain) {
      const { quietAdvance } = await import('./commands/advance.js');
      const code = quietAdvance(ctx, plain);
      if (code !== undefined) return code;
    }
    const mail = quickMailCall(argv.slice(2));
    if (mail) {
      const commands = await import('./commands/mail.js');
      return (await commands[mail.command](ctx, mail.flags)) ?? 0;
    }
    const { runProgram } = await import('./program.js');
    return await runProgram(ctx, argv);
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

let exitAtOnce = false;

main(process.argv).then(
  (code) => {
    if (exitAtOnce) process.exit(code);
    process.exitCode = code;
  },
  (err) => {
    writeOutput(2, `internal error: ${String(err)}\n`);
    process.exit(ExitCode.failure);
  },
);
