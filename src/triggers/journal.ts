// The change journal `gastown watch` serves (an fsmonitor-style daemon): which molecule folders
// changed since a reader's mark (store/journal.ts), so warm readers stat only those. Linux only.
//
// It runs in a worker thread of its own: a libuv loop of its own reads its own inotify fd, in the
// kernel's order, while the watch's reconciles keep the main thread busy. Every folder under
// `.beads/molecules/` gets an fs.watch (chokidar's events are post-processed and delayed, so they
// are not used here). Each event touches its molecule with the next sequence number; a sync
// creates a cookie file in a watched folder and is answered when the cookie's event comes, so
// every event queued before it has been counted. Anything the journal cannot vouch for (a watch
// it could not add, a burst that may have overflowed the kernel's queue, `.beads/` or its
// molecules folder replaced) starts a new epoch or stops it: a reader's mark then matches nothing
// and the reader stats everything, as with no journal at all.
import { Worker } from 'node:worker_threads';
import { COOKIE_DIR, JOURNAL_FILE } from '../store/journal.js';
import { cacheDir, moleculesDir } from '../store/layout.js';
import { ensureCacheDir } from '../store/links.js';

export interface Journal {
  /** Why the journal stopped vouching for anything, once it did (readers fall back). */
  onDisabled(listener: (reason: string) => void): void;
  /** Stops the journal and removes its discovery file. Idempotent. */
  close(): Promise<void>;
}

interface WorkerData {
  root: string;
  molecules: string;
  cache: string;
  cookies: string;
  discovery: string;
}

/**
 * Starts the journal for the repository at `root`; resolves once every folder is watched and
 * the discovery file is written. Undefined off Linux or when it cannot start (the watch runs on).
 */
export async function startJournal(root: string): Promise<Journal | undefined> {
  if (process.platform !== 'linux') return undefined;
  const cache = ensureCacheDir(root);
  const data: WorkerData = {
    root,
    molecules: moleculesDir(root),
    cache: cacheDir(root),
    cookies: `${cache}/${COOKIE_DIR}`,
    discovery: `${cache}/${JOURNAL_FILE}`,
  };
  // The worker's code is this one function's text: no bundled module to locate at run time.
  const worker = new Worker(`(${journalWorker.toString()})()`, { eval: true, workerData: data });
  const listeners: ((reason: string) => void)[] = [];
  let disabled: string | undefined;
  const disable = (reason: string) => {
    if (disabled !== undefined) return;
    disabled = reason;
    for (const l of listeners) l(reason);
  };
  const started = await new Promise<boolean>((resolve) => {
    worker.on('message', (m: { ready?: boolean; disabled?: string }) => {
      if (m.ready) resolve(true);
      if (m.disabled !== undefined) {
        disable(m.disabled);
        resolve(false);
      }
    });
    worker.on('error', (err) => {
      disable(err instanceof Error ? err.message : String(err));
      resolve(false);
    });
    worker.on('exit', () => resolve(false));
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      // Held until the worker has removed its discovery file and exited.
      worker.ref();
      worker.postMessage('close');
      await exited;
    })();
    return closing;
  };
  if (!started) {
    await close();
    return undefined;
  }
  worker.unref();
  return {
    onDisabled(listener) {
      listeners.push(listener);
      if (disabled !== undefined) listener(disabled);
    },
    close,
  };
}

/**
 * The worker. Self-contained (it runs from its own text): no name from outside this function.
 * Its messages to the main thread: {ready}, {disabled: reason}.
 */
