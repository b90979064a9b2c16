// `gastown mail inbox|read|send|reply|thread|ack|archive|check`: one file per message under
// .beads/mail/, read state in files of the reader's own (docs/mail.md).
import { GastownError, UsageError } from '../../errors.js';
import { addressFolder, assertMailboxOwner, ENGINE_SENDER } from '../../mail/address.js';
import {
  allMessages,
  findById,
  type InboxItem,
  type MailWarning,
  readInbox,
  threadOf,
  unread,
} from '../../mail/inbox.js';
import type { Mark } from '../../mail/layout.js';
import { MAX_MAIL_BODY_BYTES, type MailHeader } from '../../mail/message.js';
import { readEntry, writeMark } from '../../mail/store.js';
import { formatBytes, readBoundedFile } from '../../store/atomic.js';
import { identityForEmail, loadConfig } from '../../store/config.js';
import { findRoot } from '../../store/layout.js';
import type { GastownConfig } from '../../store/types.js';
import type { CliContext } from '../context.js';

type ComposedMessage = ReturnType<typeof import('../../mail/send.js').composeMessage>;

interface Who {
  for?: string;
  as?: string;
}

interface Opened {
  root: string;
  config: GastownConfig;
  me: string;
}

/**
 * Who reads or sends: `--for`/`--as`, else $GASTOWN_AGENT, else the git user's email as
 * `[users]` or `[agents]` of the config names it.
 */
async function open(ctx: CliContext, who: Who): Promise<Opened> {
  const root = findRoot(ctx.cwd);
  const config = loadConfig(root);
  const flag = who.for ?? who.as;
  const given = flag ?? (ctx.env.GASTOWN_AGENT || undefined);
  if (given) {
    assertMailboxOwner(config, given, flag ? (who.for ? '--for' : '--as') : 'GASTOWN_AGENT');
    return { root, config, me: given };
  }
  const { localIdentity } = await import('../../checkpoint/authors.js');
  const ident = await localIdentity(root);
  const me = ident.email ? identityForEmail(config, ident.email) : undefined;
  if (!me)
    throw new UsageError(
      `who are you? pass --for/--as ADDRESS or set GASTOWN_AGENT (git user ${ident.email ? `<${ident.email}>` : 'has no email and'} is not in [users] or [agents] of .beads/config.toml)`,
    );
  return { root, config, me };
}

function warnAll(ctx: CliContext, warnings: readonly MailWarning[]): void {
  for (const w of warnings) ctx.io.warn(w.message, { file: w.file, ...(w.field ? { path: w.field } : {}) });
}

function stateWord(i: InboxItem): string {
  if (i.archived) return 'archived';
  if (i.acked) return 'acked';
  return i.read ? 'read' : 'new';
}

function itemJson(i: InboxItem) {
  return {
    id: i.id,
    mailbox: i.mailbox,
    path: i.path,
    ...i.header,
    read: i.read,
    acked: i.acked,
    archived: i.archived,
    ...(i.claimedBy ? { claimed_by: i.claimedBy } : {}),
    ...(i.claimers ? { claimers: i.claimers } : {}),
  };
}

export async function inbox(
  ctx: CliContext,
  flags: Who & { unread?: boolean; all?: boolean; json?: boolean },
): Promise<number> {
  const { root, config, me } = await open(ctx, flags);
  const { items, warnings } = await readInbox(root, config, me, { all: Boolean(flags.all) });
  warnAll(ctx, warnings);
  const shown = flags.unread ? unread(items) : items;
  if (flags.json) {
    ctx.io.json(shown.map(itemJson));
    return 0;
  }
  if (shown.length === 0) {
    ctx.io.out(`no ${flags.unread ? 'unread ' : ''}mail for ${me}`);
    return 0;
  }
  const c = ctx.io.color;
  const fromWidth = Math.min(20, Math.max(...shown.map((i) => i.header.from.length)));
  for (const i of shown) {
    const state = stateWord(i).padEnd(8);
    const where =
      i.mailbox === me ? '' : c.dim(`  [${i.mailbox}${i.claimedBy ? `, held by ${i.claimedBy}` : ''}]`);
    const line = `${i.id}  ${state}  ${i.header.from.padEnd(fromWidth)}  ${i.header.subject}${where}`;
    ctx.io.out(i.read || i.archived ? line : c.bold(line));
  }
  return 0;
}

export async function check(ctx: CliContext, flags: Who & { json?: boolean }): Promise<number> {
  const { root, config, me } = await open(ctx, flags);
  const { items, warnings } = await readInbox(root, config, me);
  warnAll(ctx, warnings);
  const waiting = unread(items);
  if (flags.json) ctx.io.json({ for: me, unread: waiting.length });
  else if (waiting.length > 0)
    ctx.io.out(
      `${waiting.length} unread message${waiting.length === 1 ? '' : 's'} for ${me} (gastown mail inbox --unread)`,
    );
  return waiting.length > 0 ? 0 : 1;
}

