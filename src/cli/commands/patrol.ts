// `gastown patrol` and `gastown heartbeat` (docs/patrol.md).
import { ExitCode, UsageError } from '../../errors.js';
import { writeHeartbeat } from '../../patrol/heartbeat.js';
import { patrol as runPatrol } from '../../patrol/run.js';
import { findRoot } from '../../store/layout.js';
import { actorOf } from '../actor.js';
import type { CliContext } from '../context.js';

export async function patrol(ctx: CliContext, flags: { commit?: boolean; json?: boolean }): Promise<number> {
  const root = findRoot(ctx.cwd);
  const r = await runPatrol({ root, now: ctx.now(), commit: flags.commit !== false, env: ctx.env });
  const code = r.problems.length > 0 ? ExitCode.failure : ExitCode.ok;
  if (flags.json) {
    ctx.io.json(r);
    return code;
  }
  const c = ctx.io.color;
  for (const t of r.transitions) ctx.io.out(`${c.green('→')} ${t.molecule}: ${t.summary}`);
  for (const id of r.convoys_landed) ctx.io.out(`${c.green('→')} convoy ${id} landed`);
  for (const id of r.escalations_raised) ctx.io.out(`${c.yellow('!')} escalation ${id} raised`);
  for (const e of r.reescalated)
    ctx.io.out(`${c.yellow('!')} escalation ${e.id} re-escalated to ${e.severity} (${e.level})`);
  for (const x of r.released) ctx.io.out(`${c.yellow('↺')} ${x.molecule}/${x.step} released from ${x.agent}`);
  for (const a of r.agents)
    ctx.io.out(
      `agent ${a.agent} ${a.state === 'working' ? c.green(a.state) : c.yellow(a.state)}${a.last_heartbeat ? ` (last heartbeat ${a.last_heartbeat})` : ''}${a.claims.length ? `: ${a.claims.map((x) => `${x.molecule}/${x.step}`).join(', ')}` : ''}`,
    );
  if (r.deliveries && (r.deliveries.delivered || r.deliveries.failed || r.deliveries.retrying))
    ctx.io.out(
      `notifications: ${r.deliveries.delivered} delivered, ${r.deliveries.retrying} to retry, ${r.deliveries.failed} failed`,
    );
  for (const p of r.problems) ctx.io.warn(p.message, p.file ? { file: p.file } : undefined);
  for (const commit of r.commits) ctx.io.out(`engine commit ${commit.slice(0, 12)}`);
  if (r.written.length === 0 && r.transitions.length === 0) ctx.io.out('nothing to do');
  return code;
}

export async function heartbeat(ctx: CliContext, flags: { as?: string; json?: boolean }): Promise<number> {
  const agent = actorOf(ctx, flags.as);
  if (agent === undefined) throw new UsageError('heartbeat: name the agent with --as AGENT or GASTOWN_AGENT');
  const at = ctx.now();
  const path = writeHeartbeat(findRoot(ctx.cwd), agent, at);
  if (flags.json) ctx.io.json({ agent, at: at.toISOString(), file: path });
  return ExitCode.ok;
}
