// Typed messages the engine writes when a transition happens (docs/mail.md, "Typed messages").
// Pure: from what happened and the config, the files to write. Names and bytes depend only on
// the inputs (molecule, step, attempt, type, recipient and the facts quoted), never on time, host
// or a random id, so reconciling twice writes nothing twice and two clones write identical files
// (a clean add/add when they merge).
import { hashHex } from '../hash.js';
import type { GastownConfig } from '../store/types.js';
import { addressFolder, ENGINE_SENDER, expandRecipients } from './address.js';
import { type MessageType, mailSettings, ROUTE_ROLES, type RouteRole } from './config.js';
import { messageRel } from './layout.js';
import { MAX_MAIL_BODY_BYTES, type MailHeader, type Priority, renderMessage } from './message.js';

/** What the engine knows about a transition; each type reads the fields it needs. */
export interface TransitionFacts {
  type: MessageType;
  molecule: string;
  /** Every type but MOLECULE_DONE and a molecule-wide BLOCKED names a step. */
  step?: string;
  /** The step's attempt (1 unless re-opened). */
  attempt?: number;
  /** The step's title and cooked description (vars substituted). */
  title?: string;
  description?: string;
  /** Who works on the step (the `assignee` role). */
  assignee?: string;
  /** A checkpoint's approvers as the formula names them (`@jgil`, `team:leads`); empty: every configured person. */
  approvers?: readonly string[];
  /** Who answers for the molecule (the `owner` role). */
  owner?: string;
  /** CHECKPOINT_DECIDED: the decision and who made it. */
  decision?: 'approved' | 'rejected';
  by?: string;
  /** Why: a rejection's reason, a gate's failure, what blocks. */
  reason?: string;
  /** Repo-relative path of the checkpoint file (CHECKPOINT_READY, CHECKPOINT_DECIDED). */
  checkpoint?: string;
  /** The output under review: repo-relative path and its text. */
  output?: { path: string; text?: string };
  /** A gate report: repo-relative path and its summary. */
  report?: { path: string; summary?: string };
}

export interface MailFile {
  /** Repo-relative path: `.beads/mail/<folder>/<id>.md`. */
  path: string;
  /** The mailbox it is for. */
  mailbox: string;
  folder: string;
  id: string;
  content: string;
}

export interface TransitionMail {
  /** The files to create (one per mailbox), sorted by path. */
  files: MailFile[];
  /** Route entries that name no mailbox the config knows, or roles the facts leave empty. */
  problems: string[];
}

const TYPE_SLUG: Record<MessageType, string> = {
  STEP_READY: 'step-ready',
  CHECKPOINT_READY: 'checkpoint-ready',
  CHECKPOINT_DECIDED: 'checkpoint-decided',
  GATE_FAILED: 'gate-failed',
  BLOCKED: 'blocked',
  MOLECULE_DONE: 'molecule-done',
};

/**
 * The message id: `<molecule>[.<step>.<attempt>].<type>`, plus `.<hash>` of the reason for
 * BLOCKED (a molecule may be blocked for one reason, then another, within one attempt). Molecule
 * ids hold no `.`, and ULIDs are upper case, so an engine id is never a ULID.
 */
export function typedMessageId(facts: TransitionFacts): string {
  const parts = [facts.molecule];
  if (facts.step !== undefined) parts.push(facts.step, String(facts.attempt ?? 1));
  parts.push(TYPE_SLUG[facts.type]);
  if (facts.type === 'BLOCKED') parts.push(hashHex('sha1', facts.reason ?? '').slice(0, 8));
  return parts.join('.');
}

const PRIORITY: Record<MessageType, Priority | undefined> = {
  STEP_READY: undefined,
  CHECKPOINT_READY: 'high',
  CHECKPOINT_DECIDED: undefined,
  GATE_FAILED: 'high',
  BLOCKED: 'high',
  MOLECULE_DONE: undefined,
};

function subjectOf(f: TransitionFacts): string {
  const where = f.step === undefined ? f.molecule : `${f.molecule}/${f.step}`;
  const attempt = f.attempt !== undefined && f.attempt > 1 ? ` (attempt ${f.attempt})` : '';
  const title = f.title ? `: ${f.title}` : '';
  switch (f.type) {
    case 'STEP_READY':
      return `Ready for you: ${where}${attempt}${title}`;
    case 'CHECKPOINT_READY':
      return `Approval required: ${where}${attempt}${title}`;
    case 'CHECKPOINT_DECIDED':
      return `${f.decision === 'rejected' ? 'Rejected' : 'Approved'}: ${where}${attempt}`;
    case 'GATE_FAILED':
      return `Gate failed: ${where}${attempt}`;
    case 'BLOCKED':
      return `Blocked: ${where}${attempt}`;
    case 'MOLECULE_DONE':
      return `Done: ${f.molecule}`;
  }
}

/** Text cut to `max` bytes at a character boundary. */
function cut(text: string, max: number): { text: string; cut: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return { text, cut: false };
  let end = Math.max(0, max);
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString('utf8'), cut: true };
}

