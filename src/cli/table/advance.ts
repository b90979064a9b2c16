import type { Command } from 'commander';
import { type CliContext, collect, lazy } from '../context.js';

export function registerAdvance(program: Command, ctx: CliContext): void {
  program
    .command('advance')
    .description(
      'reconcile every molecule once and print the transitions made (safe to run any time); without --from-commit or --molecule, first apply the trailers of commits no hook applied',
    )
    .option('--dry-run', 'print what would change without writing')
    .option('--from-commit <sha>', "also apply the commit's Gastown-Done/Fail/Start trailers")
    .option('--molecule <id>', 'only this molecule (repeatable)', collect, [])
    .option('--lock-wait <ms>', 'how long to wait for another gastown process (default 2000)')
    .option(
      '--commit',
      'commit the files it writes in an engine commit of its own (trailers name each transition)',
    )
    .option(
      '--ci',
      'for clones where no hook ran: apply the trailers of HEAD and of every commit not caught up yet; safe in a shallow clone',
    )
    .option('--json', 'print transitions, written files and problems as JSON')
    .action(lazy(ctx, async () => (await import('../commands/advance.js')).advance));
}
