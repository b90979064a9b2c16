import type { Command } from 'commander';
import { type CliContext, collect, lazy } from '../context.js';

const impl = () => import('../commands/formula.js');

export function registerFormula(program: Command, ctx: CliContext): void {
  const formula = program
    .command('formula')
    .description('list, show, validate and cook formulas (.beads/formulas/ first, then the built-ins)');
  formula
    .command('list')
    .description('list the formulas on the search path: name, type, version, source and file')
    .option('--json', 'print as JSON')
    .action(lazy(ctx, async () => (await impl()).list));
  formula
    .command('show <formula>')
    .description(
      'print the resolved formula (extends, compose, advice and loops applied); a path is read as a file',
    )
    .option('--var <key=value>', 'set a variable (repeatable); with any --var the formula is cooked', collect)
    .option('--preset <name>', 'select the convoy legs of a preset')
    .option('--legs <ids>', 'select convoy legs, comma-separated')
    .option('--json', 'print as JSON')
    .action(lazy(ctx, async () => (await impl()).show));
  formula
    .command('validate <formulas...>')
    .description('check formula files, names or folders; exit 1 when any is invalid (warnings are allowed)')
    .option('--json', 'print per-file results as JSON')
    .action(lazy(ctx, async () => (await impl()).validate));
  formula
    .command('cook <formula>')
    .description(
      'print the cooked formula: variables checked and substituted, conditions and presets applied',
    )
    .option('--var <key=value>', 'set a variable (repeatable)', collect)
    .option(
      '--input <key=value>',
      'set a convoy input (repeatable); required inputs are then checked',
      collect,
    )
    .option('--preset <name>', 'select the convoy legs of a preset')
    .option('--legs <ids>', 'select convoy legs, comma-separated')
    .option('--json', 'print as JSON')
    .action(lazy(ctx, async () => (await impl()).cook));
}
