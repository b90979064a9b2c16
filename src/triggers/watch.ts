// The file watcher: changes under `.beads/` only, debounced, one reconcile at a time. The changes
// come from the change journal's folder watches (triggers/journal.ts: one inotify watch per
// folder) when it runs, else from chokidar (one per folder and per file, or polling). The
// reconcile itself is injected (the CLI passes the engine's `advance`, plus an engine commit
// with --commit), so this module is about events: what counts as an edit, what is our own
// write, when to run, and stopping without leaving anything half done.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { GastownError } from '../errors.js';
import { MAX_STATE_FILE_BYTES } from '../store/atomic.js';
import type { ReconcileOutcome } from './commit.js';

export interface WatchOptions {
  root: string;
  /** Runs one reconcile; resolves with what it wrote (repo-relative paths). */
  reconcile(reason: WatchReason): Promise<ReconcileOutcome>;
  /** Quiet time after the last event before reconciling. */
  debounceMs: number;
  /** Changes from folder watches instead of chokidar (the change journal's). */
  feed?: ChangeFeed;
  /** Force polling on or off; undefined lets chokidar decide (it honours CHOKIDAR_USEPOLLING). */
  usePolling?: boolean;
  /** Polling interval when polling. */
  pollIntervalMs?: number;
  /** Extra wait when a file vanished and has not come back yet (an editor's unlink + add save). */
  atomicGraceMs?: number;
  onOutcome?(outcome: ReconcileOutcome, reason: WatchReason): void;
  onError?(err: unknown): void;
  /** An error worth retrying after the debounce (another process holds the lock). */
  retryable?(err: unknown): boolean;
}

export interface WatchReason {
  initial: boolean;
  /** Repo-relative paths whose events led to this run. */
  paths: string[];
}

export interface Watcher {
  /**
   * Resolves once chokidar has scanned `.beads/` and the first reconcile has finished; rejects
   * as `failed` does when watching cannot start.
   */
  ready: Promise<void>;
  /** Rejects when watching cannot go on (the inotify watch limit reached); never resolves. */
  failed: Promise<never>;
  /** Stops watching, waits for a reconcile in flight, then resolves. Idempotent. */
  close(): Promise<void>;
}

type EventName = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir';

/** One change a feed reports: a repo-relative path and what happened to it. */
export type FeedChange = readonly [string, 'add' | 'change' | 'unlink' | 'unlinkDir'];

/** Changes under `.beads/` from watches someone else keeps (the change journal's). */
export interface ChangeFeed {
  /**
   * Hands every batch of changes from now on to `changes`, and a failure to keep watching to
   * `failed`. Changes before this call are not kept: the first reconcile comes after it.
   */
  listen(changes: (batch: readonly FeedChange[]) => void, failed: (err: GastownError) => void): void;
}

/** Files nobody should react to: our cache, temp files of atomic writes, editor droppings. */
export function isIgnoredPath(rel: string): boolean {
  const parts = rel.split('/');
  const name = parts[parts.length - 1] ?? '';
  if (parts[0] === '.beads' && parts[1] === '.cache') return true;
  return (
    name.startsWith('.gastown-tmp-') ||
    name.includes('.gastown-tmp-') ||
    /\.sw[a-p]$/.test(name) ||
    name.endsWith('~') ||
    name === '4913' ||
    /^\.#/.test(name)
  );
}

/** The inotify watch limit, as a one-line error naming the setting and the ways out; else undefined. */
export function watchLimitError(err: unknown): GastownError | undefined {
  const e = err as NodeJS.ErrnoException & { path?: string };
  if (e?.code !== 'ENOSPC' || e.syscall !== 'watch') return undefined;
  // The lower of the system's and this user namespace's (a container's) limits.
  const limits = ['/proc/sys/fs/inotify/max_user_watches', '/proc/sys/user/max_inotify_watches'].flatMap(
    (f) => {
      try {
        return [Number.parseInt(readFileSync(f, 'utf8'), 10)].filter(Number.isInteger);
      } catch {
        return [];
      }
    },
  );
  const limit = limits.length ? ` = ${Math.min(...limits)}` : '';
  return new GastownError(
    'watch.limit',
    `cannot watch ${e.path ?? '.beads/'}: inotify watch limit reached (fs.inotify.max_user_watches${limit}); ` +
      'raise it (sysctl fs.inotify.max_user_watches=N) or run `gastown watch --poll`',
    { cause: err },
  );
}

/** A watch that could not be added: the limit's one-line error, or what the system said. */
export function watchFailure(err: unknown): GastownError {
  const e = err as NodeJS.ErrnoException;
  return (
    watchLimitError(err) ??
    new GastownError('watch.failed', `cannot watch ${e.path ?? '.beads/'}: ${e.message}`)
  );
}