/** The reader's copy of a message, by id or unique prefix; archived and held queue mail included. */
async function locate(o: Opened, id: string): Promise<InboxItem> {
  const { items } = await readInbox(o.root, o.config, o.me, { all: true });
  const found = findById(items, id);
  const ids = [...new Set(found.map((i) => i.id))];
  if (ids.length > 1)
    throw new UsageError(`${JSON.stringify(id)} matches several messages: ${ids.slice(0, 5).join(', ')}`);
  const item = found.find((i) => i.mailbox === o.me) ?? found[0];
  if (!item) throw new UsageError(`no message ${JSON.stringify(id)} in the mail of ${o.me}`);
  return item;
}

function mark(o: Opened, item: InboxItem, ...marks: Mark[]): void {
  for (const m of marks) writeMark(o.root, item.folder, addressFolder(o.me), item.id, m);
}

function headerLines(id: string, path: string, h: MailHeader): string[] {
  const rows: [string, string | undefined][] = [
    ['id', id],
    ['from', h.from],
    ['to', h.to.join(', ')],
    ['cc', h.cc?.join(', ')],
    ['subject', h.subject],
    ['type', h.type === 'message' ? undefined : h.type],
    ['thread', h.thread],
    ['reply_to', h.reply_to],
    ['priority', h.priority],
    ['molecule', h.molecule],
    ['step', h.step === undefined ? undefined : `${h.step}${h.attempt ? ` (attempt ${h.attempt})` : ''}`],
    ['path', path],
  ];
  return rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${`${k}:`.padEnd(10)}${v}`);
}

export async function read(ctx: CliContext, id: string, flags: Who & { json?: boolean }): Promise<number> {
  const o = await open(ctx, flags);
  const item = await locate(o, id);
  const entry = await readEntry(o.root, item.folder, item.id);
  if (!('header' in entry))
    throw new GastownError('mail.malformed', entry.problem, {
      location: { file: item.path, ...(entry.field ? { path: entry.field } : {}) },
    });
  // Reading a queue message nobody holds claims it for the reader.
  const claims = item.mailbox !== o.me && item.claimedBy === undefined;
  mark(o, item, ...(claims ? (['claim', 'read'] as const) : (['read'] as const)));
  const heldBy = claims ? o.me : item.claimedBy;
  if (flags.json) {
    ctx.io.json({
      ...itemJson(item),
      ...(heldBy ? { claimed_by: heldBy } : {}),
      read: true,
      body: entry.body,
    });
    return 0;
  }
  for (const line of headerLines(item.id, item.path, entry.header)) ctx.io.out(line);
  if (item.mailbox !== o.me) ctx.io.out(`${'queue:'.padEnd(10)}${item.mailbox}, held by ${heldBy}`);
  if (item.claimers)
    ctx.io.warn(
      `claimed by ${item.claimers.join(' and ')} on different clones; ${item.claimers[0]} holds it (first by name)`,
      { file: item.path },
    );
  ctx.io.out('');
  ctx.io.out((entry.body ?? '').trimEnd());
  return 0;
}

export async function ack(ctx: CliContext, id: string, flags: Who & { json?: boolean }): Promise<number> {
  const o = await open(ctx, flags);
  const item = await locate(o, id);
  mark(o, item, 'read', 'ack');
  if (flags.json) ctx.io.json({ id: item.id, acked: true });
  else ctx.io.out(`acknowledged ${item.id}`);
  return 0;
}

export async function archive(ctx: CliContext, id: string, flags: Who & { json?: boolean }): Promise<number> {
  const o = await open(ctx, flags);
  const item = await locate(o, id);
  mark(o, item, 'read', 'archived');
  if (flags.json) ctx.io.json({ id: item.id, archived: true });
  else ctx.io.out(`archived ${item.id}`);
  return 0;
}

interface BodyFlags {
  body?: string;
  bodyFile?: string;
}

function tooLarge(label: string): GastownError {
  return new GastownError(
    'mail.too-large',
    `${label} is more than ${formatBytes(MAX_MAIL_BODY_BYTES)}; a message body is limited to ${formatBytes(MAX_MAIL_BODY_BYTES)} (commit a file and point to it instead)`,
  );
}

/** The body from --body, --body-file or `-` (standard input); read at most the limit plus one byte. */
function bodyOf(flags: BodyFlags, dash: string | undefined): string {
  if (dash !== undefined && dash !== '-')
    throw new UsageError(
      `unexpected argument ${JSON.stringify(dash)} (use - to read the body from standard input)`,
    );
  const given = [flags.body !== undefined, flags.bodyFile !== undefined, dash === '-'].filter(Boolean).length;
  if (given > 1)
    throw new UsageError('give the body once: --body TEXT, --body-file FILE or - (standard input)');
  const readFrom = (path: string | number, label: string) => {
    try {
      return readBoundedFile(path, label, MAX_MAIL_BODY_BYTES);
    } catch (err) {
      if (err instanceof GastownError && err.code === 'store.too-large') throw tooLarge(label);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`no such file: ${label}`);
      throw err;
    }
  };
  if (flags.bodyFile !== undefined) return readFrom(flags.bodyFile, flags.bodyFile);
  if (dash === '-') return readFrom(0, 'standard input');
  return flags.body ?? '';
}

export async function send(
  ctx: CliContext,
  dash: string | undefined,
  flags: Who &
    BodyFlags & {
      to?: string[];
      cc?: string[];
      subject: string;
      priority?: string;
      molecule?: string;
      step?: string;
      json?: boolean;
    },
): Promise<number> {
  const o = await open(ctx, flags);
  const body = bodyOf(flags, dash);
  // Sending loads the outbox too; reading the inbox does not.
  const { composeMessage } = await import('../../mail/send.js');
  const message = composeMessage(o.config, {
    from: o.me,
    to: flags.to ?? [],
    cc: flags.cc ?? [],
    subject: flags.subject,
    body,
    ...(flags.priority ? { priority: flags.priority } : {}),
    ...(flags.molecule ? { molecule: flags.molecule } : {}),
    ...(flags.step ? { step: flags.step } : {}),
  });
  return deliverLocally(ctx, o, message, flags.json);
}

async function deliverLocally(
  ctx: CliContext,
  o: Opened,
  message: ComposedMessage,
  json: boolean | undefined,
): Promise<number> {
  const { writeMailFiles } = await import('../../mail/send.js');
  for (const u of message.unknownMembers)
    ctx.io.warn(`team member ${u} has no mailbox in .beads/config.toml; the others got the message`);
  const written = writeMailFiles(o.root, o.config, message.files);
  if (json) {
    ctx.io.json({ id: message.id, files: written.map((w) => w.path) });
    return 0;
  }
  ctx.io.out(`sent ${message.id} to ${written.map((w) => w.mailbox).join(', ')}`);
  for (const w of written) ctx.io.out(`  ${w.path}`);
  ctx.io.out(ctx.io.color.dim('commit these files to share them'));
  return 0;
}

export async function reply(
  ctx: CliContext,
  id: string,
  dash: string | undefined,
  flags: Who & BodyFlags & { subject?: string; all?: boolean; json?: boolean },
): Promise<number> {
  const o = await open(ctx, flags);
  const item = await locate(o, id);
  const h = item.header;
  if (h.from === ENGINE_SENDER)
    throw new UsageError(`${item.id} is from the engine; send a message with \`gastown mail send\` instead`);
  const to = [h.from];
  const cc = flags.all
    ? [...h.to, ...(h.cc ?? [])].filter((a, i, all) => a !== o.me && a !== h.from && all.indexOf(a) === i)
    : [];
  const { composeMessage } = await import('../../mail/send.js');
  const message = composeMessage(o.config, {
    from: o.me,
    to,
    cc,
    subject: flags.subject ?? (/^re:/i.test(h.subject) ? h.subject : `Re: ${h.subject}`),
    body: bodyOf(flags, dash),
    thread: h.thread ?? item.id,
    reply_to: item.id,
    ...(h.molecule ? { molecule: h.molecule } : {}),
    ...(h.step ? { step: h.step } : {}),
  });
  // Whoever replies keeps no copy of their own (a team they belong to would give them one).
  if (!to.includes(o.me)) message.files = message.files.filter((f) => f.mailbox !== o.me);
  mark(o, item, 'read');
  return deliverLocally(ctx, o, message, flags.json);
}

