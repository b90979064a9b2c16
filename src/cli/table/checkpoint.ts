import type { Command } from 'commander';
import { type CliContext, lazy } from '../context.js';

const impl = () => import('../commands/checkpoint.js');

export function registerCheckpoint(program: Command, ctx: CliContext): void {
  const cp = program
    .command('checkpoint')
    .description(
      'list, approve, reject and comment on checkpoints (human gates; files under .beads/molecules/<id>/checkpoints/)',
    );
  cp.command('list')
    .description('list checkpoints with their decision and deadline')
    .option('--pending', 'only checkpoints still waiting for a decision')
    .option('--json', 'print the list as JSON')
    .action(lazy(ctx, async () => (await impl()).list));
  cp.command('show <molecule> <checkpoint>')
    .description('show a checkpoint: the request, who decided, whether it counts, and the comments')
    .option('--json', 'print it as JSON')
    .action(lazy(ctx, async () => (await impl()).show));
  cp.command('approve <molecule> <checkpoint>')
    .description(
      'approve a checkpoint (sets decision: approved as your git identity) and reconcile the molecule',
    )
    .option('--text <text>', 'a note kept with the approval')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await impl()).approve));
  cp.command('reject <molecule> <checkpoint>')
    .description('reject a checkpoint with a reason: the step under review is re-opened with it')
    .requiredOption('--reason <text>', 'what must change (the assignee sees it)')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await impl()).reject));
  cp.command('comment <molecule> <checkpoint>')
    .description('leave a comment for the assignee; the checkpoint stays pending')
    .requiredOption('--text <text>', 'the comment')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await impl()).comment));
}
