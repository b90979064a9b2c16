// The file watcher: chokidar on `.beads/` only, debounced, one reconcile at a time. The
// reconcile itself is injected (the CLI passes the engine's `advance`, plus an engine commit
// with --commit), so this module is about events: what counts as an edit, what is our own
// write, when to run, and stopping without leaving anything half done.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { MAX_STATE_FILE_BYTES } from '../store/atomic.js';
import type { ReconcileOutcome } from './commit.js';

export interface WatchOptions {
  root: string;
  /** Runs one reconcile; resolves with what it wrote (repo-relative paths). */
  reconcile(reason: WatchReason): Promise<ReconcileOutcome>;
  /** Quiet time after the last event before reconciling. */
  debounceMs: number;
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
  /** Resolves once chokidar has scanned `.beads/` and the first reconcile has finished. */
  ready: Promise<void>;
  /** Stops watching, waits for a reconcile in flight, then resolves. Idempotent. */
  close(): Promise<void>;
}

type EventName = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir';

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

export async function startWatcher(opts: WatchOptions): Promise<Watcher> {
  const { watch } = await import('chokidar');
  const beads = join(opts.root, '.beads');
  const cache = join(beads, '.cache');
  const toRel = (abs: string) => relative(opts.root, abs).split(sep).join('/');
  /** Content we wrote ourselves, by path: an event that finds exactly this content is our echo. */
  const ownWrites = new Map<string, string | undefined>();
  let pending = new Map<string, EventName>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  const watcher = watch(beads, {
    ignoreInitial: true,
    ignored: (p: string) => p === cache || p.startsWith(cache + sep) || isIgnoredPath(toRel(p)),
    ...(opts.usePolling !== undefined ? { usePolling: opts.usePolling } : {}),
    interval: opts.pollIntervalMs ?? 100,
    binaryInterval: opts.pollIntervalMs ?? 100,
  });

  const schedule = (delay: number) => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, delay);
  };

  const isEcho = (rel: string, ev: EventName): boolean => {
    if (!ownWrites.has(rel)) return false;
    if (ev === 'unlink' || ev === 'unlinkDir') return false;
    return hashFile(join(opts.root, rel)) === ownWrites.get(rel);
  };

  let graceTaken = false;
  const fire = () => {
    timer = undefined;
    if (closed || running) return; // a run in flight re-checks `pending` when it ends
    const real = [...pending].filter(([rel, ev]) => !isEcho(rel, ev));
    if (real.length === 0) {
      pending.clear();
      return;
    }
    // An editor's save may be unlink now, add a moment later: give it that moment, once.
    const vanished = real.some(
      ([rel, ev]) => ev === 'unlink' && hashFile(join(opts.root, rel)) === undefined,
    );
    if (vanished && !graceTaken) {
      graceTaken = true;
      schedule(opts.atomicGraceMs ?? 250);
      return;
    }
    graceTaken = false;
    pending = new Map();
    void run({ initial: false, paths: real.map(([rel]) => rel) });
  };

  const run = (reason: WatchReason) => {
    running = (async () => {
      try {
        const outcome = await opts.reconcile(reason);
        for (const w of outcome.written) ownWrites.set(w, hashFile(join(opts.root, w)));
        opts.onOutcome?.(outcome, reason);
      } catch (err) {
        opts.onError?.(err);
        if (opts.retryable?.(err))
          for (const p of reason.paths.length ? reason.paths : ['.beads']) pending.set(p, 'change');
      }
    })().finally(() => {
      running = undefined;
      if (pending.size > 0) schedule(opts.debounceMs);
    });
    return running;
  };

  watcher.on('all', (ev: string, abs: string) => {
    if (closed) return;
    const rel = toRel(abs);
    if (isIgnoredPath(rel)) return;
    // A new folder arrives as addDir followed by an add per file; the adds are enough.
    if (ev === 'addDir') return;
    pending.set(rel, ev as EventName);
    schedule(opts.debounceMs);
  });

  const ready = (async () => {
    await new Promise<void>((resolve, reject) => {
      watcher.once('ready', () => resolve());
      watcher.once('error', reject);
    });
    // Level-triggered: whatever happened while nobody watched is caught up first.
    if (!closed) await run({ initial: true, paths: [] });
  })();

  return {
    ready,
    async close() {
      if (closed) {
        await running;
        return;
      }
      closed = true;
      if (timer) clearTimeout(timer);
      await watcher.close();
      await running;
    },
  };
}
