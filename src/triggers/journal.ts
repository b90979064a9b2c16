// The change journal `gastown watch` serves (an fsmonitor-style daemon): which molecule folders
// changed since a reader's mark (store/journal.ts), so warm readers stat only those. Linux only.
//
// It runs in a worker thread of its own: a libuv loop of its own reads its own inotify fd, in the
// kernel's order, while the watch's reconciles keep the main thread busy. Every folder under
// `.beads/` but its cache gets an fs.watch (chokidar's events are post-processed and delayed, so
// they are not used here), and the same events feed the watch's reconcile loop: one inotify watch
// per folder, where chokidar takes one per file. Each event under `.beads/molecules/` touches its
// molecule with the next sequence number; a sync
// creates a cookie file in a watched folder and is answered when the cookie's event comes, so
// every event queued before it has been counted. Anything the journal cannot vouch for (a watch
// it could not add, a burst that may have overflowed the kernel's queue, `.beads/` or its
// molecules folder replaced) starts a new epoch or stops it: a reader's mark then matches nothing
// and the reader stats everything, as with no journal at all. Each answer carries the nonce the
// reader left in a 0600 file of the cookie folder (store/journal.ts says why).
import { Worker } from 'node:worker_threads';
import { GastownError } from '../errors.js';
import { COOKIE_DIR, JOURNAL_FILE, NONCE_NAME, SOCKET_PREFIX } from '../store/journal.js';
import { cacheDir, moleculesDir } from '../store/layout.js';
import { ensureCacheDir } from '../store/links.js';
import { type ChangeFeed, type FeedChange, watchFailure } from './watch.js';

export interface Journal {
  /** Stops the journal and removes its discovery file. Idempotent. */
  close(): Promise<void>;
  /** What changed under `.beads/` (its cache left out), from the journal's folder watches. */
  feed: ChangeFeed;
}

/** A watch the worker could not add, as plain data (an Error loses its code crossing threads). */
interface WatchFailure {
  code?: string;
  syscall?: string;
  path?: string;
  message: string;
}

interface WorkerData {
  root: string;
  molecules: string;
  cache: string;
  cookies: string;
  discovery: string;
  /** NONCE_NAME's source: the worker runs from its own text and imports nothing. */
  nonceName: string;
  /** SOCKET_PREFIX, for the same reason. */
  socketPrefix: string;
}

/** The journal's worker thread for the repository at `root`. */
function spawnWorker(root: string): Worker {
  const cache = ensureCacheDir(root);
  const data: WorkerData = {
    root,
    molecules: moleculesDir(root),
    cache: cacheDir(root),
    cookies: `${cache}/${COOKIE_DIR}`,
    discovery: `${cache}/${JOURNAL_FILE}`,
    nonceName: NONCE_NAME.source,
    socketPrefix: SOCKET_PREFIX,
  };
  // The worker's code is this one class's text: no bundled module to locate at run time.
  const code = `const JournalWorker = (${JournalWorker.toString()});\nnew JournalWorker().start();`;
  return new Worker(code, { eval: true, workerData: data });
}

/**
 * Starts the journal for the repository at `root`; resolves once every folder is watched and
 * the discovery file is written. Undefined off Linux or when it cannot start (the watch runs on);
 * throws the limit's error when even one inotify watch per folder is too many.
 * `onDisabled` hears why it could not start or stopped vouching for anything (readers then
 * stat every molecule, as without it).
 */
