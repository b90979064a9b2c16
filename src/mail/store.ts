// The files under `.beads/mail/` (docs/mail.md, "Layout"): reading folders and messages,
// writing new messages and a reader's own state marks. Every write creates a new file (link from
// a temp file, which never replaces one); nothing here rewrites or deletes a message.
import { lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GastownError } from '../errors.js';
import {
  type CreateOutcome,
  createFileExclusive,
  fileKind,
  isUnreadableStateError,
  readSmallFile,
  writeFileAtomic,
} from '../store/atomic.js';
import { BEADS, cacheDir, TEMP_PREFIX } from '../store/layout.js';
import { ensureCacheDir } from '../store/links.js';
import { MAIL_DIR, MARKS, type Mark, messageRel, STATE_DIR } from './layout.js';
import { isMessageId, type MailHeader, MessageError, parseMessage } from './message.js';

export function mailDir(root: string): string {
  return join(root, MAIL_DIR);
}

/**
 * Creates `.beads/mail/<parts...>` as real folders: a symbolic link anywhere on the way is
 * refused, so a write never lands outside the repository.
 */
function ensureRealDirs(root: string, parts: readonly string[]): string {
  let dir = root;
  for (const part of [BEADS, 'mail', ...parts]) {
    dir = join(dir, part);
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (st === undefined) mkdirSync(dir);
    else if (!st.isDirectory())
      throw new GastownError(
        'mail.not-a-folder',
        `${fileKind(st)}, not a folder: gastown writes mail only into real folders`,
        { location: { file: dir.slice(root.length + 1) } },
      );
  }
  return dir;
}

/** Writes one message copy into each folder; `same` when an identical copy is there already. */
export function writeCopies(
  root: string,
  folders: readonly string[],
  id: string,
  content: string,
): { folder: string; path: string; outcome: CreateOutcome }[] {
  if (!isMessageId(id)) throw new GastownError('mail.id', `invalid message id ${JSON.stringify(id)}`);
  return folders.map((folder) => {
    const dir = ensureRealDirs(root, [folder]);
    const outcome = createFileExclusive(join(dir, `${id}.md`), content);
    return { folder, path: messageRel(folder, id), outcome };
  });
}

/** Records a mark of `reader` on a message (an empty file of its own; a second mark is a no-op). */
export function writeMark(root: string, folder: string, reader: string, id: string, mark: Mark): boolean {
  const dir = ensureRealDirs(root, [folder, STATE_DIR, reader]);
  return createFileExclusive(join(dir, `${id}.${mark}`), '') === 'written';
}

export interface FolderListing {
  /** Message ids, sorted. */
  ids: string[];
  /** Entries that are not messages: `file: why`. */
  problems: { file: string; message: string }[];
}

