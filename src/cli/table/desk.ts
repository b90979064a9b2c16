import type { Command } from 'commander';
import { type CliContext, lazy } from '../context.js';

export function registerPrime(program: Command, ctx: CliContext): void {
  program
    .command('prime')
    .description(
      "what an agent's session starts with: the step on its hook with full instructions, what else is ready for it, unread mail (prints nothing when there is nothing)",
    )
    .option('--for <agent>', 'whose desk (default: $GASTOWN_AGENT, else your git email in the config)')
    .option('--json', 'print it as JSON')
    .action(lazy(ctx, async () => (await import('../commands/desk.js')).prime));
}
