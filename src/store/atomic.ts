// Atomic file writes: a temp file in the same directory, fsync, then link/rename into place.
// A reader (or git) sees either no file or the whole file, never half of one.
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GastownError } from '../errors.js';
import { TEMP_PREFIX } from './layout.js';

/**
 * The most bytes gastown reads from one state file (docs/state.md, "Size and type"): what it
 * writes is a few KiB (formulas are limited to 1 MiB, gate reports keep a tail of the output),
 * and a larger file is refused before it is read rather than crashing on Node's string limit.
 */
export const MAX_STATE_FILE_BYTES = 2 * 1024 * 1024;

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
// O_NONBLOCK: opening a fifo for reading would otherwise wait for a writer, forever.
const READ_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** A file over MAX_STATE_FILE_BYTES; `size` undefined when only "more than the limit" is known. */
export function tooLargeError(
  path: string,
  size: number | undefined,
  limit = MAX_STATE_FILE_BYTES,
): GastownError {
  const is = size === undefined ? `more than ${formatBytes(limit)}` : formatBytes(size);
  return new GastownError(
    'store.too-large',
    `file is ${is}; files gastown reads as state are limited to ${formatBytes(limit)}`,
    { location: { file: path } },
  );
}

/** What a directory entry or stat that is not a regular file is, for messages. */
export function fileKind(
  e: Pick<
    Stats,
    'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice' | 'isDirectory'
  >,
): string {
  if (e.isSymbolicLink()) return 'a symbolic link';
  if (e.isFIFO()) return 'a fifo';
  if (e.isSocket()) return 'a socket';
  if (e.isCharacterDevice() || e.isBlockDevice()) return 'a device';
  if (e.isDirectory()) return 'a directory';
  return 'an unknown kind of file';
}

export function notRegularMessage(kind: string): string {
  return `${kind}, not a regular file: gastown reads only regular files as state and never follows links`;
}

export function notRegularError(path: string, kind: string): GastownError {
  return new GastownError('store.not-regular', notRegularMessage(kind), { location: { file: path } });
}

/** Is `err` one of the two errors above (a file that is not readable state)? */
export function isUnreadableStateError(err: unknown): err is GastownError {
  return err instanceof GastownError && (err.code === 'store.too-large' || err.code === 'store.not-regular');
}

/**
 * Reads a small regular file as UTF-8 with open + read + close (readFileSync adds a second read
 * to see end of file, which is a quarter of a cold reconcile's system calls). A read shorter than
 * the buffer is the end of a regular file on the file systems we run on; an empty read or one
 * that fills the buffer is checked with fstat (a fifo reads empty, a device fills the buffer), so
 * the common small file costs no extra system call. Symlinks are refused (O_NOFOLLOW), fifos,
 * devices and sockets too (`store.not-regular`), and a file over MAX_STATE_FILE_BYTES
 * (`store.too-large`) before more than the buffer is read. Errors name `path`.
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
 * Texts kept per byte length. Frozen formulas whose variables differ share a length often (300 of
 * 686 distinct texts at 1,000 molecules in the scale bench), and comparing each read against all
 * of them cost more than the decoding it saves.
 */
const MAX_SHARED_PER_LENGTH = 8;

/**
 * readSmallFile for files that are often byte-identical across molecules (formula.resolved.toml):
 * bytes equal to a text read before return that same string, without decoding or allocating
 * another copy, so later lookups keyed by it (the parse memo) hash it once.
 */
export function readSharedFile(path: string): string {
  return readSmall(path, true);
}

function openForState(path: string): number {
  try {
    return openSync(path, READ_FLAGS);
  } catch (err) {
    // ELOOP is O_NOFOLLOW refusing a symlink as the last component.
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw notRegularError(path, 'a symbolic link');
    throw err;
  }
}

function checkRegular(fd: number, path: string): void {
  const st = fstatSync(fd);
  if (!st.isFile()) throw notRegularError(path, fileKind(st));
  if (st.size > MAX_STATE_FILE_BYTES) throw tooLargeError(path, st.size);
}

function readSmall(path: string, shared: boolean): string {
  readBuffer ??= Buffer.allocUnsafe(64 * 1024);
  const buf = readBuffer;
  const fd = openForState(path);
  try {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      checkRegular(fd, path); // EAGAIN from a fifo with a writer: say what it is
      throw err;
    }
    if (n > 0 && n < buf.length) return shared ? sharedText(buf, n) : buf.toString('utf8', 0, n);
    checkRegular(fd, path);
    if (n === 0) return '';
    const chunks = [Buffer.from(buf.subarray(0, n))];
    let total = n;
    for (;;) {
      const more = readSync(fd, buf, 0, buf.length, null);
      if (more === 0) break;
      total += more;
      // The file grew past the limit after fstat: stop reading.
      if (total > MAX_STATE_FILE_BYTES) throw tooLargeError(path, undefined);
      chunks.push(Buffer.from(buf.subarray(0, more)));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * A file someone hands gastown to copy into state (`--inputs`, `step done --output`): read at
 * most `limit` + 1 bytes, so an endless device or a huge file is refused without reading it
 * whole. Links and pipes are followed and read (`--inputs /dev/stdin` is fine): it is the
 * caller's file, not state. Throws `store.too-large` naming `label`.
 */
export function readBoundedFile(path: string | number, label: string, limit = MAX_STATE_FILE_BYTES): string {
  // A number is an open descriptor (0: standard input, which may be a socket /dev/stdin cannot open).
  const fd = typeof path === 'number' ? path : openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limit + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > limit) {
        const st = fstatSync(fd);
        throw tooLargeError(label, st.isFile() ? st.size : undefined, limit);
      }
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    if (typeof path !== 'number') closeSync(fd);
  }
}

function sharedText(buf: Buffer, n: number): string {
  const same = sharedTexts.get(n);
  if (same) for (const e of same) if (buf.compare(e.bytes, 0, n, 0, n) === 0) return e.text;
  const text = buf.toString('utf8', 0, n);
  if (sharedCount < MAX_SHARED && (same?.length ?? 0) < MAX_SHARED_PER_LENGTH) {
    sharedCount++;
    const entry = { bytes: Buffer.from(buf.subarray(0, n)), text };
    if (same) same.push(entry);
    else sharedTexts.set(n, [entry]);
  }
  return text;
}

/** readSmallFile, undefined when the file (or its folder) does not exist. */
export function readIfExists(path: string): string | undefined {
  try {
    return readSmallFile(path);
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