function hashFile(abs: string): string | undefined {
  try {
    // Only regular files under the state size limit: a symlink to /dev/zero or a fifo is never read.
    const st = lstatSync(abs);
    if (!st.isFile() || st.size > MAX_STATE_FILE_BYTES) return undefined;
    return createHash('sha1').update(readFileSync(abs)).digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * Debounced reconciles, one at a time, over the events the watcher hands in: what is our own
 * write, when to run, and what to run again after a retryable failure.
 */
class ReconcileLoop {
  /** Content we wrote ourselves, by path: an event that finds exactly this content is our echo. */
  private readonly ownWrites = new Map<string, string | undefined>();
  private pending = new Map<string, EventName>();
  private timer: NodeJS.Timeout | undefined;
  private graceTaken = false;
  running: Promise<void> | undefined;
  closed = false;

  constructor(private readonly opts: WatchOptions) {}

  /** A file event worth reacting to, by repo-relative path. */
  event(rel: string, ev: EventName): void {
    this.pending.set(rel, ev);
    this.schedule(this.opts.debounceMs);
  }

  /** A batch of them: one timer for the lot (a checkout brings thousands). */
  events(batch: readonly FeedChange[]): void {
    let any = false;
    for (const [rel, ev] of batch)
      if (!isIgnoredPath(rel)) {
        this.pending.set(rel, ev);
        any = true;
      }
    if (any) this.schedule(this.opts.debounceMs);
  }

  /** No run starts after this; the caller waits for `running`. */
  stop(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delay: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), delay);
  }

  private isEcho(rel: string, ev: EventName): boolean {
    if (!this.ownWrites.has(rel)) return false;
    if (ev === 'unlink' || ev === 'unlinkDir') return false;
    return hashFile(join(this.opts.root, rel)) === this.ownWrites.get(rel);
  }

  private fire(): void {
    this.timer = undefined;
    if (this.closed || this.running) return; // a run in flight re-checks `pending` when it ends
    const real = [...this.pending].filter(([rel, ev]) => !this.isEcho(rel, ev));
    if (real.length === 0) {
      this.pending.clear();
      return;
    }
    // An editor's save may be unlink now, add a moment later: give it that moment, once.
    const vanished = real.some(
      ([rel, ev]) => ev === 'unlink' && hashFile(join(this.opts.root, rel)) === undefined,
    );
    if (vanished && !this.graceTaken) {
      this.graceTaken = true;
      this.schedule(this.opts.atomicGraceMs ?? 250);
      return;
    }
    this.graceTaken = false;
    this.pending = new Map();
    void this.run({ initial: false, paths: real.map(([rel]) => rel) });
  }

  run(reason: WatchReason): Promise<void> {
    const opts = this.opts;
    this.running = (async () => {
      try {
        const outcome = await opts.reconcile(reason);
        for (const w of outcome.written) this.ownWrites.set(w, hashFile(join(opts.root, w)));
        opts.onOutcome?.(outcome, reason);
      } catch (err) {
        opts.onError?.(err);
        if (opts.retryable?.(err))
          for (const p of reason.paths.length ? reason.paths : ['.beads']) this.pending.set(p, 'change');
      }
    })().finally(() => {
      this.running = undefined;
      if (this.pending.size > 0) this.schedule(opts.debounceMs);
    });
    return this.running;
  }
}

export async function startWatcher(opts: WatchOptions): Promise<Watcher> {
  const loop = new ReconcileLoop(opts);
  if (opts.feed) return startFed(opts.feed, loop);
  const { watch } = await import('chokidar');
  const beads = join(opts.root, '.beads');
  const cache = join(beads, '.cache');
  const toRel = (abs: string) => relative(opts.root, abs).split(sep).join('/');

  const watcher = watch(beads, {
    ignoreInitial: true,
    ignored: (p: string) => p === cache || p.startsWith(cache + sep) || isIgnoredPath(toRel(p)),
    ...(opts.usePolling !== undefined ? { usePolling: opts.usePolling } : {}),
    interval: opts.pollIntervalMs ?? 100,
    binaryInterval: opts.pollIntervalMs ?? 100,
  });

  let fail: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Awaited by the caller; a rejection nobody awaits yet is not a crash.
  failed.catch(() => {});
  let scanned = false;
  // Each folder and file the limit refuses is one more error: the first one decides.
  watcher.on('error', (err: unknown) => {
    const limit = watchLimitError(err);
    if (limit) fail(limit);
    else if (!scanned) fail(err);
    else opts.onError?.(err);
  });

  watcher.on('all', (ev: string, abs: string) => {
    if (loop.closed) return;
    const rel = toRel(abs);
    if (isIgnoredPath(rel)) return;
    // A new folder arrives as addDir followed by an add per file; the adds are enough.
    if (ev === 'addDir') return;
    loop.event(rel, ev as EventName);
  });

  const ready = (async () => {
    await Promise.race([new Promise<void>((resolve) => watcher.once('ready', () => resolve())), failed]);
    scanned = true;
    // Level-triggered: whatever happened while nobody watched is caught up first.
    if (!loop.closed) await loop.run({ initial: true, paths: [] });
  })();
  ready.catch(() => {});

  return {
    ready,
    failed,
    async close() {
      if (loop.closed) {
        await loop.running;
        return;
      }
      loop.stop();
      await watcher.close();
      await loop.running;
    },
  };
}

/** The reconcile loop fed by folder watches already in place: ready once the first run is done. */
function startFed(feed: ChangeFeed, loop: ReconcileLoop): Watcher {
  let fail: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {});
  feed.listen(
    (batch) => {
      if (!loop.closed) loop.events(batch);
    },
    (err) => fail(err),
  );
  // Level-triggered: whatever happened before the feed was listened to is caught up first.
  const ready = loop.run({ initial: true, paths: [] });
  return {
    ready,
    failed,
    async close() {
      loop.stop();
      await loop.running;
    },
  };
}
