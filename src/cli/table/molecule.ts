import type { Command } from 'commander';
import { type CliContext, collect, lazy } from '../context.js';

const impl = () => import('../commands/molecule.js');

export function registerMolecule(program: Command, ctx: CliContext): void {
  const mol = program
    .command('molecule')
    .alias('mol')
    .description('create, inspect and clean up molecules (running workflows kept under .beads/molecules/)');
  mol
    .command('create')
    .alias('pour')
    .description('pour a molecule from a formula and record its first ready steps')
    .requiredOption('--formula <name>', 'formula to pour (a name from .beads/formulas/ or the built-in ones)')
    .requiredOption('--name <id>', 'molecule id: lowercase letters, digits and dashes')
    .option('--var <key=value>', 'set a formula variable (repeatable)', collect, [])
    .option('--inputs <file>', 'TOML file with [inputs], [scope], … tables and optional [vars]')
    .option('--convoy <id>', 'convoy this molecule belongs to')
    .option('--after <molecule>', 'no step becomes ready until that molecule is completed')
    .option('--assignee <agent>', 'assignee of steps that name none')
    .option('--preset <name>', 'convoy formulas: the preset that chooses the legs')
    .option('--legs <a,b>', 'convoy formulas: the legs to run, comma-separated')
    .option('--force', 'keep --var names the formula does not declare (refused otherwise)')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await impl()).create));
  mol
    .command('status <id>')
    .description('show progress, current and ready steps, and why the molecule is blocked')
    .option('--json', 'print the status as JSON')
    .action(lazy(ctx, async () => (await impl()).status));
  mol
    .command('list')
    .description('list molecules with their state and progress')
    .option('--json', 'print the list as JSON')
    .action(lazy(ctx, async () => (await impl()).list));
  mol
    .command('current [id]')
    .description('show the steps in progress or ready (of one molecule, or of every molecule)')
    .option('--for <agent>', 'only steps assigned to this agent')
    .option('--json', 'print the steps as JSON')
    .action(lazy(ctx, async () => (await impl()).current));
  mol
    .command('cancel <id>')
    .description('cancel a molecule: no step of it becomes ready again (its files stay; history in git)')
    .option('--reason <text>', 'why (kept in events/molecule.cancelled.toml)')
    .option('--as <who>', 'who cancels it (default: $GASTOWN_AGENT)')
    .option('--json', 'print what changed as JSON')
    .action(lazy(ctx, async () => (await impl()).cancel));
  mol
    .command('squash <id>')
    .description('replace the event files of a completed molecule with one digest (history stays in git)')
    .option('--json', 'print what changed as JSON')
    .action(lazy(ctx, async () => (await impl()).squash));
  mol
    .command('burn <id>')
    .description("remove a molecule's folder (history stays in git)")
    .option('--json', 'print what changed as JSON')
    .action(lazy(ctx, async () => (await impl()).burn));
}
