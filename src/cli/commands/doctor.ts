// `gastown doctor [--fix] [--json]`: gather facts, run the pure checks, print them.

import { type Finding, type Level, runChecks } from '../../doctor/checks.js';
import { gatherFacts, removeStaleLock } from '../../doctor/gather.js';
import { repoPaths } from '../../git/repo.js';
import type { CliContext } from '../context.js';

export async function doctor(ctx: CliContext, opts: { fix?: boolean; json?: boolean }): Promise<number> {
  const paths = await repoPaths(ctx.cwd);
  let findings = runChecks(await gatherFacts(paths, ctx.now()));
  const fixed: string[] = [];
  if (opts.fix && findings.some((f) => f.fixable)) {
    const lock = removeStaleLock(paths.root);
    if (lock.removed) fixed.push(`removed ${lock.removed}`);
    if (lock.kept) ctx.io.err(`doctor: kept ${lock.kept}`);
    findings = runChecks(await gatherFacts(paths, ctx.now()));
  }
  const failed = findings.some((f) => f.level === 'error');
  if (opts.json) {
    ctx.io.json({ ok: !failed, fixed, checks: findings });
    return failed ? 1 : 0;
  }
  const c = ctx.io.color;
  const label: Record<Level, string> = {
    ok: c.green('ok   '),
    info: c.dim('info '),
    warn: c.yellow('warn '),
    error: c.red('error'),
  };
  for (const f of fixed) ctx.io.out(`${c.green('fixed')} ${f}`);
  for (const f of findings) ctx.io.out(line(f, label));
  ctx.io.out(failed ? 'doctor: problems found' : 'doctor: all good');
  return failed ? 1 : 0;
}

function line(f: Finding, label: Record<Level, string>): string {
  return `${label[f.level]} ${f.check.padEnd(11)} ${f.message}${f.hint ? ` (${f.hint})` : ''}`;
}