export async function thread(ctx: CliContext, id: string, flags: Who & { json?: boolean }): Promise<number> {
  const root = findRoot(ctx.cwd);
  const { messages, warnings } = await allMessages(root);
  warnAll(ctx, warnings);
  const found = findById(messages, id);
  if (found.length > 1)
    throw new UsageError(
      `${JSON.stringify(id)} matches several messages: ${found
        .slice(0, 5)
        .map((m) => m.id)
        .join(', ')}`,
    );
  const start = found[0];
  if (!start) throw new UsageError(`no message ${JSON.stringify(id)} under .beads/mail/`);
  const conversation = threadOf(messages, start.id);
  const bodies = await Promise.all(conversation.map((m) => readEntry(root, m.folder, m.id)));
  if (flags.json) {
    ctx.io.json(
      conversation.map((m, i) => ({ id: m.id, path: m.path, ...m.header, body: bodies[i]?.body ?? null })),
    );
    return 0;
  }
  conversation.forEach((m, i) => {
    if (i > 0) ctx.io.out('');
    ctx.io.out(
      ctx.io.color.bold(`${m.id}  ${m.header.from} → ${m.header.to.join(', ')}: ${m.header.subject}`),
    );
    ctx.io.out('');
    ctx.io.out((bodies[i]?.body ?? '').trimEnd());
  });
  return 0;
}