/** The mailbox folders that exist under `.beads/mail/`, sorted. */
export function listFolders(root: string): string[] {
  try {
    return readdirSync(mailDir(root), { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** One readdir: the messages in a folder and anything there that is not one. */
export function listFolder(root: string, folder: string): FolderListing {
  const ids: string[] = [];
  const problems: FolderListing['problems'] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(join(mailDir(root), folder), { withFileTypes: true });
  } catch {
    return { ids, problems };
  }
  for (const e of entries) {
    const name = e.name;
    if (name.charCodeAt(0) === 46 /* . */) continue; // .state, temp files
    const file = `${MAIL_DIR}/${folder}/${name}`;
    if (!name.endsWith('.md')) {
      problems.push({ file, message: 'not a message file (messages are <id>.md)' });
      continue;
    }
    if (!e.isFile()) {
      problems.push({ file, message: `${fileKind(e)}, not a regular file: never followed or read` });
      continue;
    }
    const id = name.slice(0, -3);
    if (!isMessageId(id)) problems.push({ file, message: 'not a message id' });
    else ids.push(id);
  }
  ids.sort();
  return { ids, problems };
}

/** A reader's marks in a folder: `id` → marks. */
export function readMarks(root: string, folder: string, reader: string): Map<string, Set<Mark>> {
  const marks = new Map<string, Set<Mark>>();
  let names: string[];
  try {
    names = readdirSync(join(mailDir(root), folder, STATE_DIR, reader));
  } catch {
    return marks;
  }
  for (const name of names) {
    if (name.startsWith(TEMP_PREFIX)) continue;
    const dot = name.lastIndexOf('.');
    const mark = name.slice(dot + 1) as Mark;
    if (dot <= 0 || !(MARKS as readonly string[]).includes(mark)) continue;
    const id = name.slice(0, dot);
    let set = marks.get(id);
    if (!set) marks.set(id, (set = new Set()));
    set.add(mark);
  }
  return marks;
}

/** The readers (folder names) that keep marks in a folder. */
export function markReaders(root: string, folder: string): string[] {
  try {
    return readdirSync(join(mailDir(root), folder, STATE_DIR), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * Who claimed each message of a queue folder: id → claimers' folder names, sorted. Two readers
 * who claimed one message on two clones both keep their claim file (distinct paths merge
 * cleanly); the first in this order holds it (docs/mail.md, "Queues").
 */
export function readClaims(root: string, folder: string): Map<string, string[]> {
  const claims = new Map<string, string[]>();
  for (const reader of markReaders(root, folder)) {
    for (const [id, marks] of readMarks(root, folder, reader)) {
      if (!marks.has('claim')) continue;
      const list = claims.get(id);
      if (list) list.push(reader);
      else claims.set(id, [reader]);
    }
  }
  for (const list of claims.values()) list.sort();
  return claims;
}

/** A message's header as listed, or why its file cannot be read. */
export type Entry = { id: string; header: MailHeader } | { id: string; problem: string; field?: string };

/** Reads and parses one message file; a problem names it instead of throwing. */
export async function readEntry(
  root: string,
  folder: string,
  id: string,
): Promise<Entry & { body?: string }> {
  const path = join(mailDir(root), folder, `${id}.md`);
  let text: string;
  try {
    text = readSmallFile(path);
  } catch (err) {
    if (isUnreadableStateError(err)) return { id, problem: err.message };
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { id, problem: 'no such message' };
    throw err;
  }
  try {
    const { header, body } = await parseMessage(text);
    return { id, header, body };
  } catch (err) {
    if (err instanceof MessageError)
      return { id, problem: err.message, ...(err.field ? { field: err.field } : {}) };
    throw err;
  }
}

// The listing cache (docs/mail.md, "Cache"): per folder, the headers of its messages by id.
// Message files are never rewritten, so a header read once stands while its name is listed; a
// file that could not be read is not cached and is read again next time. Derived data: losing it
// costs one read per message.
const CACHE_VERSION = 1;

interface FolderCache {
  v: number;
  headers: Record<string, MailHeader>;
}

/** Folder names are safe path components already (address.ts). */
function cachePath(root: string, folder: string): string {
  return join(cacheDir(root), 'mail', `${folder}.json`);
}

function readCache(root: string, folder: string): Record<string, MailHeader> {
  try {
    // Our own file, possibly larger than a state file for a folder of thousands of messages.
    const data = JSON.parse(readFileSync(cachePath(root, folder), 'utf8')) as FolderCache;
    if (data.v === CACHE_VERSION && typeof data.headers === 'object' && data.headers !== null)
      return data.headers;
  } catch {
    /* missing or torn: a miss */
  }
  return {};
}

/**
 * The entries of a folder, in id order: headers from the cache where the id was read before,
 * the rest read from disk. `fresh` bypasses the cache (during a merge files may hold markers).
 */
export async function folderEntries(
  root: string,
  folder: string,
  listing: FolderListing,
  options: { fresh?: boolean } = {},
): Promise<Entry[]> {
  const cached = options.fresh ? {} : readCache(root, folder);
  const entries: Entry[] = [];
  const keep: Record<string, MailHeader> = {};
  let changed = false;
  for (const id of listing.ids) {
    const hit = cached[id];
    if (hit) {
      entries.push({ id, header: hit });
      keep[id] = hit;
      continue;
    }
    const e = await readEntry(root, folder, id);
    if ('header' in e) {
      entries.push({ id, header: e.header });
      keep[id] = e.header;
      changed = true;
    } else entries.push(e);
  }
  if (!changed && Object.keys(cached).length !== Object.keys(keep).length) changed = true;
  if (changed && !options.fresh) {
    try {
      ensureCacheDir(root);
      mkdirSync(join(cacheDir(root), 'mail'), { recursive: true });
      writeFileAtomic(cachePath(root, folder), JSON.stringify({ v: CACHE_VERSION, headers: keep }), {
        durable: false,
      });
    } catch {
      /* a cache that cannot be written costs time only */
    }
  }
  return entries;
}
