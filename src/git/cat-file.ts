// `git cat-file --batch` in one process: the object each spec names (`<rev>:<path>`, an object
// id), in the order asked. The one reader of its output format (`<oid> <type> <size>\n<bytes>\n`,
// or `<spec> missing\n`).
import type { ChildProcess } from 'node:child_process';
import { GastownError } from '../errors.js';
import { gitBytes, spawnGit } from './exec.js';

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
    const m = /^([0-9a-f]+) (\w+) (\d+)$/.exec(header);
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

/** The text of each blob named (a blob id or `<rev>:<path>`); undefined where there is none. */
export async function blobTexts(root: string, specs: readonly string[]): Promise<(string | undefined)[]> {
  const objects = await catFileBatch(root, specs);
  return specs.map((_, i) => {
    const o = objects[i];
    return o?.type === 'blob' ? o.bytes.toString('utf8') : undefined;
  });
}

/** One entry of a tree object: `mode` as git writes it (`40000` a folder, `160000` a submodule). */
export interface TreeEntry {
  mode: string;
  name: string;
  /** The entry's object id, in hex. */
  id: string;
}

/** The entries of a tree object's bytes (`<mode> <name>\0<raw id>`), in the tree's order. */
export function treeEntries(bytes: Buffer, idBytes: number): TreeEntry[] {
  const out: TreeEntry[] = [];
  let at = 0;
  while (at < bytes.length) {
    const space = bytes.indexOf(0x20, at);
    const nul = bytes.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 1 + idBytes > bytes.length)
      throw new GastownError('git.failed', 'cannot read a tree object: it is truncated');
    out.push({
      mode: bytes.toString('latin1', at, space),
      name: bytes.toString('utf8', space + 1, nul),
      id: bytes.toString('hex', nul + 1, nul + 1 + idBytes),
    });
    at = nul + 1 + idBytes;
  }
  return out;
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
  left: number;
  objects: (GitObject | undefined)[];
  done: (objects: (GitObject | undefined)[]) => void;
  fail: (err: Error) => void;
}

/** Starts git on the first read, so a command that reads nothing starts no process. */
export function openCatFile(root: string): CatFileSession {
  const queue: Pending[] = [];
  const chunks: Buffer[] = [];
  let have = 0;
  let need = 1;
  let ended = false;
  let child: ChildProcess | undefined;
  let closed: Promise<void> = Promise.resolve();
  const finish = (err?: Error) => {
    ended = true;
    for (const p of queue.splice(0)) {
      if (err) p.fail(err);
      else {
        while (p.left-- > 0) p.objects.push(undefined);
        p.done(p.objects);
      }
    }
  };
  /** Answers every complete record buffered; leaves `need` at the bytes the next one takes. */
  const take = () => {
    let buf = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    let at = 0;
    while (queue.length > 0) {
      const p = queue[0] as Pending;
      if (p.left === 0) {
        queue.shift();
        p.done(p.objects);
        continue;
      }
      const eol = buf.indexOf(0x0a, at);
      if (eol < 0) break;
      const m = /^([0-9a-f]+) (\w+) (\d+)$/.exec(buf.toString('utf8', at, eol));
      if (!m) {
        p.objects.push(undefined);
        p.left--;
        at = eol + 1;
        continue;
      }
      const size = Number(m[3]);
      if (buf.length < eol + 2 + size) {
        need = eol + 2 + size - at;
        break;
      }
      p.objects.push({
        id: m[1] as string,
        type: m[2] as string,
        bytes: buf.subarray(eol + 1, eol + 1 + size),
      });
      p.left--;
      at = eol + 2 + size;
      need = 1;
    }
    buf = buf.subarray(at);
    chunks.length = 0;
    if (buf.length > 0) chunks.push(buf);
    have = buf.length;
  };
  const start = (): ChildProcess => {
    const c = spawnGit(['cat-file', '--batch'], root);
    c.stdout?.on('data', (b: Buffer) => {
      chunks.push(b);
      have += b.length;
      if (have >= need) take();
    });
    c.stderr?.resume();
    c.stdin?.on('error', () => {}); // git gone: its close answers what is left
    c.once('error', (e: NodeJS.ErrnoException) =>
      finish(new GastownError('git.spawn', `could not run git cat-file: ${e.code ?? e.message}`)),
    );
    closed = new Promise<void>((resolve) =>
      c.once('close', () => {
        finish();
        resolve();
      }),
    );
    return c;
  };
  return {
    read(specs) {
      if (specs.length === 0 || ended) return Promise.resolve(specs.map(() => undefined));
      child ??= start();
      const c = child;
      return new Promise((done, fail) => {
        queue.push({ left: specs.length, objects: [], done, fail });
        c.stdin?.write(specs.map((s) => `${s}\n`).join(''));
      });
    },
    close() {
      ended = true;
      child?.stdin?.end();
      return closed;
    },
  };
}
