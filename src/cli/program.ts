// The commander program: the command table, parsed. Loaded by main.ts unless a shortcut
// answered first, so a start-up that does not need it does not compile it.

import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import { VERSION } from '../version.js';
import type { CliContext } from './context.js';
import { commandNameOf, registerTable } from './table/index.js';

/** Runs argv through commander; errors other than commander's own are thrown to main. */
export async function runProgram(ctx: CliContext, argv: string[]): Promise<number> {
  const program = new Command('gastown')
    .description(
      'A git-native workflow engine: formulas, molecules, checkpoints and gates as files under .beads/',
    )
    .version(VERSION, '-V, --version')
    .option('-C, --cwd <dir>', 'run as if started in <dir>')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.write(1, s),
      writeErr: (s) => ctx.write(2, s),
      // Help wraps to the terminal's width; kept output has none.
      getOutHelpWidth: () => (ctx.isTTY() && process.stdout.columns) || 80,
      getErrHelpWidth: () => (ctx.isTTY() && process.stderr.columns) || 80,
    })
    .exitOverride();
  program.hook('preAction', (root) => {
    const dir = root.opts().cwd as string | undefined;
    if (dir) ctx.cwd = resolve(ctx.cwd, dir);
  });
  registerTable(program, ctx, commandNameOf(argv.slice(2)));
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    throw err;
  }
}
