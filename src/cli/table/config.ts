import type { Command } from 'commander';
import { type CliContext, lazy } from '../context.js';

const impl = () => import('../commands/config.js');

export function registerConfig(program: Command, ctx: CliContext): void {
  const c = program
    .command('config')
    .description('read and set keys of .beads/config.toml (comments kept, every change checked)');
  c.command('get <key>')
    .description('print a value (a dotted key such as engine.commit; a table prints its keys)')
    .option('--json', 'print it as JSON')
    .action(lazy(ctx, async () => (await impl()).get));
  c.command('set <key> <value>')
    .description('set a value: TOML when it reads as one (true, 5, "x", ["a", "b"]), else the text')
    .option('--string', 'take the value as text even when it reads as TOML')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await impl()).set));
  c.command('list')
    .description('print every key and value in the file')
    .option('--json', 'print the whole file as JSON')
    .action(lazy(ctx, async () => (await impl()).list));
}
