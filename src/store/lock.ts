// `.beads/.cache/lock`: at most one process applies effects at a time. The file holds the
// holder's pid, host, start time and, where /proc exists, the process's own start time, so a pid
// reused by another process after a crash is not taken for the holder. A lock whose holder is
// gone is taken over; a live holder is waited for briefly, then we give up with ExitCode.busy.
// The lock is never followed: anything but a regular file there is an error naming it.
import {
  closeSync,
  existsSync,
  constants as fsConstants,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ExitCode, GastownError } from '../errors.js';
import { commandEnv } from '../scope.js';
import { fileKind, writeFileAtomic } from './atomic.js';
import { BEADS, CACHE_DIR, cacheDir } from './layout.js';
import { assertBeadsTree, beadsTreeProblems, ensureCacheDir } from './links.js';
import type { LockInfo } from './types.js';

export const LOCK_FILE = 'lock';
/** Repo-relative, for messages. */
export const LOCK_REL = `${BEADS}/${CACHE_DIR}/${LOCK_FILE}`;
export const DEFAULT_LOCK_WAIT_MS = 2000;

export interface Lock {
  readonly path: string;
  release(): void;
}

export function lockPath(root: string): string {
  return join(cacheDir(root), LOCK_FILE);
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks); undefined without /proc. */
export function processStartTime(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 is the command name in parentheses and may hold spaces or ')': count after the last.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const start = fields[19];
  return start !== undefined && /^\d+$/.test(start) ? start : undefined;
}

/** The command line of `pid` (arguments joined by spaces); undefined without /proc. */
export function processCommandLine(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

/**
 * Who holds a lock, as far as this host can tell:
 * - `running`: a live process that is, or may be, the gastown process that took the lock;
 * - `remote`: taken on another host, which cannot be checked from here;
 * - `gone`: the process is dead, or its pid now names a process that started later (reused);
 *   the lock is taken over;
 * - `foreign`: a live process that is not gastown by its command line, named by a lock that
 *   records no start time: `gastown doctor --fix` removes it.
 */
export type LockHolder =
  | { state: 'running' }
  | { state: 'remote' }
  | { state: 'gone'; why: string }
  | { state: 'foreign'; why: string };

export function judgeHolder(info: LockInfo, host: string = hostname()): LockHolder {
  if (info.host !== host) return { state: 'remote' };
  if (!isProcessAlive(info.pid)) return { state: 'gone', why: `process ${info.pid} is gone` };
  if (info.proc_start !== undefined) {
    const start = processStartTime(info.pid);
    if (start !== undefined && start !== info.proc_start)
      return {
        state: 'gone',
        why: `pid ${info.pid} now belongs to another process, started after the lock was taken`,
      };
    if (start !== undefined) return { state: 'running' };
  }
  const cmd = processCommandLine(info.pid);
  if (cmd !== undefined && !/gastown/i.test(cmd)) {
    const shown = cmd.length > 80 ? `${cmd.slice(0, 77)}...` : cmd;
    return { state: 'foreign', why: `pid ${info.pid} is \`${shown}\`, not gastown` };
  }
  return { state: 'running' };
}

export type LockRead =
  | { kind: 'held'; text: string; info?: LockInfo }
  /** Not a regular file (a directory, a symbolic link, a fifo): never followed or read. */
  | { kind: 'special'; what: string };

// O_NOFOLLOW: a link there is reported, never followed; O_NONBLOCK: a fifo cannot block the open.
const LOCK_READ_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);

/** What is at `path`, undefined when nothing is. A torn or foreign file has no `info`. */
export function readLock(path: string): LockRead | undefined {
  let fd: number;
  try {
    fd = openSync(path, LOCK_READ_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') return { kind: 'special', what: 'a symbolic link' };
    throw err;
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'special', what: fileKind(st) };
    const buf = Buffer.alloc(Math.min(st.size, 4096));
    const n = readSync(fd, buf, 0, buf.length, 0);
    text = buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    if (Number.isInteger(info.pid) && typeof info.host === 'string') {
      if (info.proc_start !== undefined && typeof info.proc_start !== 'string') delete info.proc_start;
      return { kind: 'held', info, text };
    }
  } catch {
    /* a torn or foreign file: treated as stale */
  }
  return { kind: 'held', text };
}

export function specialLockError(what: string): GastownError {
  const fix =
    what === 'a directory'
      ? '`gastown doctor --fix` removes it when it is empty'
      : '`gastown doctor --fix` removes it';
  return new GastownError(
    'store.lock-invalid',
    `${what}, not a lock file: gastown never follows or reads it; remove it (${fix})`,
    { location: { file: LOCK_REL } },
  );
}

