// Atomic file writes: a temp file in the same directory, fsync, then link/rename into place.
// A reader (or git) sees either no file or the whole file, never half of one.
import {
  closeSync,
  constants as fsConstants,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TEMP_PREFIX } from './layout.js';

let counter = 0;

function tempPathFor(path: string): string {
  counter += 1;
  return join(dirname(path), `${TEMP_PREFIX}${process.pid}-${counter}-${basename(path)}`);
}

function writeTemp(path: string, content: string | Uint8Array, durable = true): string {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

function fsyncDir(dir: string): void {
  // Makes the rename durable; some platforms cannot open a directory, which is fine to skip.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

/**
 * Replaces `path` atomically (used for files with a single writer: cache, config edits).
 * `durable: false` skips both fsyncs, for derived data (the cache) whose loss costs only time:
 * readers still see the old or the new file whole.
 */
export function writeFileAtomic(
  path: string,
  content: string | Uint8Array,
  options: { durable?: boolean } = {},
): void {
  const durable = options.durable !== false;
  const tmp = writeTemp(path, content, durable);
  try {
    renameSync(tmp, path);
  } catch (err) {
    safeUnlink(tmp);
    throw err;
  }
  if (durable) fsyncDir(dirname(path));
}

export type CreateOutcome = 'written' | 'same' | 'conflict';

/**
 * Creates `path` with `content` only if it does not exist. An existing file with the same bytes
 * is `same` (the fact is already recorded); with other bytes it is a `conflict` and is left
 * untouched. link(2) fails on an existing target, so two writers can never overwrite each other.
 */
export function createFileExclusive(path: string, content: string): CreateOutcome {
  const existing = readIfExists(path);
  if (existing !== undefined) return existing === content ? 'same' : 'conflict';
  const tmp = writeTemp(path, content);
  try {
    try {
      linkSync(tmp, path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        const now = readIfExists(path);
        return now === content ? 'same' : 'conflict';
      }
      // File systems without hard links: rename after the existence check above.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
        renameSync(tmp, path);
        fsyncDir(dirname(path));
        return 'written';
      }
      throw err;
    }
  } finally {
    safeUnlink(tmp);
  }
  fsyncDir(dirname(path));
  return 'written';
}

// One buffer for every small read in this process (state files are a few hundred bytes).
let readBuffer: Buffer | undefined;
const READ_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0);

/**
 * Reads a small regular file as UTF-8 with open + read + close (readFileSync adds a second read
 * to see end of file, which is a quarter of a cold reconcile's system calls). A read shorter than
 * the buffer is the end of a regular file on the file systems we run on; a file that fills the
 * buffer is read on until a read returns nothing. Symlinks are refused (ELOOP), as readers that
 * list with file types skip them anyway.
 */
export function readSmallFile(path: string): string {
  return readSmall(path, false);
}

/**
 * Distinct texts read with `readSharedFile`, by byte length. Molecules poured from one formula
 * share their frozen file byte for byte: a cold advance reads a thousand copies of a few texts.
 */
const sharedTexts = new Map<number, { bytes: Buffer; text: string }[]>();
let sharedCount = 0;
const MAX_SHARED = 256;

/**
 * readSmallFile for files that are often byte-identical across molecules (formula.resolved.toml):
 * bytes equal to a text read before return that same string, without decoding or allocating
 * another copy, so later lookups keyed by it (the parse memo) hash it once.
 */
export function readSharedFile(path: string): string {
  return readSmall(path, true);
}

function readSmall(path: string, shared: boolean): string {
  readBuffer ??= Buffer.allocUnsafe(64 * 1024);
  const buf = readBuffer;
  const fd = openSync(path, READ_FLAGS);
  try {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n < buf.length) return shared ? sharedText(buf, n) : buf.toString('utf8', 0, n);
    const chunks = [Buffer.from(buf.subarray(0, n))];
    for (;;) {
      const more = readSync(fd, buf, 0, buf.length, null);
      if (more === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, more)));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function sharedText(buf: Buffer, n: number): string {
  const same = sharedTexts.get(n);
  if (same) for (const e of same) if (buf.compare(e.bytes, 0, n, 0, n) === 0) return e.text;
  const text = buf.toString('utf8', 0, n);
  if (sharedCount < MAX_SHARED) {
    sharedCount++;
    const entry = { bytes: Buffer.from(buf.subarray(0, n)), text };
    if (same) same.push(entry);
    else sharedTexts.set(n, [entry]);
  }
  return text;
}

export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    throw err;
  }
}

function safeUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** `.gastown-tmp-<pid>-…`: the pid of the process that left a temp file behind. */
export function tempFilePid(name: string): number | undefined {
  if (!name.startsWith(TEMP_PREFIX)) return undefined;
  const pid = Number.parseInt(name.slice(TEMP_PREFIX.length), 10);
  return Number.isFinite(pid) ? pid : undefined;
}
