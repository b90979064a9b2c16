// `.beads/.cache/lock`: at most one process applies effects at a time. The file holds the
// holder's pid, host and start time. A lock whose holder is a dead process on this host is
// taken over; a live holder is waited for briefly, then we give up with ExitCode.busy.
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { ExitCode, GastownError } from '../errors.js';
import { cacheDir, ensureCacheDir } from './layout.js';
import type { LockInfo } from './types.js';

export const LOCK_FILE = 'lock';
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

function readLock(path: string): { info?: LockInfo; text: string } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    if (Number.isInteger(info.pid) && typeof info.host === 'string') return { info, text };
  } catch {
    /* a torn or foreign file: treated as stale below */
  }
  return { text };
}

function tryCreate(path: string, info: LockInfo): boolean {
  try {
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
 * process took it over meanwhile), it is put back.
 */
function takeOverStale(path: string, staleText: string): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  let moved = '';
  try {
    moved = readFileSync(aside, 'utf8');
  } catch {
    /* gone */
  }
  if (moved !== staleText) {
    try {
      renameSync(aside, path);
    } catch {
      /* best effort */
    }
    return;
  }
  try {
    unlinkSync(aside);
  } catch {
    /* gone */
  }
  markUnfinishedRun(dirname(path));
}

/**
 * A process died holding the lock (a hook stopped at its time limit, a kill): files it wrote
 * may not be in any commit. The next engine commit looks for them (triggers/commit.ts) while
 * this mark, next to the lock, is there.
 */
const UNFINISHED = 'unfinished';
export function markUnfinishedRun(cacheDir: string): void {
  try {
    writeFileSync(join(cacheDir, UNFINISHED), `${new Date().toISOString()}\n`);
  } catch {
    /* best effort: the mark only makes a later commit more thorough */
  }
}
export function unfinishedRunMarked(root: string): boolean {
  return existsSync(join(dirname(lockPath(root)), UNFINISHED));
}
export function clearUnfinishedRun(root: string): void {
  try {
    unlinkSync(join(dirname(lockPath(root)), UNFINISHED));
  } catch {
    /* gone */
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `GASTOWN_LOCK_WAIT_MS` overrides the default wait for every command. */
function defaultWait(): number {
  const fromEnv = Number.parseInt(process.env.GASTOWN_LOCK_WAIT_MS ?? '', 10);
  return Number.isInteger(fromEnv) && fromEnv >= 0 ? fromEnv : DEFAULT_LOCK_WAIT_MS;
}

/** `path` names another lock file under the cache (the notification outbox has its own). */
export async function acquireLock(
  root: string,
  waitMs: number = defaultWait(),
  path: string = lockPath(root),
): Promise<Lock> {
  ensureCacheDir(root);
  const host = hostname();
  const mine: LockInfo = { pid: process.pid, host, started: new Date().toISOString() };
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (tryCreate(path, mine)) {
      return {
        path,
        release: () => {
          const current = readLock(path);
          if (current?.info?.pid === process.pid && current.info.host === host) {
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
    if (!held) continue;
    const holder = held.info;
    const stale = !holder || (holder.host === host && !isProcessAlive(holder.pid));
    if (stale) {
      takeOverStale(path, held.text);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new GastownError(
        'store.locked',
        `another gastown process holds ${path} (pid ${holder.pid} on ${holder.host}, since ${holder.started}); try again when it finishes`,
        { exitCode: ExitCode.busy },
      );
    }
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
  }
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
