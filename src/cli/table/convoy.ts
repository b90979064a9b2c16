import type { Command } from 'commander';
import { type CliContext, lazy } from '../context.js';

const convoy = () => import('../commands/convoy.js');
const escalation = () => import('../commands/escalate.js');
const patrol = () => import('../commands/patrol.js');

export function registerConvoy(program: Command, ctx: CliContext): void {
  const c = program
    .command('convoy')
    .description('groups of molecules that land together: .beads/convoys/<id>/convoy.toml (docs/convoys.md)');
  c.command('create <id>')
    .description('create a convoy')
    .requiredOption('--name <name>', 'what it is called (one line)')
    .requiredOption(
      '--owner <address>',
      'who answers for it and gets the summary when it lands (@person, agent)',
    )
    .option('--teams <a,b>', 'teams taking part, comma-separated')
    .option('--description <text>', 'a longer description')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await convoy()).create));
  c.command('add <id> <molecule>')
    .description("add a molecule (recorded in the molecule's own molecule.toml)")
    .option(
      '--after <molecule>',
      'the molecule starts only once this member completed with every gate passed',
    )
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await convoy()).add));
  c.command('show <id>')
    .description('progress, each molecule, what blocks what, the next checkpoint')
    .option('--json', 'print it as JSON')
    .action(lazy(ctx, async () => (await convoy()).show));
  c.command('list')
    .description('every convoy with its state and progress')
    .option('--json', 'print the list as JSON')
    .action(lazy(ctx, async () => (await convoy()).list));
  c.command('close <id>')
    .description('close a convoy (landed or abandoned): it is never landed or reported again')
    .option('--reason <text>', 'why (kept in closed.toml)')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await convoy()).close));
}

export function registerEscalate(program: Command, ctx: CliContext): void {
  const e = program
    .command('escalate')
    .description('raise a problem to people by severity; unacknowledged, it climbs (docs/escalation.md)');
  // The default subcommand: `gastown escalate "what" --severity high` is `escalate raise …`.
  e.command('raise [what]', { isDefault: true })
    .description('raise an escalation (the default: gastown escalate "what" --severity high)')
    .option('--severity <level>', 'low, medium, high or critical')
    .option('--molecule <id>', 'the molecule it is about')
    .option('--to <address>', 'also to this address (besides the routes for its severity)')
    .option('--as <who>', 'who raises it (default: $GASTOWN_AGENT)')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await escalation()).raise));
  e.command('list')
    .description('escalations with their severity and state')
    .option('--all', 'include acknowledged and closed ones')
    .option('--json', 'print the list as JSON')
    .action(lazy(ctx, async () => (await escalation()).list));
  e.command('show <id>')
    .description('one escalation with its history')
    .option('--json', 'print it as JSON')
    .action(lazy(ctx, async () => (await escalation()).show));
  e.command('ack <id>')
    .description('acknowledge: it stops climbing')
    .option('--as <who>', 'who acknowledges (default: $GASTOWN_AGENT, else your git email in the config)')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await escalation()).ack));
  e.command('close <id>')
    .description('close: resolved, never raised again')
    .option('--as <who>', 'who closes it (default: $GASTOWN_AGENT, else your git email in the config)')
    .option('--reason <text>', 'how it was resolved')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await escalation()).close));
}

export function registerPatrol(program: Command, ctx: CliContext): void {
  program
    .command('patrol')
    .description('run every time-based check once and exit: for cron and CI schedules (docs/patrol.md)')
    .option('--no-commit', 'leave what it wrote uncommitted')
    .option('--json', 'print what it did as JSON')
    .action(lazy(ctx, async () => (await patrol()).patrol));
  program
    .command('heartbeat')
    .description('say this agent is alive (a gitignored file under .beads/.cache/heartbeats/)')
    .option('--as <agent>', 'the agent (default: $GASTOWN_AGENT)')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await patrol()).heartbeat));
}
