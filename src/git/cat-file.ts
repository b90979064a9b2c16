// `git cat-file --batch` in one process: the object each spec names (`<rev>:<path>`, an object
// id), in the order asked. The one reader of its output format (`<oid> <type> <size>\n<bytes>\n`,
// or `<spec> missing\n`).
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { GastownError } from '../errors.js';
import { gitBytes, spawnGit } from './exec.js';

/** An object's header line: `<oid> <type> <size>`; anything else (`<spec> missing`) is no object. */
const OBJECT_HEADER = /^([0-9a-f]+) (\w+) (\d+)$/;

export interface GitObject {
  /** The object's id, in hex. */
  id: string;
  type: string;
  bytes: Buffer;
}

/**
 * One object per spec; undefined where git has none (no such revision, or no such path there).
 * `strict`: a git that fails, or stops before the last spec, throws instead of leaving the rest
 * undefined.
 */
export async function catFileBatch(
  root: string,
  specs: readonly string[],
  strict = false,
): Promise<(GitObject | undefined)[]> {
  if (specs.length === 0) return [];
  const out = await gitBytes(['cat-file', '--batch'], {
    cwd: root,
    input: specs.map((s) => `${s}\n`).join(''),
    allowFailure: !strict,
  });
  const objects: (GitObject | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < specs.length; i++) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) break;
    const header = out.subarray(at, eol).toString('utf8');
    at = eol + 1;
    const m = OBJECT_HEADER.exec(header);
    if (!m) {
      objects.push(undefined);
      continue;
    }
    const size = Number(m[3]);
    objects.push({ id: m[1] as string, type: m[2] as string, bytes: out.subarray(at, at + size) });
    at += size + 1;
  }
  return objects;
}

/** The text of `o` when it is a blob; undefined for anything else or nothing. */
export function blobText(o: GitObject | undefined): string | undefined {
  return o?.type === 'blob' ? o.bytes.toString('utf8') : undefined;
}

/** The text of each blob named (a blob id or `<rev>:<path>`); undefined where there is none. */
export async function blobTexts(root: string, specs: readonly string[]): Promise<(string | undefined)[]> {
  return (await catFileBatch(root, specs)).map(blobText);
}

export { SUBMODULE_MODE, SYMLINK_MODE, TREE_MODE } from './modes.js';

/** One entry of a tree object: `mode` as git writes it (TREE_MODE, SUBMODULE_MODE, a file's). */
export interface TreeEntry {
  mode: string;
  name: string;
  /** The entry's object id, in hex. */
  id: string;
}

/** One entry of a tree object as its bytes hold it; `id` (raw) and `raw` (the whole entry) are views. */
export interface RawTreeEntry {
  mode: string;
  name: string;
  id: Buffer;
  raw: Buffer;
}

/**
 * The entries of a tree object's bytes (`<mode> <name>\0<raw id>`), in the tree's order: the one
 * reader of that format.
 */
export function rawTreeEntries(bytes: Buffer, idBytes: number): RawTreeEntry[] {
  const out: RawTreeEntry[] = [];
  let at = 0;
  while (at < bytes.length) {
    const space = bytes.indexOf(0x20, at);
    const nul = bytes.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 1 + idBytes > bytes.length)
      throw new GastownError('git.failed', 'cannot read a tree object: it is truncated');
    const end = nul + 1 + idBytes;
    out.push({
      mode: bytes.toString('latin1', at, space),
      name: bytes.toString('utf8', space + 1, nul),
      id: bytes.subarray(nul + 1, end),
      raw: bytes.subarray(at, end),
    });
    at = end;
  }
  return out;
}

/** The entries of a tree object's bytes, ids in hex. */
export function treeEntries(bytes: Buffer, idBytes: number): TreeEntry[] {
  return rawTreeEntries(bytes, idBytes).map((e) => ({
    mode: e.mode,
    name: e.name,
    id: e.id.toString('hex'),
  }));
}

/**
 * A `git cat-file --batch` kept open for a command that reads in rounds (a tree, then what it
 * holds): one process however many rounds. Answers come in the order asked, so reads may overlap.
 */
export interface CatFileSession {
  /** As catFileBatch, not strict: undefined where git has no such object or has stopped. */
  read(specs: readonly string[]): Promise<(GitObject | undefined)[]>;
  /** Ends the process; reads after this answer undefined. */
  close(): Promise<void>;
}

interface Pending {
  /** Fail, rather than answer undefined, for objects git stopped before giving. */
  strict: boolean;
  left: number;
  objects: (GitObject | undefined)[];
  done: (objects: (GitObject | undefined)[]) => void;
  fail: (err: Error) => void;
}

/** Starts git on the first read, so a command that reads nothing starts no process. */
export function openCatFile(root: string): CatFileSession {
  return new CatFileProcess(root);
}

/** A session whose reads may ask to fail when git stops before answering them all. */
export interface SharedCatFile extends CatFileSession {
  /** As catFileBatch with `strict`: throws when git stops before the last spec. */
  readAll(specs: readonly string[]): Promise<(GitObject | undefined)[]>;
}

const shared = new Map<string, CatFileProcess>();