export async function startJournal(
  root: string,
  onDisabled: (reason: string) => void = () => {},
): Promise<Journal | undefined> {
  if (process.platform !== 'linux') return undefined;
  const worker = spawnWorker(root);
  let disabled: string | undefined;
  const disable = (reason: string) => {
    if (disabled !== undefined) return;
    disabled = reason;
    onDisabled(reason);
  };
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let listener: ((changes: FeedChange[]) => void) | undefined;
  let onFail: ((err: GastownError) => void) | undefined;
  let failure: GastownError | undefined;
  let closing: Promise<void> | undefined;
  // The watch it feeds cannot go on: it hears the first reason.
  const lost = (err: GastownError) => {
    failure ??= err;
    if (failure === err) onFail?.(err);
  };
  const started = await new Promise<boolean | GastownError>((resolve) => {
    let ready = false;
    worker.on(
      'message',
      (m: { ready?: boolean; disabled?: string; changes?: FeedChange[]; failed?: WatchFailure }) => {
        if (m.changes) listener?.(m.changes);
        if (m.ready) {
          ready = true;
          resolve(true);
        }
        if (m.disabled !== undefined) {
          disable(m.disabled);
          resolve(false);
        }
        if (m.failed) {
          const err = watchFailure(Object.assign(new Error(m.failed.message), m.failed));
          if (!ready) resolve(err);
          lost(err);
        }
      },
    );
    worker.on('error', (err) => {
      const reason = err instanceof Error ? err.message : String(err);
      disable(reason);
      resolve(false);
      lost(new GastownError('watch.failed', `the change journal's thread failed: ${reason}`));
    });
    worker.on('exit', () => {
      resolve(false);
      if (!closing) lost(new GastownError('watch.failed', "the change journal's thread stopped"));
    });
  });
  const close = () => {
    closing ??= (async () => {
      // Held until the worker has removed its discovery file and exited.
      worker.ref();
      worker.postMessage('close');
      await exited;
    })();
    return closing;
  };
  if (started !== true) {
    await close();
    // Past the inotify limit even one watch per folder is too many: the watch says so and stops.
    if (started !== false) throw started;
    return undefined;
  }
  worker.unref();
  const feed: ChangeFeed = {
    listen(changes, failed) {
      listener = changes;
      onFail = failed;
      // The worker's watches are what keeps a fed watch running.
      worker.ref();
      if (failure) failed(failure);
    },
  };
  return { close, feed };
}

type Fs = typeof import('node:fs');
type Socket = import('node:net').Socket;

/**
 * The worker. Self-contained (it runs from its own text): no name from outside this class.
 * Its messages to the main thread: {ready}, {disabled: reason}, {changes: [path, event][]} (paths
 * relative to the repository root, one batch per loop turn), {failed: WatchFailure}.
 */
class JournalWorker {
  private readonly fs: Fs;
  private readonly net: typeof import('node:net');
  private readonly port: import('node:worker_threads').MessagePort;
  private readonly d: WorkerData;
  private readonly beads: string;
  private readonly instance: string;
  private readonly socketName: string;
  private epochCount = 0;
  private epoch: string;
  private seq = 0;
  /** The sequence number of the last event per molecule id, this epoch. */
  private touched = new Map<string, number>();
  /** Why the journal stopped vouching for anything; its watches go on feeding the watch. */
  private disabled: string | undefined;
  /** A watch could not be added for lack of inotify watches: nothing is watched any more. */
  private failed = false;
  private closed = false;
  private readonly watchers = new Map<string, import('node:fs').FSWatcher>();
  private molIdentity: string | undefined;
  private beadsIdentity: string | undefined;
  private queueMax = 16384;
  private burst = 0;
  private burstReset = false;
  /** Changes for the watch, sent once per loop turn. */
  private changes: [string, string][] = [];
  private readonly pending = new Map<string, { socket: Socket; since: string[]; nonce: string }>();
  private cookieSeq = 0;
  private cookieIdentity: string | undefined;
  private server: import('node:net').Server | undefined;

  constructor() {
    // Builtins only, by the one loader no bundler rewrites.
    const load = (name: string): unknown => process.getBuiltinModule(name);
    this.fs = load('node:fs') as Fs;
    this.net = load('node:net') as typeof import('node:net');
    const threads = load('node:worker_threads') as typeof import('node:worker_threads');
    this.port = threads.parentPort as import('node:worker_threads').MessagePort;
    this.d = threads.workerData as WorkerData;
    this.beads = this.d.molecules.slice(0, this.d.molecules.lastIndexOf('/'));
    this.instance = (load('node:crypto') as typeof import('node:crypto')).randomBytes(8).toString('hex');
    this.socketName = `${this.d.socketPrefix}${this.instance}`;
    this.epoch = `${this.instance}.0`;
  }

