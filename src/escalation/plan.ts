// What escalations need now, from their files, the times their levels were committed and the
// clock: re-escalations one severity up after `stale_after`, at most `max_reescalations`, never
// once acknowledged or closed; and the escalations the engine raises by itself. Pure.

import type { GateBlock } from '../engine/types.js';
import { addressFolder, ENGINE_SENDER, expandRecipients } from '../mail/address.js';
import { messageRel } from '../mail/layout.js';
import { type Priority, renderMessage } from '../mail/message.js';
import type { MailFile } from '../mail/typed.js';
import type { GastownConfig } from '../store/types.js';
import {
  type EscalationRecord,
  type EscalationSettings,
  escalationRel,
  levelFile,
  renderLevel,
  type Severity,
  severityAbove,
} from './model.js';

/** An escalation as its folder says. */
export interface EscalationState {
  record: EscalationRecord;
  /** Re-escalations recorded: 0 when none. */
  level: number;
  acks: string[];
  closed: { by: string; reason?: string }[];
  /** Author time (ms) of the commit that added each level's file (0: escalation.toml); absent while uncommitted. */
  since: Map<number, number>;
}

export type EscalationStatus = 'open' | 'acknowledged' | 'closed';

export function statusOf(e: EscalationState): EscalationStatus {
  return e.closed.length > 0 ? 'closed' : e.acks.length > 0 ? 'acknowledged' : 'open';
}

export function severityAt(e: EscalationState, level = e.level): Severity {
  return severityAbove(e.record.severity, level);
}

/** When the current level goes stale (ms), or undefined: not open, at the limit, or not committed yet. */
export function staleAt(e: EscalationState, settings: EscalationSettings): number | undefined {
  if (statusOf(e) !== 'open' || e.level >= settings.maxReescalations) return undefined;
  const since = e.since.get(e.level);
  return since === undefined ? undefined : since + settings.staleAfterMs;
}

const PRIORITY: Record<Severity, Priority | undefined> = {
  low: 'low',
  medium: undefined,
  high: 'high',
  critical: 'urgent',
};

/** The id of the mail for one level of an escalation. */
export function escalationMailId(id: string, level: number): string {
  return `${id}.escalation.${level}`;
}

/**
 * The mail of one level: to the `mail:` routes of its severity and the escalation's `to`.
 * Deterministic: two clones re-escalating at once write the same files.
 */
export function escalationMail(
  e: EscalationRecord,
  level: number,
  settings: EscalationSettings,
  config: GastownConfig,
): { files: MailFile[]; logged: boolean; webhooks: string[]; unknown: string[] } {
  const severity = severityAbove(e.severity, level);
  const routes = settings.routes[severity];
  const to: string[] = [];
  for (const r of routes) if (r.kind === 'mail' && !to.includes(r.address)) to.push(r.address);
  for (const a of e.to ?? []) if (!to.includes(a)) to.push(a);
  const logged = routes.some((r) => r.kind === 'log');
  const webhooks = routes.flatMap((r) => (r.kind === 'webhook' ? [r.name] : []));
  if (to.length === 0) return { files: [], logged, webhooks, unknown: [] };
  const { mailboxes, unknown } = expandRecipients(config, to);
  const where = e.molecule ? ` (${e.molecule}${e.step ? `/${e.step}` : ''})` : '';
  const lines = [
    `${severity.toUpperCase()}: ${e.what}${where}`,
    '',
    level > 0
      ? `Nobody acknowledged it at ${severityAbove(e.severity, level - 1)}; raised to ${severity} (re-escalation ${level}).`
      : `Raised${e.by ? ` by ${e.by}` : ''} at ${severity}.`,
    '',
    `Acknowledge: \`gastown escalate ack ${e.id}\``,
    `Resolve: \`gastown escalate close ${e.id} --reason "..."\``,
  ];
  const priority = PRIORITY[severity];
  const content = renderMessage(
    {
      from: ENGINE_SENDER,
      to: to.filter((a) => !unknown.includes(a)),
      subject: `[${severity}] ${e.what}`.slice(0, 200),
      type: 'ESCALATION',
      thread: e.id,
      ...(priority ? { priority } : {}),
      ...(e.molecule ? { molecule: e.molecule } : {}),
      ...(e.step ? { step: e.step } : {}),
    },
    `${lines.join('\n')}\n`,
  );
  const id = escalationMailId(e.id, level);
  const files = mailboxes.map((mailbox) => {
    const folder = addressFolder(mailbox);
    return { path: messageRel(folder, id), mailbox, folder, id, content };
  });
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { files, logged, webhooks, unknown };
}

export interface Reescalation {
  id: string;
  level: number;
  severity: Severity;
  file: { path: string; content: string };
  mail: MailFile[];
  logged: boolean;
}

/** The re-escalations due at `now`. */
export function planReescalations(
  states: readonly EscalationState[],
  settings: EscalationSettings,
  config: GastownConfig,
  now: number,
): Reescalation[] {
  const out: Reescalation[] = [];
  for (const e of states) {
    const at = staleAt(e, settings);
    if (at === undefined || now < at) continue;
    const level = e.level + 1;
    const severity = severityAt(e, level);
    const mail = escalationMail(e.record, level, settings, config);
    out.push({
      id: e.record.id,
      level,
      severity,
      file: { path: escalationRel(e.record.id, levelFile(level)), content: renderLevel(level, severity) },
      mail: mail.files,
      logged: mail.logged,
    });
  }
  return out;
}

/** A molecule that is blocked, with the blocks its plan gives as data (PlanResult `blocks`). */
export interface BlockedMolecule {
  molecule: string;
  blocks: readonly GateBlock[];
}

/**
 * The escalations the engine raises by itself, from the blocks of blocked molecules: a
 * checkpoint that had no decision within its timeout (on_timeout = "escalate"), and a command
 * gate that failed max_attempts times. Ids are derived from the block, so each is raised once.
 */
export function planAutoEscalations(
  blocked: readonly BlockedMolecule[],
  settings: EscalationSettings,
): EscalationRecord[] {
  const out: EscalationRecord[] = [];
  for (const { molecule, blocks } of blocked) {
    for (const b of blocks) {
      if (b.kind === 'checkpoint-overdue')
        out.push({
          id: `${molecule}.${b.checkpoint}.checkpoint-overdue`,
          severity: settings.checkpointSeverity,
          what: `checkpoint ${b.checkpoint} of ${molecule} had no decision within ${b.timeout}`,
          source: 'checkpoint',
          molecule,
          step: b.step,
        });
      else
        out.push({
          id: `${molecule}.${b.step}.gate-exhausted-${b.failures}`,
          severity: settings.gateSeverity,
          what: `gate ${b.step} of ${molecule} failed ${b.failures} times (max_attempts ${b.maxAttempts})`,
          source: 'gate',
          molecule,
          step: b.step,
        });
    }
  }
  return out;
}