/**
 * This process's `git cat-file --batch` for `root`, for readers that come one after another in
 * one run (a hook's view of the trailer's commit, then its engine commit's tree): one process
 * for all of them. Asked only for objects by id (`<id>` or `<id>:<path>`), which never change,
 * so answers stay true however long it lives. It keeps Node running only while a read waits;
 * closeSharedCatFiles ends it.
 */
export function sharedCatFile(root: string): SharedCatFile {
  let s = shared.get(root);
  if (!s || s.isEnded()) {
    s = new CatFileProcess(root, true);
    shared.set(root, s);
  }
  return s;
}

/** Ends every shared session (the end of a reconcile and its commit). */
export async function closeSharedCatFiles(): Promise<void> {
  const all = [...shared.values()];
  shared.clear();
  await Promise.all(all.map((s) => s.close()));
}

class CatFileProcess implements SharedCatFile {
  private readonly queue: Pending[] = [];
  private readonly chunks: Buffer[] = [];
  private have = 0;
  /** Bytes the next record takes, from the first buffered byte: no parse before they are here. */
  private need = 1;
  private ended = false;
  private child: ChildProcess | undefined;
  private closed: Promise<void> = Promise.resolve();

  /** `idle`: holds Node's event loop only while a read waits (a session shared for a run). */
  constructor(
    private readonly root: string,
    private readonly idle = false,
  ) {}

  isEnded(): boolean {
    return this.ended;
  }

  read(specs: readonly string[]): Promise<(GitObject | undefined)[]> {
    return this.ask(specs, false);
  }

  readAll(specs: readonly string[]): Promise<(GitObject | undefined)[]> {
    return this.ask(specs, true);
  }

  private ask(specs: readonly string[], strict: boolean): Promise<(GitObject | undefined)[]> {
    if (specs.length === 0) return Promise.resolve([]);
    if (this.ended)
      return strict
        ? Promise.reject(new GastownError('git.failed', 'git cat-file has ended'))
        : Promise.resolve(specs.map(() => undefined));
    this.child ??= this.start();
    const stdin = this.child.stdin;
    if (this.idle) pipe(this.child.stdout)?.ref();
    return new Promise((done, fail) => {
      this.queue.push({ strict, left: specs.length, objects: [], done, fail });
      stdin?.write(specs.map((s) => `${s}\n`).join(''));
    });
  }

  close(): Promise<void> {
    this.ended = true;
    // Whoever waits for the end is kept running until git has gone.
    if (this.idle) {
      this.child?.ref();
      pipe(this.child?.stdout)?.ref();
    }
    this.child?.stdin?.end();
    return this.closed;
  }

  private start(): ChildProcess {
    const c = spawnGit(['cat-file', '--batch'], this.root);
    c.stdout?.on('data', (b: Buffer) => {
      this.chunks.push(b);
      this.have += b.length;
      if (this.have >= this.need) this.take();
    });
    c.stderr?.resume();
    c.stdin?.on('error', () => {}); // git gone: its close answers what is left
    c.once('error', (e: NodeJS.ErrnoException) =>
      this.finish(new GastownError('git.spawn', `could not run git cat-file: ${e.code ?? e.message}`)),
    );
    this.closed = new Promise<void>((resolve) =>
      c.once('close', () => {
        this.finish();
        resolve();
      }),
    );
    if (this.idle) {
      // Only a waiting read (its stdout, ref'd by ask) keeps Node running.
      c.unref();
      for (const p of [c.stdin, c.stdout, c.stderr]) pipe(p)?.unref();
    }
    return c;
  }

  /** Answers what is still asked: undefined for each object, or the error that stopped git. */
  private finish(err?: Error): void {
    this.ended = true;
    for (const p of this.queue.splice(0)) {
      if (err) p.fail(err);
      else if (p.strict && p.left > 0)
        p.fail(new GastownError('git.failed', 'git cat-file stopped before answering every object asked'));
      else {
        while (p.left-- > 0) p.objects.push(undefined);
        p.done(p.objects);
      }
    }
  }

  /** Answers every complete record buffered and keeps the rest. */
  private take(): void {
    const buf = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    let at = 0;
    while (this.queue.length > 0) {
      const p = this.queue[0] as Pending;
      if (p.left === 0) {
        this.queue.shift();
        p.done(p.objects);
        continue;
      }
      const eol = buf.indexOf(0x0a, at);
      if (eol < 0) break;
      const m = OBJECT_HEADER.exec(buf.toString('utf8', at, eol));
      p.left--;
      if (!m) {
        p.objects.push(undefined); // `<spec> missing`
        at = eol + 1;
        continue;
      }
      const size = Number(m[3]);
      if (buf.length < eol + 2 + size) {
        p.left++;
        this.need = eol + 2 + size - at;
        break;
      }
      p.objects.push({
        id: m[1] as string,
        type: m[2] as string,
        bytes: buf.subarray(eol + 1, eol + 1 + size),
      });
      at = eol + 2 + size;
      this.need = 1;
    }
    const rest = buf.subarray(at);
    this.chunks.length = 0;
    if (rest.length > 0) this.chunks.push(rest);
    this.have = rest.length;
    if (this.idle && this.queue.length === 0) pipe(this.child?.stdout)?.unref();
  }
}

/** A child's stdio pipe as the socket it is (ref and unref are on the socket). */
function pipe(stream: unknown): Socket | undefined {
  return (stream ?? undefined) as Socket | undefined;
}
