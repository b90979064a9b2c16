// `gastown escalate "what" --severity …` and `escalate list|show|ack|close` (docs/escalation.md).

import { moleculeExists, moleculeRelDir } from '../../engine/io.js';
import { ExitCode, GastownError, UsageError } from '../../errors.js';
import { escalationSettings } from '../../escalation/model.js';
import { type EscalationState, severityAt, staleAt, statusOf } from '../../escalation/plan.js';
import {
  checkRaise,
  listEscalationIds,
  markEscalation,
  raiseEscalation,
  readEscalation,
  readEscalations,
} from '../../escalation/store.js';
import { commitOwn } from '../../patrol/commit.js';
import { identityForEmail, loadConfig } from '../../store/config.js';
import { assertMoleculeId } from '../../store/ids.js';
import { findRoot } from '../../store/layout.js';
import { withLock } from '../../store/lock.js';
import { actorOf } from '../actor.js';
import type { CliContext } from '../context.js';

function report(ctx: CliContext, made: { commit?: string; skipped?: string }): void {
  if (made.skipped && made.skipped !== 'nothing written') ctx.io.warn(`not committed: ${made.skipped}`);
}

export async function raise(
  ctx: CliContext,
  what: string | undefined,
  flags: { severity?: string; molecule?: string; to?: string; as?: string; json?: boolean },
): Promise<number> {
  if (what === undefined)
    throw new UsageError('escalate: say what is wrong: gastown escalate "what" --severity high');
  if (flags.severity === undefined)
    throw new UsageError('escalate: --severity is required (low, medium, high or critical)');
  const root = findRoot(ctx.cwd);
  const config = loadConfig(root);
  const by = actorOf(ctx, flags.as);
  if (flags.molecule !== undefined) {
    assertMoleculeId(flags.molecule, '--molecule');
    if (!moleculeExists(root, flags.molecule))
      throw new GastownError(
        'molecule.unknown',
        `--molecule names molecule ${flags.molecule}, which does not exist (looked in ${moleculeRelDir(flags.molecule)})`,
      );
  }
  const record = checkRaise(config, {
    what,
    severity: flags.severity,
    ...(flags.molecule ? { molecule: flags.molecule } : {}),
    ...(flags.to ? { to: flags.to } : {}),
    ...(by ? { by } : {}),
    now: ctx.now(),
  });
  const { written, logged, made } = await withLock(root, undefined, async () => {
    const w = raiseEscalation(root, config, record);
    const made = await commitOwn(
      root,
      config,
      w.written,
      `escalation ${record.id} raised (${record.severity})\n\n${record.what}\n\nGastown-Escalation: ${record.id} raised ${record.severity}\n`,
      'local',
    );
    return { ...w, made };
  });
  report(ctx, made);
  if (flags.json)
    ctx.io.json({
      id: record.id,
      severity: record.severity,
      written,
      ...(made.commit ? { commit: made.commit } : {}),
    });
  else {
    ctx.io.out(`escalation ${record.id} raised (${record.severity})`);
    if (logged) ctx.io.err(`escalation ${record.id} [${record.severity}] ${record.what}`);
  }
  return ExitCode.ok;
}

function json(e: EscalationState, config: ReturnType<typeof loadConfig>) {
  const at = staleAt(e, escalationSettings(config));
  return {
    id: e.record.id,
    what: e.record.what,
    source: e.record.source,
    severity: severityAt(e),
    raised_as: e.record.severity,
    level: e.level,
    state: statusOf(e),
    ...(e.record.molecule ? { molecule: e.record.molecule } : {}),
    ...(e.record.step ? { step: e.record.step } : {}),
    ...(e.record.by ? { by: e.record.by } : {}),
    acks: e.acks,
    closed: e.closed,
    ...(at !== undefined ? { reescalates_at: new Date(at).toISOString() } : {}),
  };
}

