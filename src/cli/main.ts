#!/usr/bin/env node
// Entry point: the command table. Each group's definitions live in src/cli/table/ and load
// their implementation lazily, so `gastown --help` stays close to `node -e 0`.
// This is the only module that calls process.exit.
import { Command, CommanderError } from 'commander';
import { ExitCode, formatLocated, isGastownError } from '../errors.js';
import { createContext, writeOutput } from './context.js';
import { commandNameOf, registerTable } from './table/index.js';

const VERSION = '0.1.0';

async function main(argv: string[]): Promise<number> {
  const ctx = createContext();
  const program = new Command('gastown')
    .description(
      'A git-native workflow engine: formulas, molecules, checkpoints and gates as files under .beads/',
    )
    .version(VERSION, '-V, --version')
    .option('-C, --cwd <dir>', 'run as if started in <dir>')
    .showHelpAfterError('(run with --help for usage)')
    // Help and usage errors go out like every other line (context.ts writeOutput).
    .configureOutput({ writeOut: (s) => writeOutput(1, s), writeErr: (s) => writeOutput(2, s) })
    .exitOverride();
  program.hook('preAction', (root) => {
    const dir = root.opts().cwd as string | undefined;
    if (dir) ctx.cwd = dir;
  });
  registerTable(program, ctx, commandNameOf(argv.slice(2)));
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with code 0; every other commander error is a usage error.
      if (err.exitCode === 0) return ExitCode.ok;
      return ExitCode.usage;
    }
    if (isGastownError(err)) {
      ctx.io.err(`${ctx.io.color.red('error')}: ${formatLocated(err.location, err.message)}`);
      return err.exitCode;
    }
    const e = err as Error;
    ctx.io.err(`${ctx.io.color.red('internal error')}: ${e?.stack ?? String(err)}`);
    return ExitCode.failure;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    writeOutput(2, `internal error: ${String(err)}\n`);
    process.exit(ExitCode.failure);
  },
);
