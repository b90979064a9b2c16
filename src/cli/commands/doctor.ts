// `gastown doctor [--fix] [--json]`: gather facts, run the pure checks, print them.

import { type Finding, type Level, runChecks } from '../../doctor/checks.js';
import { type DoctorProgress, gatherFacts, removeStaleLock } from '../../doctor/gather.js';
import { repoPaths } from '../../git/repo.js';
import type { CliContext } from '../context.js';

/**
 * `doctor: 120/1000 molecules` kept on one line of a terminal's stderr while the audit runs, at
 * most every PROGRESS_MS, and wiped at the end; nothing when stderr is not a terminal or under
 * --json. Plain text and a carriage return: no colour or cursor codes (NO_COLOR holds).
 */
function progressLine(ctx: CliContext, json: boolean | undefined): DoctorProgress | undefined {
  if (json || ctx.env.TERM === 'dumb' || !ctx.isTTY()) return undefined;
  let last = 0;
  let width = 0;
  return (done, total) => {
    if (total === 0) return;
    const t = Date.now();
    const end = done === total;
    if (!end && done !== 0 && t - last < PROGRESS_MS) return;
    last = t;
    const text = end ? '' : `doctor: ${done}/${total} molecules`;
    ctx.write(2, `\r${text.padEnd(width)}${end ? '\r' : ''}`);
    width = Math.max(width, text.length);
  };
}
const PROGRESS_MS = 100;

export async function doctor(ctx: CliContext, opts: { fix?: boolean; json?: boolean }): Promise<number> {
  const paths = await repoPaths(ctx.cwd);
  const progress = progressLine(ctx, opts.json);
  let findings = runChecks(await gatherFacts(paths, ctx.now(), progress));
  const fixed: string[] = [];
  if (opts.fix && findings.some((f) => f.fixable)) {
    const lock = removeStaleLock(paths.root);
    if (lock.removed) fixed.push(`removed ${lock.removed}`);
    if (lock.kept) ctx.io.err(`doctor: kept ${lock.kept}`);
    findings = runChecks(await gatherFacts(paths, ctx.now(), progress));
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
