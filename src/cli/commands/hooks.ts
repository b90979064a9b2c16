// `gastown hooks install|uninstall|status`.
import { UsageError } from '../../errors.js';
import { repoPaths } from '../../git/repo.js';
import {
  applyInstall,
  applyUninstall,
  displayPath,
  type HookMode,
  hooksStatus,
  type InstallPlan,
  planInstall,
  planUninstall,
} from '../../triggers/install.js';
import type { CliContext } from '../context.js';

export type ModeOption = 'auto' | HookMode;

export function parseMode(value: string | undefined, allowNone: false): ModeOption;
export function parseMode(value: string | undefined, allowNone: true): ModeOption | 'none';
export function parseMode(value: string | undefined, allowNone: boolean): ModeOption | 'none' {
  const v = value ?? 'auto';
  const allowed = allowNone ? ['auto', 'husky', 'native', 'none'] : ['auto', 'husky', 'native'];
  if (!allowed.includes(v))
    throw new UsageError(`--hooks must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as ModeOption | 'none';
}

/** JSON shape of an install plan (also used by `gastown init`). */
export function installSummary(root: string, plan: InstallPlan) {
  return {
    mode: plan.mode,
    dir: displayPath(root, plan.dir),
    runner: { file: plan.runner.file, action: plan.runner.action },
    hooks: plan.hooks.map((h) => ({ hook: h.hook, file: displayPath(root, h.file), action: h.action })),
    notes: plan.notes,
  };
}

export function printInstall(ctx: CliContext, root: string, plan: InstallPlan, dryRun: boolean): void {
  const verb = dryRun ? 'would install' : 'installed';
  ctx.io.out(`hooks: ${verb} ${plan.mode} hooks in ${displayPath(root, plan.dir)}`);
  for (const h of plan.hooks) ctx.io.out(`  ${h.hook.padEnd(14)} ${describeAction(h.action)}`);
  for (const n of plan.notes) ctx.io.warn(n);
}

function describeAction(action: string): string {
  switch (action) {
    case 'create':
      return 'created';
    case 'chain':
      return 'added to your existing hook (it still runs)';
    case 'wrap':
      return 'wrapped your existing hook (it still runs)';
    case 'update':
      return 'updated';
    case 'unchanged':
      return 'already installed';
    default:
      return 'skipped (existing hook is not executable)';
  }
}

export async function hooksInstall(
  ctx: CliContext,
  opts: { mode?: string; dryRun?: boolean; json?: boolean },
) {
  const mode = parseMode(opts.mode, false);
  const paths = await repoPaths(ctx.cwd);
  const plan = await planInstall(paths, mode);
  if (!opts.dryRun) applyInstall(plan);
  if (opts.json) ctx.io.json({ dryRun: Boolean(opts.dryRun), ...installSummary(paths.root, plan) });
  else printInstall(ctx, paths.root, plan, Boolean(opts.dryRun));
  return 0;
}

export async function hooksUninstall(ctx: CliContext, opts: { dryRun?: boolean; json?: boolean }) {
  const paths = await repoPaths(ctx.cwd);
  const plan = planUninstall(paths);
  if (!opts.dryRun) applyUninstall(plan);
  const files = plan.entries.map((e) => ({ file: displayPath(paths.root, e.file), action: e.action }));
  if (opts.json) {
    ctx.io.json({ dryRun: Boolean(opts.dryRun), files, runner: plan.runner ?? null });
    return 0;
  }
  if (files.length === 0 && !plan.runner) {
    ctx.io.out('hooks: nothing to remove (gastown hooks are not installed)');
    return 0;
  }
  const words = {
    restore: 'restored to its state before install',
    delete: 'removed (gastown created it)',
    unwrap: 'your hook moved back',
  };
  for (const f of files) ctx.io.out(`  ${f.file}: ${words[f.action]}`);
  if (plan.runner) ctx.io.out(`  ${plan.runner}: removed`);
  ctx.io.out(opts.dryRun ? 'hooks: dry run, nothing changed' : 'hooks: uninstalled');
  return 0;
}

export async function hooksStatusCommand(ctx: CliContext, opts: { json?: boolean }) {
  const paths = await repoPaths(ctx.cwd);
  const s = await hooksStatus(paths);
  const healthy =
    s.hooks.every((h) => h.installed && h.runnable) && s.runner.present && s.nodeReachable && s.cliPresent;
  if (opts.json) {
    ctx.io.json({ ...s, dir: displayPath(paths.root, s.dir), healthy });
    return healthy ? 0 : 1;
  }
  ctx.io.out(
    `hooks: ${s.mode === 'none' ? 'not installed' : `${s.mode} in ${displayPath(paths.root, s.dir)}`}`,
  );
  for (const h of s.hooks) {
    const state = !h.installed
      ? 'missing'
      : h.runnable
        ? 'ok'
        : 'installed but git will not run it (not executable / no husky stub)';
    ctx.io.out(`  ${h.hook.padEnd(14)} ${state}`);
  }
  ctx.io.out(
    `  runner         ${s.runner.present ? `${s.runner.file}${s.runnerCurrent ? '' : ' (not this version: run `gastown hooks install`)'}` : 'missing'}`,
  );
  if (s.runner.present) {
    ctx.io.out(
      `  node           ${s.nodeReachable ? s.runner.node : `not found at ${s.runner.node ?? '?'} (hooks fall back to PATH)`}`,
    );
    ctx.io.out(`  cli            ${s.cliPresent ? s.runner.cli : `not found at ${s.runner.cli ?? '?'}`}`);
  }
  if (!healthy) ctx.io.out('run `gastown hooks install` to (re)install, `gastown doctor` for details');
  return healthy ? 0 : 1;
}
