// Announcing queued mail beyond the repository: an HTTP POST per webhook, an email per SMTP
// endpoint. At least once: a copy stays pending until its endpoint accepted it and that is
// recorded, so a crash in between sends it again, with the same idempotency key (webhooks: the
// `Idempotency-Key` header; email: the Message-ID), for the receiver to drop the repeat.
// Never called from a git hook: an endpoint may take seconds to answer.
import { mkdirSync } from 'node:fs';
import { GastownError } from '../errors.js';
import { folderAddress } from '../mail/address.js';
import { messageRel } from '../mail/layout.js';
import type { MailHeader } from '../mail/message.js';
import { readEntry } from '../mail/store.js';
import { commandEnv } from '../scope.js';
import { acquireLock } from '../store/lock.js';
import type { GastownConfig } from '../store/types.js';
import { type EmailEndpoint, type Endpoint, notificationEndpoints, type WebhookEndpoint } from './config.js';
import {
  clearAttempts,
  failedRecords,
  markDelivered,
  outboxDir,
  outboxLockPath,
  outboxView,
  queueCopy,
  queuedCopies,
  unqueueCopy,
  writeAttempts,
} from './outbox.js';
import {
  afterFailure,
  type Delivery,
  emailRecipients,
  planDeliveries,
  type QueuedCopy,
  webhookPayload,
} from './plan.js';

/** What one attempt came to; `permanent` failures are not retried (a 4xx, a rejected recipient). */
export type AttemptResult = { ok: true } | { ok: false; error: string; permanent: boolean };

/** Sends one delivery; injectable so the loop is tested apart from the network. */
export type Transport = (
  delivery: Delivery & { copy: { header: MailHeader } },
  body: string,
) => Promise<AttemptResult>;

export interface DeliverOptions {
  /** Keep retrying, within this run, attempts that fall due within this many ms (default 0: one pass). */
  waitMs?: number;
  /** Failed deliveries start over (`notifications deliver --retry-failed`). */
  retryFailed?: boolean;
  env?: NodeJS.ProcessEnv;
  transport?: Transport;
  /** The clock of backoff decisions (ms since epoch). */
  now?: () => number;
  /** Called after each attempt, for progress lines. */
  onAttempt?: (d: Delivery, result: AttemptResult) => void;
}

/** What this run did: deliveries made, deliveries that failed for good, and those left to retry. */
export interface DeliverResult {
  delivered: number;
  failed: number;
  retrying: number;
  /** Another process was delivering: this run did nothing. */
  busy?: boolean;
}

/** The queued copies with their headers (read from the message files). */
async function loadQueued(root: string): Promise<QueuedCopy[]> {
  const out: QueuedCopy[] = [];
  for (const { folder, id } of queuedCopies(root)) {
    const mailbox = folderAddress(folder);
    if (mailbox === undefined) continue;
    const e = await readEntry(root, folder, id);
    out.push({ folder, mailbox, id, ...('header' in e ? { header: e.header } : {}) });
  }
  return out;
}

