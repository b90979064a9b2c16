import type { Command } from 'commander';
import { type CliContext, lazy } from '../context.js';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run a complete workflow in a temporary git repository and show each transition')
    .option('--keep', 'keep the temporary repository and print its path')
    .option('--json', 'print the transitions as JSON')
    .action(lazy(ctx, async () => (await import('../commands/demo.js')).demo));
}