function journalWorker(): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const net = require('node:net') as typeof import('node:net');
  const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const d = workerData as WorkerData;
  const port = parentPort as NonNullable<typeof parentPort>;

  const instance = randomBytes(8).toString('hex');
  const socketName = `gastown-journal-${instance}`;
  let epochCount = 0;
  let epoch = `${instance}.0`;
  let seq = 0;
  // Sequence number of the last event per molecule id, this epoch.
  let touched = new Map<string, number>();
  let disabled: string | undefined;
  const watchers = new Map<string, import('node:fs').FSWatcher>();
  const beads = d.molecules.slice(0, d.molecules.lastIndexOf('/'));
  const identity = (p: string) => {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    return st?.isDirectory() ? `${st.dev}:${st.ino}` : undefined;
  };
  const molIdentity = identity(d.molecules);
  const beadsIdentity = identity(beads);

  // A loop turn whose events reach half the kernel's queue may have lost some to an overflow,
  // which libuv drops without a word: a new epoch then (every older mark stops counting).
  let queueMax = 16384;
  try {
    queueMax =
      Number.parseInt(fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'), 10) || queueMax;
  } catch {
    /* the default */
  }
  let burst = 0;
  let burstReset = false;

  const disable = (reason: string) => {
    if (disabled !== undefined) return;
    disabled = reason;
    try {
      const text = fs.readFileSync(d.discovery, 'utf8');
      if (text.includes(socketName)) fs.unlinkSync(d.discovery);
    } catch {
      /* gone already */
    }
    port.postMessage({ disabled: reason });
    for (const w of watchers.values()) w.close();
    watchers.clear();
  };

  const watchDir = (abs: string, onEvent: (type: string, name: string | null) => void) => {
    if (watchers.has(abs) || disabled !== undefined) return;
    try {
      const w = fs.watch(abs, { persistent: false }, (type, name) =>
        onEvent(type, typeof name === 'string' ? name : null),
      );
      w.on('error', (err) => disable(`watching ${abs}: ${err.message}`));
      watchers.set(abs, w);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // Gone between its listing and its watch: its parent's event covers it.
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return;
      disable(
        e.code === 'ENOSPC'
          ? `inotify watch limit reached (fs.inotify.max_user_watches) at ${abs}`
          : `watching ${abs}: ${e.message}`,
      );
    }
  };

  // Every folder under `abs`, each watched before it is listed: an entry made after the
  // listing comes as an event.
  const watchTree = (abs: string) => {
    watchDir(abs, (type, name) => onMolecules(abs, type, name));
    let entries: import('node:fs').Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) watchTree(`${abs}/${e.name}`);
  };

  const unwatchTree = (abs: string) => {
    for (const [p, w] of watchers)
      if (p === abs || p.startsWith(`${abs}/`)) {
        w.close();
        watchers.delete(p);
      }
  };

  const newEpoch = () => {
    epochCount++;
    epoch = `${instance}.${epochCount}`;
    touched = new Map();
    unwatchTree(d.molecules);
    watchTree(d.molecules);
  };

  const counted = () => {
    if (!burstReset) {
      burstReset = true;
      setImmediate(() => {
        burst = 0;
        burstReset = false;
      });
    }
    if (++burst === Math.floor(queueMax / 2)) newEpoch();
  };

  function onMolecules(dir: string, type: string, name: string | null): void {
    counted();
    if (disabled !== undefined) return;
    const rel = dir === d.molecules ? '' : dir.slice(d.molecules.length + 1);
    if (name === null) {
      // No name: nothing says which molecule; none is vouched for from here on.
      newEpoch();
      return;
    }
    const id = rel === '' ? name : (rel.split('/')[0] as string);
    if (rel === '' && name === 'molecules' && identity(d.molecules) !== molIdentity) {
      disable('the molecules folder was replaced');
      return;
    }
    if (type === 'rename') {
      // An entry came or went: a folder that came is watched now, one that went is let go,
      // before the touch below, so a reader whose mark is later misses none of its events.
      const abs = `${dir}/${name}`;
      unwatchTree(abs);
      const st = fs.lstatSync(abs, { throwIfNoEntry: false });
      if (st?.isDirectory()) watchTree(abs);
    }
    touched.set(id, ++seq);
  }

  // `.beads/` and the repository root: the molecules folder or `.beads/` itself replaced.
  const onParent = (_type: string, name: string | null) => {
    counted();
    if (name !== null && name !== 'molecules' && name !== '.beads' && name !== '.cache') return;
    if (identity(d.molecules) !== molIdentity || identity(beads) !== beadsIdentity)
      disable('.beads/ or its molecules folder was replaced');
    if (name === '.cache' || name === null) cookieDir();
  };

  // Cookies: the sync barrier. Answered in the order their events arrive.
  const pending = new Map<string, { socket: import('node:net').Socket; since: string[] }>();
  let cookieSeq = 0;
  let cookieIdentity: string | undefined;
  const cookieDir = () => {
    const now = identity(d.cookies);
    if (now !== undefined && now === cookieIdentity) return;
    const old = watchers.get(d.cookies);
    old?.close();
    watchers.delete(d.cookies);
    try {
      fs.mkdirSync(d.cookies, { recursive: true });
      for (const n of fs.readdirSync(d.cookies)) fs.rmSync(`${d.cookies}/${n}`, { force: true });
    } catch {
      /* the cookie's write fails below: no answer */
    }
    cookieIdentity = identity(d.cookies);
    watchDir(d.cookies, (type, name) => {
      counted();
      if (type !== 'rename' || name === null) return;
      const waiting = pending.get(name);
      if (!waiting) return;
      pending.delete(name);
      try {
        fs.unlinkSync(`${d.cookies}/${name}`);
      } catch {
        /* removed by someone else */
      }
      answer(waiting.socket, waiting.since);
    });
  };

  const answer = (socket: import('node:net').Socket, since: string[]) => {
    if (disabled !== undefined) {
      socket.end('{}\n');
      return;
    }
    const [sinceEpoch, sinceSeq] = since;
    const from = Number(sinceSeq);
    let list: string[] | null = null;
    if (sinceEpoch === epoch && Number.isInteger(from) && from >= 0 && from <= seq) {
      list = [];
      for (const [id, n] of touched) if (n > from) list.push(id);
    }
    socket.end(`${JSON.stringify({ epoch, seq, touched: list })}\n`);
  };

  const sync = (socket: import('node:net').Socket, since: string[]) => {
    if (disabled !== undefined) {
      socket.end('{}\n');
      return;
    }
    cookieDir();
    const name = `${++cookieSeq}`;
    try {
      fs.writeFileSync(`${d.cookies}/${name}`, '');
      pending.set(name, { socket, since });
      socket.on('close', () => pending.delete(name));
    } catch {
      socket.end('{}\n');
    }
  };

  const server = net.createServer((socket) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl < 0) {
        if (text.length > 200) socket.destroy();
        return;
      }
      const words = text.slice(0, nl).split(' ');
      text = '';
      if (words[0] === 'sync' && words.length === 3) sync(socket, words.slice(1));
      else socket.destroy();
    });
  });

  const close = () => {
    server.close();
    for (const w of pending.values()) w.socket.destroy();
    pending.clear();
    try {
      const text = fs.readFileSync(d.discovery, 'utf8');
      if (text.includes(socketName)) fs.unlinkSync(d.discovery);
    } catch {
      /* gone already */
    }
    for (const w of watchers.values()) w.close();
    watchers.clear();
    port.close();
  };
  port.on('message', (m) => {
    if (m === 'close') close();
  });

  if (molIdentity === undefined || beadsIdentity === undefined) {
    port.postMessage({ disabled: 'no .beads/molecules folder to watch' });
    port.close();
    return;
  }
  watchDir(d.root, onParent);
  watchDir(beads, onParent);
  watchDir(d.cache, onParent);
  cookieDir();
  watchTree(d.molecules);
  if (disabled !== undefined) {
    port.close();
    return;
  }
  server.on('error', (err) => disable(`journal socket: ${err.message}`));
  server.listen(`\0${socketName}`, () => {
    const tmp = `${d.discovery}.${instance}.tmp`;
    try {
      fs.writeFileSync(tmp, `${JSON.stringify({ socket: socketName, pid: process.pid })}\n`);
      fs.renameSync(tmp, d.discovery);
    } catch (err) {
      disable(`writing ${d.discovery}: ${(err as Error).message}`);
      return;
    }
    port.postMessage({ ready: true });
  });
}
