// Atomic file writes: a temp file in the same directory, fsync, then link/rename into place.
// A reader (or git) sees either no file or the whole file, never half of one.
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
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

function writeTemp(path: string, content: string | Uint8Array): string {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fsyncSync(fd);
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

/** Replaces `path` atomically (used for files with a single writer: cache, config edits). */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = writeTemp(path, content);
  try {
    renameSync(tmp, path);
  } catch (err) {
    safeUnlink(tmp);
    throw err;
  }
  fsyncDir(dirname(path));
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
