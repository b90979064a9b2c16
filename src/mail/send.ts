// Writing mail: a message people and agents send (named by a ULID), and the engine's typed
// messages (named by what happened, typed.ts). Both go through writeMailFiles, which queues each
// copy for notification before writing it (docs/mail.md, "Notifications").
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GastownError, UsageError } from '../errors.js';
import { notificationEndpoints } from '../notify/config.js';
import { queueCopy } from '../notify/outbox.js';
import type { CreateOutcome } from '../store/atomic.js';
import { ulid } from '../store/ids.js';
import type { GastownConfig } from '../store/types.js';
import { addressFolder, assertAddress, assertMailboxOwner, expandRecipients } from './address.js';
import { messageRel } from './layout.js';
import {
  checkBodySize,
  type MailHeader,
  MessageError,
  PRIORITIES,
  type Priority,
  renderMessage,
} from './message.js';
import { writeCopies } from './store.js';
import type { MailFile } from './typed.js';

export interface WrittenFile extends MailFile {
  outcome: CreateOutcome;
}

/**
 * Writes message files (from planTransitionMail or composeMessage). With notifications
 * configured, each copy is queued in the outbox first, so a crash between the two leaves a
 * queue entry without a message (nothing to announce), never a message nobody announces.
 * An existing identical file is `same`; one with other bytes is a `conflict` left untouched.
 */
export function writeMailFiles(
  root: string,
  config: GastownConfig,
  files: readonly MailFile[],
): WrittenFile[] {
  const notify = notificationEndpoints(config).length > 0;
  return files.map((f) => {
    // A copy already there was queued when it was first written (and may be announced already).
    if (notify && !existsSync(join(root, f.path))) queueCopy(root, f.folder, f.id);
    const [written] = writeCopies(root, [f.folder], f.id, f.content);
    return { ...f, outcome: (written as { outcome: CreateOutcome }).outcome };
  });
}

export interface Draft {
  from: string;
  to: readonly string[];
  cc?: readonly string[];
  subject: string;
  body: string;
  thread?: string;
  reply_to?: string;
  priority?: string;
  molecule?: string;
  step?: string;
}

/**
 * Checks a message people or agents send and lays out its files: one copy per mailbox (teams fan
 * out, cc included), all under one new ULID. Nothing is written. An unknown address is a usage
 * error, a body over the limit is refused; a team member the config does not define is returned
 * in `unknownMembers` (the rest of the team still gets the message).
 */
export function composeMessage(
  config: GastownConfig,
  draft: Draft,
): { id: string; files: MailFile[]; unknownMembers: string[] } {
  assertMailboxOwner(config, draft.from, 'sender');
  if (draft.to.length === 0) throw new UsageError('a message needs a recipient: --to ADDRESS');
  for (const a of [...draft.to, ...(draft.cc ?? [])]) assertAddress(config, a, 'recipient');
  const subject = draft.subject.trim();
  if (subject === '' || /[\r\n]/.test(subject)) throw new UsageError('--subject must be one non-empty line');
  if (draft.priority !== undefined && !(PRIORITIES as readonly string[]).includes(draft.priority))
    throw new UsageError(`--priority must be one of ${PRIORITIES.join(', ')}`);
  try {
    checkBodySize(draft.body);
  } catch (err) {
    if (err instanceof MessageError) throw new GastownError('mail.too-large', err.message, { exitCode: 1 });
    throw err;
  }
  const header: MailHeader = {
    from: draft.from,
    to: [...draft.to],
    ...(draft.cc && draft.cc.length > 0 ? { cc: [...draft.cc] } : {}),
    subject,
    type: 'message',
    ...(draft.thread ? { thread: draft.thread } : {}),
    ...(draft.reply_to ? { reply_to: draft.reply_to } : {}),
    ...(draft.priority && draft.priority !== 'normal' ? { priority: draft.priority as Priority } : {}),
    ...(draft.molecule ? { molecule: draft.molecule } : {}),
    ...(draft.step ? { step: draft.step } : {}),
  };
  const content = renderMessage(header, draft.body);
  const id = ulid();
  const { mailboxes, unknown } = expandRecipients(config, [...draft.to, ...(draft.cc ?? [])]);
  const files = mailboxes.map((mailbox) => {
    const folder = addressFolder(mailbox);
    return { path: messageRel(folder, id), mailbox, folder, id, content };
  });
  return { id, files, unknownMembers: unknown };
}
