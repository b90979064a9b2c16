import type { Command } from 'commander';
import { type CliContext, lazy } from '../context.js';

const impl = () => import('../commands/step.js');

export function registerStep(program: Command, ctx: CliContext): void {
  const step = program
    .command('step')
    .description("record progress on a molecule's step: start, done, fail, reopen");
  const common = (c: Command) =>
    c
      .option('--as <agent>', 'who records it (default: $GASTOWN_AGENT)')
      .option('--reason <text>', 'why (kept in the event file)')
      .option('--json', 'print the transitions as JSON');
  const reassign = (c: Command) =>
    c.option(
      '--reassign',
      'take over a step assigned to someone else (recorded as reassigned_from in the fact)',
    );
  reassign(common(step.command('start <molecule> <step>').description('claim a ready step'))).action(
    lazy(ctx, async () => (await impl()).start),
  );
  reassign(
    common(
      step
        .command('done <molecule> <step>')
        .description('mark a ready or claimed step done; the steps after it become ready'),
    ),
  )
    .option('--output <file>', "store this file as the step's output (outputs/<step>.md)")
    .option(
      '--continue',
      'then claim the next ready step for the same agent (--as, $GASTOWN_AGENT, or who started this one) and print it',
    )
    .action(lazy(ctx, async () => (await impl()).done));
  reassign(
    common(step.command('fail <molecule> <step>').description('mark a ready or claimed step failed')),
  ).action(lazy(ctx, async () => (await impl()).fail));
  common(
    step
      .command('reopen <molecule> <step>')
      .description('re-open a step and every step after it as a new attempt'),
  ).action(lazy(ctx, async () => (await impl()).reopen));
}
