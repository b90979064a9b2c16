// `gastown notifications status|deliver`: the outbox of mail announcements (docs/mail.md).
import { UsageError } from '../../errors.js';
import { parseDuration } from '../../formula/duration.js';
import { deliverPending, outboxStatus } from '../../notify/deliver.js';
import { loadConfig } from '../../store/config.js';
import { findRoot } from '../../store/layout.js';
import type { CliContext } from '../context.js';

export async function status(ctx: CliContext, flags: { json?: boolean }): Promise<number> {
  const root = findRoot(ctx.cwd);
  const config = loadConfig(root);
  const s = await outboxStatus(root, config);
  if (flags.json) {
    ctx.io.json({
      endpoints: s.endpoints.map((e) => e.name),
      pending: s.pending.map((d) => ({
        endpoint: d.endpoint.name,
        mailbox: d.copy.mailbox,
        id: d.copy.id,
        key: d.key,
        attempts: d.record?.attempts ?? 0,
        ...(d.record?.next_at ? { next_at: new Date(d.record.next_at).toISOString() } : {}),
        ...(d.record?.last_error ? { last_error: d.record.last_error } : {}),
      })),
      failed: s.failed.map((f) => ({
        endpoint: f.endpoint,
        folder: f.folder,
        id: f.id,
        attempts: f.record.attempts,
        last_error: f.record.last_error,
      })),
    });
    return s.failed.length > 0 ? 1 : 0;
  }
  if (s.endpoints.length === 0)
    ctx.io.out('no notification endpoints in .beads/config.toml ([notifications])');
  if (s.pending.length === 0 && s.failed.length === 0) {
    if (s.endpoints.length > 0) ctx.io.out('nothing pending');
    return 0;
  }
  for (const d of s.pending) {
    const retry = d.record
      ? ` (attempt ${d.record.attempts + 1} at ${new Date(d.record.next_at ?? 0).toISOString()}; last: ${d.record.last_error})`
      : '';
    ctx.io.out(`pending  ${d.endpoint.name}  ${d.copy.mailbox}  ${d.copy.id}${retry}`);
  }
  for (const f of s.failed)
    ctx.io.out(
      ctx.io.color.red(
        `failed   ${f.endpoint}  ${f.folder}  ${f.id} after ${f.record.attempts} attempt(s): ${f.record.last_error}`,
      ),
    );
  return s.failed.length > 0 ? 1 : 0;
}

export async function deliver(
  ctx: CliContext,
  flags: { wait?: string; retryFailed?: boolean; json?: boolean },
): Promise<number> {
  const root = findRoot(ctx.cwd);
  const config = loadConfig(root);
  const waitMs = flags.wait === undefined ? 0 : parseDuration(flags.wait);
  if (waitMs === undefined)
    throw new UsageError(`--wait must be a duration such as 30s, not ${JSON.stringify(flags.wait)}`);
  const r = await deliverPending(root, config, {
    waitMs,
    retryFailed: Boolean(flags.retryFailed),
    env: ctx.env,
    onAttempt: (d, result) => {
      if (flags.json) return;
      const what = `${d.endpoint.name} ${d.copy.mailbox} ${d.copy.id}`;
      if (result.ok) ctx.io.out(`delivered ${what}`);
      else ctx.io.warn(`${what}: ${result.error}${result.permanent ? ' (not retried)' : ''}`);
    },
  });
  if (flags.json) ctx.io.json(r);
  else if (r.busy) ctx.io.out('another gastown process is delivering notifications');
  else if (r.failed > 0 || r.retrying > 0)
    ctx.io.out(`${r.retrying} to retry, ${r.failed} failed (gastown notifications status)`);
  return r.failed > 0 ? 1 : 0;
}
