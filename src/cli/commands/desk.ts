// `gastown step show` and `gastown prime`: the agent's desk (docs/agents.md).
import { type Desk, deskOf } from '../../desk/desk.js';
import { renderStepViewLazily } from '../../desk/render.js';
import { moleculeRelDir } from '../../engine/io.js';
import { ExitCode, GastownError } from '../../errors.js';
import { loadConfig } from '../../store/config.js';
import { assertMoleculeId } from '../../store/ids.js';
import { findRoot } from '../../store/layout.js';
import type { CliContext } from '../context.js';
import { whoAmI } from './mail.js';

export async function show(
  ctx: CliContext,
  molecule: string,
  step: string,
  flags: { json?: boolean },
): Promise<number> {
  const root = findRoot(ctx.cwd);
  assertMoleculeId(molecule);
  const { moleculeExists } = await import('../../engine/io.js');
  if (!moleculeExists(root, molecule))
    throw new GastownError(
      'molecule.unknown',
      `no molecule ${molecule} (looked in ${moleculeRelDir(molecule)})`,
    );
  const { loadView, renderStepView, stepView } = await import('../../desk/view.js');
  const { state, plan } = await loadView(root, molecule, loadConfig(root), ctx.now());
  const view = stepView(state, plan, step);
  if (flags.json) ctx.io.json(view);
  else for (const line of renderStepView(view)) ctx.io.out(line);
  return ExitCode.ok;
}

interface PrimeJson extends Desk {
  for: string;
  mail: { unread: number; subjects: { id: string; from: string; subject: string }[] };
}

/**
 * What an agent's session-start hook runs: who it is, the step on its hook with the full
 * instructions, what else is ready for it, its unread mail and the trailer that finishes the
 * step. Prints nothing when there is nothing (and nobody to be).
 */
export async function prime(ctx: CliContext, flags: { for?: string; json?: boolean }): Promise<number> {
  let who: Awaited<ReturnType<typeof whoAmI>>;
  try {
    who = await whoAmI(ctx, flags.for !== undefined ? { for: flags.for } : {});
  } catch (err) {
    // Nobody to prime (no --for, no GASTOWN_AGENT, a git user the config does not name): quiet.
    if (flags.for === undefined && err instanceof GastownError && err.exitCode === ExitCode.usage) {
      if (flags.json) ctx.io.json(null);
      return ExitCode.ok;
    }
    throw err;
  }
  const { root, config, me } = who;
  const desk = await deskOf(root, config, me, ctx.now());
  const { readInbox, unread } = await import('../../mail/inbox.js');
  const { items } = await readInbox(root, config, me);
  const waiting = unread(items);
  const out: PrimeJson = {
    for: me,
    ...desk,
    mail: {
      unread: waiting.length,
      subjects: waiting.map((i) => ({ id: i.id, from: i.header.from, subject: i.header.subject })),
    },
  };
  if (flags.json) {
    ctx.io.json(out);
    return ExitCode.ok;
  }
  if (!desk.hook && desk.ready.length === 0 && waiting.length === 0) return ExitCode.ok;
  const c = ctx.io.color;
  // One write for the whole desk (a line at a time was a system call per line).
  const lines: string[] = [];
  lines.push(`You are ${me}.`);
  if (desk.hook) {
    const h = desk.hook;
    lines.push('');
    lines.push(c.bold(`On your hook: ${h.molecule}/${h.step}: ${h.title}`));
    lines.push(...(await renderStepViewLazily(h, { heading: false })));
    if (h.trailer) {
      lines.push('');
      lines.push(`When done, commit with the trailer: ${h.trailer}`);
    }
  }
  if (desk.ready.length > 0) {
    lines.push('');
    lines.push('Also ready for you:');
    for (const r of desk.ready)
      lines.push(`  ${r.molecule}/${r.step}: ${r.title}${r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}`);
  }
  if (waiting.length > 0) {
    lines.push('');
    lines.push(
      `${waiting.length} unread message${waiting.length === 1 ? '' : 's'} (gastown mail inbox --unread):`,
    );
    for (const m of out.mail.subjects) lines.push(`  ${m.id}  ${m.from}  ${m.subject}`);
  }
  ctx.io.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}