function bodyOf(f: TransitionFacts): string {
  const where = f.step === undefined ? f.molecule : `${f.molecule}/${f.step}`;
  const lines: string[] = [];
  const para = (...ls: string[]) => {
    if (lines.length > 0) lines.push('');
    lines.push(...ls);
  };
  switch (f.type) {
    case 'STEP_READY':
      para(
        `Step \`${where}\` is ready${f.assignee ? ` for ${f.assignee}` : ''} (attempt ${f.attempt ?? 1}).`,
      );
      if (f.description) para(f.description.trimEnd());
      para(
        `Start: \`gastown step start ${f.molecule} ${f.step ?? ''}\``,
        `Finish: commit with \`--trailer "Gastown-Done: ${where}"\` or run \`gastown step done ${f.molecule} ${f.step ?? ''}\``,
      );
      break;
    case 'CHECKPOINT_READY':
      para(`Checkpoint \`${where}\` waits for a decision (attempt ${f.attempt ?? 1}).`);
      if (f.checkpoint) para(`Decide in \`${f.checkpoint}\`, or:`);
      para(
        `    gastown checkpoint approve ${f.molecule} ${f.step ?? ''}`,
        `    gastown checkpoint reject ${f.molecule} ${f.step ?? ''} --reason "..."`,
      );
      break;
    case 'CHECKPOINT_DECIDED':
      para(
        `Checkpoint \`${where}\` was ${f.decision ?? 'decided'}${f.by ? ` by ${f.by}` : ''} (attempt ${f.attempt ?? 1}).`,
      );
      if (f.reason) para('Reason:', '', f.reason.trimEnd());
      if (f.checkpoint) para(`See \`${f.checkpoint}\`.`);
      break;
    case 'GATE_FAILED':
      para(`The gate of \`${where}\` failed (attempt ${f.attempt ?? 1}).`);
      if (f.reason) para(f.reason.trimEnd());
      if (f.report)
        para(`Report: \`${f.report.path}\``, ...(f.report.summary ? ['', f.report.summary.trimEnd()] : []));
      break;
    case 'BLOCKED':
      para(`\`${where}\` is blocked${f.reason ? `: ${f.reason.trimEnd()}` : '.'}`);
      break;
    case 'MOLECULE_DONE':
      para(`Molecule \`${f.molecule}\` is complete.`);
      break;
  }
  let text = `${lines.join('\n')}\n`;
  if (f.output) {
    const head = `\n## Output under review: \`${f.output.path}\`\n\n`;
    if (f.output.text !== undefined) {
      const note = `\n\n(cut to fit a message; read the whole file at \`${f.output.path}\`)\n`;
      const room = MAX_MAIL_BODY_BYTES - Buffer.byteLength(text + head + note, 'utf8');
      const quoted = cut(f.output.text, room);
      text += `${head}${quoted.text.trimEnd()}\n${quoted.cut ? note.slice(1) : ''}`;
    } else text += head.trimEnd().concat('\n');
  }
  return text;
}

/** Route entries for a role, from the facts. */
function roleAddresses(f: TransitionFacts, role: RouteRole, config: GastownConfig): string[] {
  if (role === 'assignee') return f.assignee ? [f.assignee] : [];
  if (role === 'owner') return f.owner ? [f.owner] : [];
  // A checkpoint that names no approvers may be decided by any configured person (trust.ts).
  if (f.approvers && f.approvers.length > 0) return [...f.approvers];
  return Object.keys(config.users)
    .sort()
    .map((h) => `@${h}`);
}

/** Agents name steps' assignees without a prefix; a configured user handle without `@` is a person. */
function normalise(config: GastownConfig, address: string): string {
  if (/^(@|team:|queue:)/.test(address)) return address;
  if (!Object.hasOwn(config.agents, address) && Object.hasOwn(config.users, address)) return `@${address}`;
  return address;
}

/**
 * The message files for one transition, to create with createFileExclusive (an identical file
 * already there is a no-op). Recipients come from `[mail.routes]` (roles filled from `facts`),
 * teams fan out to one copy per member, and each mailbox gets one copy however many routes name it.
 */
export function planTransitionMail(facts: TransitionFacts, config: GastownConfig): TransitionMail {
  const routes = mailSettings(config).routes[facts.type];
  const problems: string[] = [];
  const to: string[] = [];
  for (const entry of routes) {
    const isRole = (ROUTE_ROLES as readonly string[]).includes(entry);
    const addresses = isRole ? roleAddresses(facts, entry as RouteRole, config) : [entry];
    for (const a of addresses.map((x) => normalise(config, x))) if (!to.includes(a)) to.push(a);
  }
  if (to.length === 0) return { files: [], problems };
  const { mailboxes, unknown } = expandRecipients(config, to);
  for (const u of unknown)
    problems.push(`${facts.type} for ${facts.molecule}: no mailbox for ${u} in .beads/config.toml`);
  const known = to.filter((a) => !unknown.includes(a));
  if (mailboxes.length === 0) return { files: [], problems };
  const header: MailHeader = {
    from: ENGINE_SENDER,
    to: known,
    subject: subjectOf(facts),
    type: facts.type,
    thread: facts.molecule,
    ...(PRIORITY[facts.type] ? { priority: PRIORITY[facts.type] } : {}),
    molecule: facts.molecule,
    ...(facts.step !== undefined ? { step: facts.step, attempt: facts.attempt ?? 1 } : {}),
  };
  const content = renderMessage(header, bodyOf(facts));
  const id = typedMessageId(facts);
  const files = mailboxes.map((mailbox) => {
    const folder = addressFolder(mailbox);
    return { path: messageRel(folder, id), mailbox, folder, id, content };
  });
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { files, problems };
}