/** Everything the outbox knows, for `notifications status`. */
export async function outboxStatus(root: string, config: GastownConfig) {
  const endpoints = notificationEndpoints(config);
  const deliveries = planDeliveries(await loadQueued(root), endpoints, config, outboxView(root));
  const open = deliveries.filter((d) => d.state === 'pending' || d.state === 'retrying');
  const failed = failedRecords(root);
  return { endpoints, pending: open, failed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Announces every queued copy that is due, records each outcome, and stops tracking copies every
 * endpoint has settled. Holds the outbox lock (not the engine's); when another process holds it,
 * returns `busy` at once.
 */
export async function deliverPending(
  root: string,
  config: GastownConfig,
  options: DeliverOptions = {},
): Promise<DeliverResult> {
  const endpoints = notificationEndpoints(config);
  const now = options.now ?? Date.now;
  const result: DeliverResult = { delivered: 0, failed: 0, retrying: 0 };
  mkdirSync(outboxDir(root), { recursive: true });
  let lock: Awaited<ReturnType<typeof acquireLock>>;
  try {
    lock = await acquireLock(root, 0, outboxLockPath(root));
  } catch (err) {
    if (err instanceof GastownError && err.code === 'store.locked') return { ...result, busy: true };
    throw err;
  }
  try {
    if (options.retryFailed)
      for (const f of failedRecords(root)) {
        clearAttempts(root, f.endpoint, f.folder, f.id);
        queueCopy(root, f.folder, f.id);
      }
    const transport = options.transport ?? defaultTransport(config, options.env ?? commandEnv());
    const deadline = now() + (options.waitMs ?? 0);
    const view = outboxView(root);
    for (;;) {
      const copies = await loadQueued(root);
      const deliveries = planDeliveries(copies, endpoints, config, view);
      let next: number | undefined;
      for (const d of deliveries) {
        if (d.state !== 'pending' && d.state !== 'retrying') continue;
        const due = d.dueAt ?? 0;
        if (due > now()) {
          next = next === undefined ? due : Math.min(next, due);
          continue;
        }
        const entry = await readEntry(root, d.copy.folder, d.copy.id);
        if (!('header' in entry)) continue;
        const attempt = await transport(
          { ...d, copy: { ...d.copy, header: entry.header } },
          entry.body ?? '',
        ).catch((err: unknown): AttemptResult => ({ ok: false, error: String(err), permanent: false }));
        if (attempt.ok) {
          markDelivered(root, d.endpoint.name, d.copy.folder, d.copy.id);
          clearAttempts(root, d.endpoint.name, d.copy.folder, d.copy.id);
          result.delivered++;
        } else {
          const record = afterFailure(d.endpoint, d.record, attempt.error, attempt.permanent, now());
          writeAttempts(root, d.endpoint.name, d.copy.folder, d.copy.id, record);
          if (record.failed) result.failed++;
          if (!record.failed && record.next_at !== undefined)
            next = next === undefined ? record.next_at : Math.min(next, record.next_at);
        }
        options.onAttempt?.(d, attempt);
      }
      // Copies with nothing left to do for any endpoint leave the queue.
      const after = planDeliveries(copies, endpoints, config, view);
      for (const c of copies) {
        const open = after.some((d) => d.copy === c && (d.state === 'pending' || d.state === 'retrying'));
        if (!open) unqueueCopy(root, c.folder, c.id);
      }
      if (next === undefined || next > deadline) {
        result.retrying = after.filter((d) => d.state === 'pending' || d.state === 'retrying').length;
        return result;
      }
      await sleep(Math.max(0, next - now()));
    }
  } finally {
    lock.release();
  }
}

function statusError(status: number): AttemptResult {
  // Client errors other than timeouts and rate limits will not go away by retrying.
  const permanent = status >= 400 && status < 500 && status !== 408 && status !== 425 && status !== 429;
  return { ok: false, error: `HTTP ${status}`, permanent };
}

async function postWebhook(
  endpoint: WebhookEndpoint,
  env: NodeJS.ProcessEnv,
  d: Delivery & { copy: { header: MailHeader } },
  body: string,
): Promise<AttemptResult> {
  const url = endpoint.url ?? (endpoint.urlEnv ? env[endpoint.urlEnv] : undefined);
  if (!url)
    return { ok: false, error: `environment variable ${endpoint.urlEnv} is not set`, permanent: false };
  const payload = webhookPayload(d.copy, d.key, body, messageRel(d.copy.folder, d.copy.id));
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': d.key, 'user-agent': 'gastown' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(endpoint.timeoutMs),
    });
    // Drain the body so the connection is released.
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? { ok: true } : statusError(res.status);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why =
      e.name === 'TimeoutError' ? `no answer within ${endpoint.timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { ok: false, error: why, permanent: false };
  }
}

type Mailer = { sendMail(message: Record<string, unknown>): Promise<unknown>; close(): void };

async function sendEmail(
  endpoint: EmailEndpoint,
  config: GastownConfig,
  env: NodeJS.ProcessEnv,
  mailers: Map<string, Mailer>,
  d: Delivery & { copy: { header: MailHeader } },
  body: string,
): Promise<AttemptResult> {
  let mailer = mailers.get(endpoint.name);
  if (!mailer) {
    const nodemailer = (await import('nodemailer')).default;
    const pass = endpoint.passwordEnv ? env[endpoint.passwordEnv] : undefined;
    mailer = nodemailer.createTransport({
      host: endpoint.host,
      port: endpoint.port,
      secure: endpoint.secure,
      connectionTimeout: endpoint.timeoutMs,
      greetingTimeout: endpoint.timeoutMs,
      socketTimeout: endpoint.timeoutMs,
      ...(endpoint.user ? { auth: { user: endpoint.user, pass: pass ?? '' } } : {}),
    }) as unknown as Mailer;
    mailers.set(endpoint.name, mailer);
  }
  const h = d.copy.header;
  try {
    await mailer.sendMail({
      from: endpoint.from,
      to: emailRecipients(endpoint, config, d.copy.mailbox),
      subject: h.subject,
      text: `${body}\n--\nFrom ${h.from} to ${d.copy.mailbox} (${messageRel(d.copy.folder, d.copy.id)})\n`,
      // The same Message-ID on every attempt: a mail system that has seen it may drop the repeat.
      messageId: `<${d.key}@gastown>`,
      headers: { 'X-Gastown-Idempotency-Key': d.key, 'X-Gastown-Type': h.type },
    });
    return { ok: true };
  } catch (err) {
    const e = err as Error & { responseCode?: number; code?: string };
    // SMTP 5xx replies are final (no such user, refused); 4xx and lost connections are not.
    const permanent = e.responseCode !== undefined && e.responseCode >= 500;
    return {
      ok: false,
      error: e.responseCode ? `SMTP ${e.responseCode}: ${e.message}` : (e.code ?? e.message),
      permanent,
    };
  }
}

/** Webhooks with fetch, email with nodemailer (loaded only when an email is sent). */
export function defaultTransport(config: GastownConfig, env: NodeJS.ProcessEnv): Transport {
  const mailers = new Map<string, Mailer>();
  return async (d, body) => {
    const e: Endpoint = d.endpoint;
    if (e.kind === 'webhook') return postWebhook(e, env, d, body);
    return sendEmail(e, config, env, mailers, d, body);
  };
}