  start(): void {
    const { fs, d, port } = this;
    port.on('message', (m) => {
      if (m === 'close') this.close();
    });
    this.molIdentity = this.identity(d.molecules);
    this.beadsIdentity = this.identity(this.beads);
    if (this.molIdentity === undefined || this.beadsIdentity === undefined) {
      port.postMessage({ disabled: 'no .beads/molecules folder to watch' });
      port.close();
      return;
    }
    // inotify hears only this machine's changes: none on a network or FUSE file system.
    const remote = [0x6969, 0xff534d42, 0xfe534d42, 0x517b, 0x65735546, 0x01021997, 0x564c, 0x5346414f];
    if (remote.includes(fs.statfsSync(d.molecules).type)) {
      port.postMessage({ disabled: 'a network file system: inotify does not see other machines' });
      port.close();
      return;
    }
    try {
      const max = fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8');
      this.queueMax = Number.parseInt(max, 10) || this.queueMax;
    } catch {
      /* the kernel's default */
    }
    const parent = (_type: string, name: string | null) => {
      this.counted();
      this.onParent(name);
    };
    this.watchDir(d.root, parent);
    this.watchDir(d.cache, parent);
    this.cookieDir();
    this.watchTree(this.beads);
    if (this.disabled !== undefined || this.failed) {
      port.close();
      return;
    }
    this.serve();
  }

  private identity(p: string): string | undefined {
    const st = this.fs.lstatSync(p, { throwIfNoEntry: false });
    return st?.isDirectory() ? `${st.dev}:${st.ino}` : undefined;
  }

  /** Stops vouching for anything: readers fall back to their stats. The watch is still fed. */
  private disable(reason: string): void {
    if (this.disabled !== undefined) return;
    this.disabled = reason;
    this.removeDiscovery();
    if (!this.failed) this.port.postMessage({ disabled: reason });
  }

  private removeDiscovery(): void {
    try {
      const text = this.fs.readFileSync(this.d.discovery, 'utf8');
      if (text.includes(this.socketName)) this.fs.unlinkSync(this.d.discovery);
    } catch {
      /* gone already */
    }
  }

  private watchDir(abs: string, onEvent: (type: string, name: string | null) => void): void {
    if (this.watchers.has(abs) || this.failed || this.closed) return;
    try {
      const w = this.fs.watch(abs, { persistent: false }, (type, name) =>
        onEvent(type, typeof name === 'string' ? name : null),
      );
      w.on('error', (err) => {
        this.disable(`watching ${abs}: ${err.message}`);
        this.change(this.beads, 'change');
      });
      this.watchers.set(abs, w);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // Gone between its listing and its watch: its parent's event covers it.
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return;
      if (e.code === 'ENOSPC') {
        // Past the limit the watch cannot see everything: it stops and says so.
        this.failed = true;
        this.disable(`inotify watch limit reached (fs.inotify.max_user_watches) at ${abs}`);
        this.port.postMessage({ failed: { code: e.code, syscall: 'watch', path: abs, message: e.message } });
        for (const w of this.watchers.values()) w.close();
        this.watchers.clear();
        return;
      }
      this.disable(`watching ${abs}: ${e.message}`);
    }
  }