function tryCreate(path: string, info: LockInfo): boolean {
  try {
    // O_EXCL does not follow a link at `path`: a link there makes this fail with EEXIST.
    const fd = openSync(path, 'wx', 0o644);
    try {
      writeSync(fd, `${JSON.stringify(info)}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Moves a stale lock aside. rename is atomic, so of two processes taking over the same stale
 * lock only one wins; if what we moved turns out not to be the stale lock we judged (another
 * process took it over meanwhile), it is put back. True when this process removed it.
 */
function takeOverStale(root: string, path: string, staleText: string): boolean {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return false;
  }
  const moved = readLock(aside);
  if (moved?.kind !== 'held' || moved.text !== staleText) {
    try {
      renameSync(aside, path);
    } catch {
      /* best effort */
    }
    return false;
  }
  try {
    unlinkSync(aside);
  } catch {
    /* gone */
  }
  markUnfinishedRun(root);
  return true;
}

/**
 * Removes what is at the lock path when no gastown process can be holding it: a lock whose
 * holder is gone or is not gastown, a torn file, a symbolic link (the link, never its target),
 * an empty directory. Returns what it removed, or why it left it.
 */
export function clearDeadLock(root: string): { removed?: string; kept?: string } {
  // Through a linked .beads/ or .cache/ it would remove and write elsewhere; doctor reports the link.
  if (beadsTreeProblems(root).length > 0) return {};
  const path = lockPath(root);
  const held = readLock(path);
  if (!held) return {};
  if (held.kind === 'special') {
    const st = lstatSync(path);
    try {
      if (st.isDirectory()) {
        // rmdir refuses a folder that is not empty: nothing in it is removed.
        rmdirSync(path);
      } else unlinkSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST')
        return { kept: `${LOCK_REL} is a directory that is not empty: look inside, then remove it by hand` };
      throw err;
    }
    return { removed: `${LOCK_REL} (${held.what}, not a lock file)` };
  }
  const holder = held.info ? judgeHolder(held.info) : { state: 'gone' as const, why: 'it is unreadable' };
  if (holder.state === 'running' || holder.state === 'remote') return {};
  if (!takeOverStale(root, path, held.text)) return {};
  return { removed: `${LOCK_REL} (${holder.why})` };
}

/**
 * A process died holding the lock (a hook stopped at its time limit, a kill): files it wrote
 * may not be in any commit. The next engine commit looks for them (triggers/commit.ts) while
 * this mark, next to the lock, is there.
 */
const UNFINISHED = 'unfinished';
export function markUnfinishedRun(root: string): void {
  try {
    // Atomic replace: a link planted at the mark's name is replaced, never written through.
    writeFileAtomic(join(cacheDir(root), UNFINISHED), `${new Date().toISOString()}\n`, { durable: false });
  } catch {
    /* best effort: the mark only makes a later commit more thorough */
  }
}
export function unfinishedRunMarked(root: string): boolean {
  return existsSync(join(cacheDir(root), UNFINISHED));
}
export function clearUnfinishedRun(root: string): void {
  try {
    unlinkSync(join(cacheDir(root), UNFINISHED));
  } catch {
    /* gone */
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `GASTOWN_LOCK_WAIT_MS` overrides the default wait for every command. */
function defaultWait(): number {
  const fromEnv = Number.parseInt(commandEnv().GASTOWN_LOCK_WAIT_MS ?? '', 10);
  return Number.isInteger(fromEnv) && fromEnv >= 0 ? fromEnv : DEFAULT_LOCK_WAIT_MS;
}

/** Immediate retries (the lock vanished, or was taken over) allowed past the deadline. */
const RETRIES_PAST_DEADLINE = 3;

/** `path` names another lock file under the cache (the notification outbox has its own). */
export async function acquireLock(
  root: string,
  waitMs: number = defaultWait(),
  path: string = lockPath(root),
): Promise<Lock> {
  assertBeadsTree(root);
  ensureCacheDir(root);
  const host = hostname();
  const mine: LockInfo = { pid: process.pid, host, started: new Date().toISOString() };
  const start = processStartTime(process.pid);
  if (start !== undefined) mine.proc_start = start;
  const deadline = Date.now() + waitMs;
  let late = 0;
  for (;;) {
    if (tryCreate(path, mine)) {
      return {
        path,
        release: () => {
          const current = readLock(path);
          if (current?.kind === 'held' && current.info?.pid === process.pid && current.info.host === host) {
            try {
              unlinkSync(path);
            } catch {
              /* gone */
            }
          }
        },
      };
    }
    const held = readLock(path);
    if (held?.kind === 'special') throw specialLockError(held.what);
    const holder = held?.info ? judgeHolder(held.info, host) : undefined;
    // Gone (or torn): take it over and try again at once. Vanished: try again at once.
    const retryNow =
      held === undefined ||
      ((holder === undefined || holder.state === 'gone') && takeOverStale(root, path, held.text));
    const overdue = Date.now() >= deadline;
    if (retryNow && (!overdue || ++late <= RETRIES_PAST_DEADLINE)) continue;
    if (overdue) throw busyError(path, held?.kind === 'held' ? held.info : undefined, holder);
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
  }
}

function busyError(path: string, info: LockInfo | undefined, holder: LockHolder | undefined): GastownError {
  const who = info ? `pid ${info.pid} on ${info.host}, since ${info.started}` : 'its holder is unknown';
  const message =
    holder?.state === 'foreign'
      ? `${path} names a process that is not gastown (${holder.why}; since ${info?.started}): if no gastown command is running, \`gastown doctor --fix\` removes the lock`
      : `another gastown process holds ${path} (${who}); try again when it finishes`;
  return new GastownError('store.locked', message, { exitCode: ExitCode.busy });
}

export async function withLock<T>(
  root: string,
  waitMs: number | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(root, waitMs);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
