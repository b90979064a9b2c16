import type { Command } from 'commander';
import { type CliContext, collect, lazy } from '../context.js';

const mail = () => import('../commands/mail.js');
const notifications = () => import('../commands/notifications.js');

const who = (c: Command) =>
  c
    .option(
      '--for <address>',
      'whose mail (an agent or @person; default: $GASTOWN_AGENT, else your git email in the config)',
    )
    .option('--as <address>', 'the same as --for');

const body = (c: Command) =>
  c
    .option('--body <text>', 'the message (markdown)')
    .option('--body-file <file>', 'read the message from a file')
    .argument('[-]', 'read the message from standard input');

export function registerMail(program: Command, ctx: CliContext): void {
  const m = program
    .command('mail')
    .description('messages between agents and people: one file per message under .beads/mail/<address>/');
  who(m.command('inbox').description('list your messages (archived ones and queue mail others hold: --all)'))
    .option('--unread', 'only messages not read yet')
    .option('--all', 'include archived messages and queue messages someone else holds')
    .option('--json', 'print the list as JSON')
    .action(lazy(ctx, async () => (await mail()).inbox));
  who(m.command('read <id>').description('show a message and mark it read (a queue message: claim it)'))
    .option('--json', 'print it as JSON')
    .action(lazy(ctx, async () => (await mail()).read));
  body(
    who(m.command('send').description('send a message (a team gets one copy per member)'))
      .option(
        '--to <address>',
        'recipient: agent, @person, team:<name> or queue:<name> (repeatable)',
        collect,
      )
      .option('--cc <address>', 'also to (repeatable)', collect)
      .requiredOption('--subject <text>', 'one line')
      .option('--priority <level>', 'low, normal, high or urgent')
      .option('--molecule <id>', 'the molecule it is about')
      .option('--step <id>', 'the step it is about')
      .option('--json', 'print the id and files as JSON'),
  ).action(lazy(ctx, async () => (await mail()).send));
  body(
    who(
      m.command('reply <id>').description('answer a message (to its sender; --all: and everyone it went to)'),
    )
      .option('--subject <text>', 'default: Re: <subject>')
      .option('--all', 'also to the other recipients')
      .option('--json', 'print the id and files as JSON'),
  ).action(lazy(ctx, async () => (await mail()).reply));
  who(m.command('thread <id>').description('show the conversation a message belongs to'))
    .option('--json', 'print it as JSON')
    .action(lazy(ctx, async () => (await mail()).thread));
  who(m.command('ack <id>').description('acknowledge a message (marks it read too)'))
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await mail()).ack));
  who(m.command('archive <id>').description('archive a message: the inbox no longer lists it'))
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await mail()).archive));
  who(m.command('check').description('exit 0 when unread mail waits, 1 when none (for prompt hooks)'))
    .option('--json', 'print the count as JSON')
    .action(lazy(ctx, async () => (await mail()).check));
}

export function registerNotifications(program: Command, ctx: CliContext): void {
  const n = program
    .command('notifications')
    .description('announce mail beyond the repository: webhooks and email ([notifications] in config.toml)');
  n.command('status')
    .description('list pending and failed deliveries (exit 1 when some failed)')
    .option('--json', 'print them as JSON')
    .action(lazy(ctx, async () => (await notifications()).status));
  n.command('deliver')
    .description('send what is due now; a failing endpoint is retried later with backoff')
    .option('--wait <duration>', 'keep retrying within this run while a retry falls due within it (e.g. 30s)')
    .option('--retry-failed', 'start failed deliveries over')
    .option('--json', 'print the counts as JSON')
    .action(lazy(ctx, async () => (await notifications()).deliver));
}