  /**
   * Every folder under `abs` but the cache, each watched before it is listed: a later entry comes
   * as an event. `found` collects the files listed.
   */
  private watchTree(abs: string, found?: string[]): void {
    if (abs === this.d.cache) return;
    this.watchDir(abs, (type, name) => this.onTree(abs, type, name));
    let entries: import('node:fs').Dirent[];
    try {
      entries = this.fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) this.watchTree(`${abs}/${e.name}`, found);
      else found?.push(`${abs}/${e.name}`);
    }
  }

  /**
   * A folder that came: watched, and the files already in it are changes for the watch (made
   * before its watch was added, they have no event). A large tree (a checkout) is one change.
   */
  private folderCame(abs: string): void {
    const found: string[] = [];
    this.watchTree(abs, found);
    if (found.length > 1000) this.change(abs, 'add');
    else for (const f of found) this.change(f, 'add');
  }

  /** Lets go of the folders at and under `abs`; the cache's own watches stay. */
  private unwatchTree(abs: string): void {
    const cache = this.d.cache;
    for (const [p, w] of this.watchers)
      if ((p === abs || p.startsWith(`${abs}/`)) && p !== cache && !p.startsWith(`${cache}/`)) {
        w.close();
        this.watchers.delete(p);
      }
  }

  /** A change for the watch's reconcile loop: a path under the root and what happened to it. */
  private change(abs: string, event: 'add' | 'change' | 'unlink' | 'unlinkDir'): void {
    if (this.failed || this.closed) return;
    if (this.changes.length === 0)
      setImmediate(() => {
        const batch = this.changes;
        this.changes = [];
        if (!this.failed && !this.closed) this.port.postMessage({ changes: batch });
      });
    this.changes.push([abs.slice(this.d.root.length + 1), event]);
  }

  /**
   * Every older mark stops counting; every folder is watched afresh, and the watch reconciles
   * (level-triggered: it need not know what was missed).
   */
  private newEpoch(): void {
    this.epochCount++;
    this.epoch = `${this.instance}.${this.epochCount}`;
    this.touched = new Map();
    this.unwatchTree(this.beads);
    this.watchTree(this.beads);
    this.change(this.beads, 'change');
  }

  /**
   * Counts the events of one loop turn (libuv reads the inotify fd until it is empty, then the
   * turn's setImmediate runs): half the kernel's queue in one turn may mean an overflow, which
   * libuv drops without a word, so a new epoch.
   */
  private counted(): void {
    if (!this.burstReset) {
      this.burstReset = true;
      setImmediate(() => {
        this.burst = 0;
        this.burstReset = false;
      });
    }
    if (++this.burst === Math.floor(this.queueMax / 2)) this.newEpoch();
  }

  /** An event in a folder under `.beads/`: a change for the watch, and a touch under molecules/. */
  private onTree(dir: string, type: string, name: string | null): void {
    this.counted();
    if (this.failed || this.closed) return;
    const { d } = this;
    if (name === null) {
      // No name: nothing says which molecule or file.
      this.newEpoch();
      return;
    }
    const abs = `${dir}/${name}`;
    if (dir === this.beads && name === '.cache') {
      this.onParent(name);
      return;
    }
    if (dir === this.beads && name === 'molecules' && this.identity(d.molecules) !== this.molIdentity)
      this.disable('the molecules folder was replaced');
    // A watched folder's own removal (libuv names it after the folder): its parent's event says it.
    const self = dir.endsWith(`/${name}`) && this.identity(dir) === undefined;
    if (self) {
      /* nothing for the watch */
    } else if (type === 'rename') {
      // An entry came or went: a folder that came is watched, one that went is let go, before
      // the touch below, so a reader whose mark is later misses none of its events.
      const wasFolder = this.watchers.has(abs);
      this.unwatchTree(abs);
      const st = this.fs.lstatSync(abs, { throwIfNoEntry: false });
      if (st?.isDirectory()) this.folderCame(abs);
      else this.change(abs, wasFolder ? 'unlinkDir' : st ? 'add' : 'unlink');
    } else if (!this.watchers.has(abs)) this.change(abs, 'change');
    if (dir === d.molecules) this.touched.set(name, ++this.seq);
    else if (dir.startsWith(`${d.molecules}/`))
      this.touched.set(dir.slice(d.molecules.length + 1).split('/')[0] as string, ++this.seq);
  }

  /** The repository root and the cache: `.beads/` or its molecules folder replaced, the cookie folder. */
  private onParent(name: string | null): void {
    if (this.failed || this.closed) return;
    if (name !== null && name !== 'molecules' && name !== '.beads' && name !== '.cache') return;
    if (
      this.identity(this.d.molecules) !== this.molIdentity ||
      this.identity(this.beads) !== this.beadsIdentity
    )
      this.disable('.beads/ or its molecules folder was replaced');
    else this.cookieDir();
    if (name === '.beads') this.beadsCameOrWent();
  }

  /** `.beads/` removed or made anew: the watch follows it. */
  private beadsCameOrWent(): void {
    const now = this.identity(this.beads);
    const watched = this.watchers.has(this.beads);
    if (now === undefined && watched) {
      this.unwatchTree(this.beads);
      this.change(this.beads, 'unlinkDir');
    } else if (now !== undefined && (!watched || now !== this.beadsIdentity)) {
      // Watched once per `.beads/`; `disable` has compared the first one's identity already.
      this.beadsIdentity = now;
      this.unwatchTree(this.beads);
      this.folderCame(this.beads);
    }
  }

  /** The cookie folder, watched; made again (and watched again) when it was removed. */
  private cookieDir(): void {
    const { fs, d } = this;
    const now = this.identity(d.cookies);
    if (now !== undefined && now === this.cookieIdentity) return;
    this.watchers.get(d.cookies)?.close();
    this.watchers.delete(d.cookies);
    try {
      fs.mkdirSync(d.cookies, { recursive: true, mode: 0o700 });
      // Only the owner lists it: nobody else learns a nonce file's name.
      fs.chmodSync(d.cookies, 0o700);
      for (const n of fs.readdirSync(d.cookies)) fs.rmSync(`${d.cookies}/${n}`, { force: true });
    } catch {
      /* the cookie's write fails below: no answer */
    }
    this.cookieIdentity = this.identity(d.cookies);
    this.watchDir(d.cookies, (type, name) => this.onCookie(type, name));
  }

  /** A cookie's event: every event queued before it has been counted; its sync is answered. */
  private onCookie(type: string, name: string | null): void {
    this.counted();
    if (type !== 'rename' || name === null) return;
    const waiting = this.pending.get(name);
    if (!waiting) return;
    this.pending.delete(name);
    try {
      this.fs.unlinkSync(`${this.d.cookies}/${name}`);
    } catch {
      /* removed by someone else */
    }
    this.answer(waiting.socket, waiting.since, waiting.nonce);
  }

  private answer(socket: Socket, since: string[], nonce: string): void {
    if (this.disabled !== undefined) {
      socket.end('{}\n');
      return;
    }
    const [sinceEpoch, sinceSeq] = since;
    const from = Number(sinceSeq);
    let touched: string[] | null = null;
    if (sinceEpoch === this.epoch && Number.isInteger(from) && from >= 0 && from <= this.seq) {
      touched = [];
      for (const [id, n] of this.touched) if (n > from) touched.push(id);
    }
    socket.end(`${JSON.stringify({ epoch: this.epoch, seq: this.seq, touched, nonce })}\n`);
  }

  /** The reader's nonce, read from its file and the file removed; undefined without one. */
  private takeNonce(name: string): string | undefined {
    if (!new RegExp(this.d.nonceName).test(name)) return undefined;
    const file = `${this.d.cookies}/${name}`;
    try {
      const nonce = this.fs.readFileSync(file, 'utf8');
      this.fs.unlinkSync(file);
      return /^[0-9a-f]{32}$/.test(nonce) ? nonce : undefined;
    } catch {
      return undefined;
    }
  }

  /** A reader's sync: a cookie made now, answered when its event comes. */
  private sync(socket: Socket, since: string[], nonceName: string): void {
    const nonce = this.disabled === undefined ? this.takeNonce(nonceName) : undefined;
    if (nonce === undefined) {
      socket.end('{}\n');
      return;
    }
    this.cookieDir();
    const name = `${++this.cookieSeq}`;
    try {
      this.fs.writeFileSync(`${this.d.cookies}/${name}`, '');
      this.pending.set(name, { socket, since, nonce });
      socket.on('close', () => this.pending.delete(name));
    } catch {
      socket.end('{}\n');
    }
  }

  /** One request line per connection: `sync <epoch> <seq> <nonce file>` (`- -` without a mark). */
  private serve(): void {
    const server = this.net.createServer((socket) => {
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
        if (words[0] === 'sync' && words.length === 4)
          this.sync(socket, words.slice(1, 3), words[3] as string);
        else socket.destroy();
      });
    });
    this.server = server;
    server.on('error', (err) => this.disable(`journal socket: ${err.message}`));
    // Linux's abstract namespace: no file to go stale, no 108-byte path limit.
    server.listen(`\0${this.socketName}`, () => {
      const { fs, d } = this;
      const tmp = `${d.discovery}.${this.instance}.tmp`;
      try {
        fs.writeFileSync(tmp, `${JSON.stringify({ socket: this.socketName, pid: process.pid })}\n`);
        fs.renameSync(tmp, d.discovery);
      } catch (err) {
        this.disable(`writing ${d.discovery}: ${(err as Error).message}`);
        return;
      }
      this.port.postMessage({ ready: true });
    });
  }

  private close(): void {
    this.closed = true;
    this.server?.close();
    for (const w of this.pending.values()) w.socket.destroy();
    this.pending.clear();
    this.removeDiscovery();
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.port.close();
  }
}
