// What a reader sees: the messages in its own folder and in the queues it reads, with its own
// marks (read, acknowledged, archived) and who holds each queue message.
import { gitOperationInProgress } from '../store/cache.js';
import type { GastownConfig } from '../store/types.js';
import { addressFolder, folderAddress, queuesOf } from './address.js';
import { type Mark, messageRel } from './layout.js';
import type { MailHeader } from './message.js';
import { type Entry, folderEntries, listFolder, listFolders, readClaims, readMarks } from './store.js';

export interface InboxItem {
  id: string;
  /** The mailbox it is in: the reader's own address or a `queue:`. */
  mailbox: string;
  folder: string;
  /** Repo-relative path of the message file. */
  path: string;
  header: MailHeader;
  read: boolean;
  acked: boolean;
  archived: boolean;
  /** Queue messages: who holds the claim (the first claimer in name order), if anyone. */
  claimedBy?: string;
  /** Queue messages: every claimer, when more than one claimed it on different clones. */
  claimers?: string[];
}

export interface MailWarning {
  file: string;
  field?: string;
  message: string;
}

export interface InboxResult {
  items: InboxItem[];
  warnings: MailWarning[];
}

export interface InboxOptions {
  /** Include archived messages and queue messages another reader holds. */
  all?: boolean;
}

function warningOf(folder: string, e: Entry): MailWarning | undefined {
  if ('header' in e) return undefined;
  return { file: messageRel(folder, e.id), ...(e.field ? { field: e.field } : {}), message: e.problem };
}

function has(marks: Map<string, Set<Mark>>, id: string, mark: Mark): boolean {
  return marks.get(id)?.has(mark) ?? false;
}

/** The mailboxes `me` reads: its own, then its queues. */
export function mailboxesOf(config: GastownConfig, me: string): string[] {
  return [me, ...queuesOf(config, me).map((q) => `queue:${q}`)];
}

/** Lists `me`'s inbox; unreadable message files are warnings, never a reason to list nothing. */
export async function readInbox(
  root: string,
  config: GastownConfig,
  me: string,
  options: InboxOptions = {},
): Promise<InboxResult> {
  const fresh = gitOperationInProgress(root);
  const myFolder = addressFolder(me);
  const items: InboxItem[] = [];
  const warnings: MailWarning[] = [];
  for (const mailbox of mailboxesOf(config, me)) {
    const folder = addressFolder(mailbox);
    const listing = listFolder(root, folder);
    warnings.push(...listing.problems);
    if (listing.ids.length === 0) continue;
    const entries = await folderEntries(root, folder, listing, { fresh });
    const marks = readMarks(root, folder, myFolder);
    const claims = mailbox === me ? undefined : readClaims(root, folder);
    for (const e of entries) {
      const w = warningOf(folder, e);
      if (w || !('header' in e)) {
        if (w) warnings.push(w);
        continue;
      }
      const claimers = claims?.get(e.id);
      const holder = claimers?.[0];
      const item: InboxItem = {
        id: e.id,
        mailbox,
        folder,
        path: messageRel(folder, e.id),
        header: e.header,
        read: has(marks, e.id, 'read'),
        acked: has(marks, e.id, 'ack'),
        archived: has(marks, e.id, 'archived'),
        ...(holder ? { claimedBy: folderAddress(holder) ?? holder } : {}),
        ...(claimers && claimers.length > 1 ? { claimers: claimers.map((c) => folderAddress(c) ?? c) } : {}),
      };
      if (!options.all) {
        if (item.archived) continue;
        if (item.claimedBy !== undefined && item.claimedBy !== me) continue;
      }
      items.push(item);
    }
  }
  // One list in id order: ULIDs sort by the time they were made, across the reader's mailboxes.
  items.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : x.mailbox < y.mailbox ? -1 : 1));
  return { items, warnings };
}

/** Messages waiting for `me`: not read and not archived. */
export function unread(items: readonly InboxItem[]): InboxItem[] {
  return items.filter((i) => !i.read && !i.archived);
}

export interface FoundMessage {
  id: string;
  mailbox: string;
  folder: string;
  path: string;
  header: MailHeader;
}

/**
 * Every message in every folder, one per id (a team message has a copy per member; they are one
 * message), for threads. Unreadable files are warnings.
 */
export async function allMessages(
  root: string,
): Promise<{ messages: FoundMessage[]; warnings: MailWarning[] }> {
  const fresh = gitOperationInProgress(root);
  const byId = new Map<string, FoundMessage>();
  const warnings: MailWarning[] = [];
  for (const folder of listFolders(root)) {
    const mailbox = folderAddress(folder);
    const listing = listFolder(root, folder);
    if (mailbox === undefined) {
      warnings.push({ file: `.beads/mail/${folder}`, message: 'not a mailbox folder name' });
      continue;
    }
    warnings.push(...listing.problems);
    for (const e of await folderEntries(root, folder, listing, { fresh })) {
      if (!('header' in e)) {
        const w = warningOf(folder, e);
        if (w) warnings.push(w);
        continue;
      }
      if (!byId.has(e.id))
        byId.set(e.id, { id: e.id, mailbox, folder, path: messageRel(folder, e.id), header: e.header });
    }
  }
  return { messages: [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), warnings };
}

/** The conversation `id` belongs to: its thread (or itself), every message in it, in id order. */
export function threadOf(messages: readonly FoundMessage[], id: string): FoundMessage[] {
  const start = messages.find((m) => m.id === id);
  if (!start) return [];
  const thread = start.header.thread ?? start.id;
  return messages.filter((m) => m.id === thread || (m.header.thread ?? m.id) === thread);
}

/**
 * Finds a message by id or by a unique prefix of it (at least 6 characters) among `items`.
 * Returns the matches (several when the prefix is ambiguous).
 */
export function findById<T extends { id: string }>(items: readonly T[], id: string): T[] {
  const exact = items.filter((i) => i.id === id);
  if (exact.length > 0) return exact;
  if (id.length < 6) return [];
  const ids = new Set(items.filter((i) => i.id.startsWith(id)).map((i) => i.id));
  return ids.size === 0 ? [] : items.filter((i) => ids.has(i.id));
}