export async function list(ctx: CliContext, flags: { all?: boolean; json?: boolean }): Promise<number> {
  const root = findRoot(ctx.cwd);
  const config = loadConfig(root);
  const all = (await readEscalations(root)).filter((e) => flags.all || statusOf(e) === 'open');
  if (flags.json) {
    ctx.io.json(all.map((e) => json(e, config)));
    return ExitCode.ok;
  }
  if (all.length === 0) ctx.io.out(flags.all ? 'no escalations' : 'no open escalations');
  for (const e of all)
    ctx.io.out(
      `${e.record.id}  ${severityAt(e)}  ${statusOf(e)}  ${e.record.what}${e.record.molecule ? ` (${e.record.molecule})` : ''}`,
    );
  return ExitCode.ok;
}

export async function show(ctx: CliContext, id: string, flags: { json?: boolean }): Promise<number> {
  const root = findRoot(ctx.cwd);
  const config = loadConfig(root);
  if (!listEscalationIds(root).includes(id)) readEscalation(root, id); // throws naming the file
  const [e] = (await readEscalations(root)).filter((x) => x.record.id === id);
  const j = json(e as EscalationState, config);
  if (flags.json) {
    ctx.io.json(j);
    return ExitCode.ok;
  }
  ctx.io.out(`escalation ${j.id}: ${j.what}`);
  ctx.io.out(`severity ${j.severity} (raised ${j.raised_as}, re-escalated ${j.level} time(s)); ${j.state}`);
  if (j.molecule) ctx.io.out(`molecule ${j.molecule}${j.step ? `/${j.step}` : ''}`);
  for (const a of j.acks) ctx.io.out(`acknowledged by ${a}`);
  for (const c of j.closed) ctx.io.out(`closed by ${c.by}${c.reason ? `: ${c.reason}` : ''}`);
  if (j.reescalates_at) ctx.io.out(`re-escalates at ${j.reescalates_at} unless acknowledged`);
  return ExitCode.ok;
}

/** Who acks or closes: --as, $GASTOWN_AGENT, else the person the config knows by the git email. */
async function who(ctx: CliContext, root: string, as: string | undefined): Promise<string> {
  const actor = actorOf(ctx, as);
  if (actor) return actor;
  const { localIdentity } = await import('../../checkpoint/authors.js');
  const me = await localIdentity(root);
  const known = me.email ? identityForEmail(loadConfig(root), me.email) : undefined;
  if (known) return known;
  throw new UsageError('say who you are: --as @you (or set GASTOWN_AGENT, or a git email the config knows)');
}

async function mark(
  ctx: CliContext,
  id: string,
  kind: 'ack' | 'closed',
  flags: { as?: string; reason?: string; json?: boolean },
): Promise<number> {
  const root = findRoot(ctx.cwd);
  const config = loadConfig(root);
  const by = await who(ctx, root, flags.as);
  const { r, made } = await withLock(root, undefined, async () => {
    const r = markEscalation(root, id, kind, by, flags.reason);
    const verb = kind === 'ack' ? 'acknowledged' : 'closed';
    const made = r.changed
      ? await commitOwn(
          root,
          config,
          [r.path],
          `escalation ${id} ${verb} by ${by}\n\nGastown-Escalation: ${id} ${verb}\n`,
          'local',
        )
      : {};
    return { r, made };
  });
  report(ctx, made);
  if (flags.json)
    ctx.io.json({
      id,
      by,
      file: r.path,
      changed: r.changed,
      ...(made.commit ? { commit: made.commit } : {}),
    });
  else
    ctx.io.out(
      `${kind === 'ack' ? 'acknowledged' : 'closed'} escalation ${id}${r.changed ? '' : ' (already)'}`,
    );
  return ExitCode.ok;
}

export async function ack(
  ctx: CliContext,
  id: string,
  flags: { as?: string; json?: boolean },
): Promise<number> {
  return mark(ctx, id, 'ack', flags);
}

export async function close(
  ctx: CliContext,
  id: string,
  flags: { as?: string; reason?: string; json?: boolean },
): Promise<number> {
  return mark(ctx, id, 'closed', flags);
}
