// Git integration: init, hooks, the hidden hook entry point, the watcher, doctor.
import type { Command } from 'commander';
import { type CliContext, lazy } from '../context.js';

export function registerGit(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('set up .beads/ in this repository (never overwrites a file) and install git hooks')
    .option(
      '--hooks <mode>',
      'auto (husky when the repo uses it, else native), husky, native or none',
      'auto',
    )
    .option('--dry-run', 'show what would change and change nothing')
    .option('--json', 'print what was done as JSON')
    .action(lazy(ctx, async () => (await import('../commands/init.js')).init));

  const hooks = program.command('hooks').description("install, remove or inspect gastown's git hooks");
  hooks
    .command('install')
    .description('add gastown to the git hooks (chains existing hooks, never overwrites them)')
    .option('--mode <mode>', 'auto, husky or native', 'auto')
    .option('--dry-run', 'show what would change and change nothing')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await import('../commands/hooks.js')).hooksInstall));
  hooks
    .command('uninstall')
    .description('remove gastown from the git hooks, restoring every hook file exactly as it was')
    .option('--dry-run', 'show what would change and change nothing')
    .option('--json', 'print the result as JSON')
    .action(lazy(ctx, async () => (await import('../commands/hooks.js')).hooksUninstall));
  hooks
    .command('status')
    .description('show which hooks are installed and whether they can run here (exit 1 when not healthy)')
    .option('--json', 'print the status as JSON')
    .action(lazy(ctx, async () => (await import('../commands/hooks.js')).hooksStatusCommand));

  program
    .command('hook <name> [args...]', { hidden: true })
    .allowUnknownOption()
    .description(
      'internal: what an installed git hook runs (pre-commit, post-commit, post-merge, post-rewrite, post-checkout)',
    )
    .action(lazy(ctx, async () => (await import('../commands/hook.js')).hook));

  program
    .command('watch')
    .description('watch .beads/ and reconcile on every change (Ctrl-C stops after the reconcile in flight)')
    .option('--commit', 'commit what reconcile writes, as the engine')
    .option('--poll', 'poll the file system instead of using native events (also CHOKIDAR_USEPOLLING=1)')
    .option('--debounce <ms>', 'quiet time after the last change before reconciling', '150')
    .option('--no-journal', 'serve no change journal to readers (each reader stats every molecule)')
    .option('--json', 'print one JSON object per line for each transition')
    .action(lazy(ctx, async () => (await import('../commands/watch.js')).watch));

  program
    .command('doctor')
    .description(
      'check the git version, hooks, node, every .beads/ file, references, locks (exit 1 on any error)',
    )
    .option('--fix', 'fix what can be fixed safely (a lock left by a dead process)')
    .option('--json', 'print the checks as JSON')
    .action(lazy(ctx, async () => (await import('../commands/doctor.js')).doctor));
}
