// Which deliveries a queued message copy needs and when each is due (docs/mail.md,
// "Notifications"). Pure: the outbox's files, the config and the time in; decisions out.
import { hashHex } from '../hash.js';
import { expandRecipients } from '../mail/address.js';
import type { MailHeader } from '../mail/message.js';
import type { GastownConfig } from '../store/types.js';
import type { Endpoint } from './config.js';

/** A message copy the outbox holds: written on this clone, announced by this clone. */
export interface QueuedCopy {
  folder: string;
  /** The mailbox the copy is in. */
  mailbox: string;
  id: string;
  /** Undefined when the message file is not there (yet, or any more): nothing to announce. */
  header?: MailHeader;
}

/** An endpoint's record of a copy while it is being retried, and once it failed for good. */
export interface AttemptRecord {
  attempts: number;
  /** When the next attempt is due (ms since epoch); absent once failed. */
  next_at?: number;
  last_error: string;
  failed?: boolean;
}

export type DeliveryState = 'pending' | 'retrying' | 'failed' | 'delivered';

export interface Delivery {
  endpoint: Endpoint;
  copy: QueuedCopy;
  /** The same for every attempt, every run and every clone: receivers drop repeats by it. */
  key: string;
  state: DeliveryState;
  record?: AttemptRecord;
  /** For pending and retrying deliveries: when it may be attempted (ms since epoch). */
  dueAt?: number;
}

/** The idempotency key of one endpoint's delivery of one message copy. */
export function idempotencyKey(endpoint: string, folder: string, id: string): string {
  return hashHex('sha256', `gastown-notification\n${endpoint}\n${folder}\n${id}`).slice(0, 40);
}

/** The wait after `attempts` failed attempts: backoff, doubling each time, at most an hour. */
export function backoffAfter(endpoint: Endpoint, attempts: number): number {
  const ms = endpoint.backoffMs * 2 ** Math.max(0, attempts - 1);
  return Math.min(ms, 3_600_000);
}

/** The email address a copy goes to: the endpoint's fixed list, else the mailbox owner's first email. */
export function emailRecipients(endpoint: Endpoint, config: GastownConfig, mailbox: string): string[] {
  if (endpoint.kind !== 'email') return [];
  if (endpoint.to && endpoint.to.length > 0) return endpoint.to;
  const first = mailbox.startsWith('@')
    ? config.users[mailbox.slice(1)]?.emails[0]
    : config.agents[mailbox]?.emails[0];
  return first ? [first] : [];
}

/** Does the endpoint announce this copy? Its `types` and `addresses` filters, and an email needs an address. */
export function endpointMatches(endpoint: Endpoint, config: GastownConfig, copy: QueuedCopy): boolean {
  if (!copy.header) return false;
  if (endpoint.types && !endpoint.types.includes(copy.header.type)) return false;
  if (endpoint.addresses) {
    const { mailboxes } = expandRecipients(config, endpoint.addresses);
    if (!mailboxes.includes(copy.mailbox)) return false;
  }
  if (endpoint.kind === 'email' && emailRecipients(endpoint, config, copy.mailbox).length === 0) return false;
  return true;
}

export interface OutboxView {
  /** Is the copy recorded delivered to this endpoint? */
  delivered(endpoint: string, folder: string, id: string): boolean;
  /** The endpoint's attempt record of the copy, if any. */
  attempts(endpoint: string, folder: string, id: string): AttemptRecord | undefined;
}

/** Every delivery the queued copies need, with its state and when it is due. */
export function planDeliveries(
  copies: readonly QueuedCopy[],
  endpoints: readonly Endpoint[],
  config: GastownConfig,
  outbox: OutboxView,
): Delivery[] {
  const out: Delivery[] = [];
  for (const copy of copies) {
    for (const endpoint of endpoints) {
      if (!endpointMatches(endpoint, config, copy)) continue;
      const key = idempotencyKey(endpoint.name, copy.folder, copy.id);
      if (outbox.delivered(endpoint.name, copy.folder, copy.id)) {
        out.push({ endpoint, copy, key, state: 'delivered' });
        continue;
      }
      const record = outbox.attempts(endpoint.name, copy.folder, copy.id);
      if (record?.failed || (record && record.attempts >= endpoint.maxAttempts))
        out.push({ endpoint, copy, key, state: 'failed', record });
      else if (record)
        out.push({ endpoint, copy, key, state: 'retrying', record, dueAt: record.next_at ?? 0 });
      else out.push({ endpoint, copy, key, state: 'pending', dueAt: 0 });
    }
  }
  return out;
}

/** The record after a failed attempt at `now`: retried after the backoff, or failed for good. */
export function afterFailure(
  endpoint: Endpoint,
  previous: AttemptRecord | undefined,
  error: string,
  permanent: boolean,
  now: number,
): AttemptRecord {
  const attempts = (previous?.attempts ?? 0) + 1;
  if (permanent || attempts >= endpoint.maxAttempts) return { attempts, last_error: error, failed: true };
  return { attempts, next_at: now + backoffAfter(endpoint, attempts), last_error: error };
}

/** The JSON a webhook receives for one message copy. */
export function webhookPayload(
  copy: QueuedCopy & { header: MailHeader },
  key: string,
  body: string,
  path: string,
) {
  const h = copy.header;
  return {
    key,
    id: copy.id,
    mailbox: copy.mailbox,
    path,
    from: h.from,
    to: h.to,
    ...(h.cc ? { cc: h.cc } : {}),
    subject: h.subject,
    type: h.type,
    ...(h.thread ? { thread: h.thread } : {}),
    ...(h.reply_to ? { reply_to: h.reply_to } : {}),
    priority: h.priority ?? 'normal',
    ...(h.molecule ? { molecule: h.molecule } : {}),
    ...(h.step ? { step: h.step } : {}),
    ...(h.attempt ? { attempt: h.attempt } : {}),
    body,
  };
}
