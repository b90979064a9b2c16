// The tree of an engine commit, built without an index: the trees along the changed paths are
// read with one `git cat-file --batch`, and the new blobs and trees are written as loose objects
// from here. A private index cost a `read-tree` of the whole of HEAD and a write of an index
// of every file in the repository (tens of thousands under .beads/), then an `update-index` and
// a `write-tree`: four processes, where this starts one (docs/decisions.md).
import { createHash } from 'node:crypto';
import {
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { GastownError } from '../errors.js';
import type { HashAlgorithm } from './blob-id.js';
import { closeSharedCatFiles, rawTreeEntries, sharedCatFile, TREE_MODE } from './cat-file.js';
import { SYMLINK_MODE } from './modes.js';

interface Entry {
  mode: string;
  name: string;
  /** Raw object id bytes. */
  id: Buffer;
  /** The entry's bytes as read from its tree, copied as they are when the tree is written again. */
  raw?: Buffer;
}

/** Git's tree order key: the name's bytes, a tree's as if it ended with `/`. */
function sortKey(e: Entry): Buffer {
  return Buffer.from(e.mode === TREE_MODE ? `${e.name}/` : e.name, 'utf8');
}

/**
 * `list` (in git's tree order) with the entry named `name` replaced by `entry`, or removed when
 * `entry` is undefined. Only the new entry's place is searched for: the folder of a thousand
 * molecules is neither sorted again nor written entry by entry.
 */
function withEntry(list: Entry[], name: string, entry: Entry | undefined): Entry[] {
  const at = list.findIndex((e) => e.name === name);
  if (at >= 0) list.splice(at, 1);
  if (!entry) return list;
  const key = sortKey(entry);
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Buffer.compare(sortKey(list[mid] as Entry), key) < 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, entry);
  return list;
}

/** A tree object's bytes, from entries already in git's tree order. */
function serializeTree(entries: readonly Entry[]): Buffer {
  return Buffer.concat(
    entries.flatMap((e) => (e.raw ? [e.raw] : [Buffer.from(`${e.mode} ${e.name}\0`, 'utf8'), e.id])),
  );
}

/**
 * Writes a loose object unless it is there already; returns its id. Written to a temporary
 * file beside it and linked into place, as git does: a reader sees the whole object or none.
 */
export function writeObject(
  objectsDir: string,
  type: string,
  body: Buffer,
  algorithm: HashAlgorithm,
): Buffer {
  const header = Buffer.from(`${type} ${body.length}\0`, 'latin1');
  const id = createHash(algorithm).update(header).update(body).digest();
  const hex = id.toString('hex');
  const dir = join(objectsDir, hex.slice(0, 2));
  const file = join(dir, hex.slice(2));
  try {
    lstatSync(file);
    return id;
  } catch {
    /* not there yet */
  }
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `tmp_obj_gastown_${process.pid}_${hex.slice(2, 10)}`);
  const fd = openSync(tmp, 'w', 0o444);
  try {
    // Level 1, git's own default for loose objects (core.looseCompression): any level reads back.
    writeSync(fd, deflateSync(Buffer.concat([header, body]), { level: 1 }));
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return id;
}

/** The folders of `paths`, each with every folder above it, `''` being the top. */
function foldersOf(paths: readonly string[]): string[] {
  const out = new Set<string>(['']);
  for (const p of paths)
    for (let cut = p.indexOf('/'); cut >= 0; cut = p.indexOf('/', cut + 1)) out.add(p.slice(0, cut));
  return [...out];
}

/**
 * A folder of the new tree: its tree object's bytes as read, and its entries once something
 * needs them. A folder of ten thousand molecules whose only change is one molecule's new tree id
 * is never parsed: that id is written over the old one in the bytes (withChildTree).
 */
interface Folder {
  raw: Buffer;
  /** The id the folder has in the base tree (hex); undefined for a folder the commit adds. */
  was?: string;
  entries?: Entry[];
}

/**
 * Each folder of `tree` named, from one `git cat-file --batch` (`<tree>:<folder>`); a folder not
 * in the tree is empty.
 */
async function readFolders(
  root: string,
  tree: string,
  folders: readonly string[],
): Promise<Map<string, Folder>> {
  // Through the run's shared cat-file, which the view of the trailer's commit may have started.
  const objects = await sharedCatFile(root).readAll(folders.map((f) => (f === '' ? tree : `${tree}:${f}`)));
  const trees = new Map<string, Folder>();
  folders.forEach((folder, i) => {
    if (i >= objects.length)
      throw new GastownError('git.failed', `git cat-file stopped before ${folder || 'the top tree'}`);
    const o = objects[i];
    if (!o)
      trees.set(folder, { raw: Buffer.alloc(0), entries: [] }); // `<name> missing`: a folder the commit adds
    else if (o.type !== 'tree')
      throw new GastownError(
        'git.failed',
        `cannot commit under ${folder}: it is a ${o.type} in HEAD, not a folder`,
      );
    else trees.set(folder, { raw: o.bytes, was: o.id });
  });
  return trees;
}

/**
 * `raw` (a tree object's bytes) with its entry for the folder `name`, whose id is `was`, pointing
 * at `id` instead, found by the entry's whole bytes (mode, name, old id) without reading the
 * others. Undefined when those bytes are not there exactly once (a sibling whose name ends the
 * same way and whose tree is the same: the caller then parses the folder).
 */
function withChildTree(raw: Buffer, name: string, was: string, id: Buffer): Buffer | undefined {
  const head = Buffer.from(`${TREE_MODE} ${name}\0`, 'utf8');
  const entry = Buffer.concat([head, Buffer.from(was, 'hex')]);
  const at = raw.indexOf(entry);
  if (at < 0 || raw.indexOf(entry, at + 1) >= 0) return undefined;
  const idAt = at + head.length;
  return Buffer.concat([raw.subarray(0, idAt), id, raw.subarray(idAt + id.length)]);
}

/** The blob entry for a working-tree file, written as an object; undefined when it is gone. */
function blobOf(root: string, path: string, objectsDir: string, algorithm: HashAlgorithm): Entry | undefined {
  const full = join(root, path);
  let st: Stats;
  try {
    st = lstatSync(full);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    throw err;
  }
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (st.isSymbolicLink())
    return {
      mode: SYMLINK_MODE,
      name,
      id: writeObject(objectsDir, 'blob', Buffer.from(readlinkSync(full)), algorithm),
    };
  if (!st.isFile()) throw new GastownError('git.failed', `cannot commit ${path}: it is not a regular file`);
  const mode = st.mode & 0o111 ? '100755' : '100644';
  return { mode, name, id: writeObject(objectsDir, 'blob', readFileSync(full), algorithm) };
}

/** A path's entry in the new tree, as `git update-index --index-info` takes it; mode `0`: removed. */
export interface FileEntry {
  path: string;
  mode: string;
  id: string;
}

/**
 * The id of `base` (a tree id; undefined for none) with each of `paths` as it is in the working
 * tree under `root` (a missing file is removed, and a folder left empty with it), and each path's
 * new entry. The blobs and trees are written to `objectsDir` as loose objects. Files are taken
 * byte for byte, as the engine wrote them: no clean filter or end-of-line conversion applies.
 */
export async function treeWithFiles(opts: {
  root: string;
  objectsDir: string;
  base: string | undefined;
  paths: readonly string[];
  algorithm: HashAlgorithm;
}): Promise<{ tree: string; files: FileEntry[] }> {
  const { root, objectsDir, algorithm } = opts;
  const idBytes = algorithm === 'sha256' ? 32 : 20;
  for (const p of opts.paths)
    if (
      p === '' ||
      p.includes('\n') ||
      p.startsWith('/') ||
      p.split('/').some((s) => s === '' || s === '.' || s === '..')
    )
      throw new GastownError('git.failed', `cannot commit ${JSON.stringify(p)}: not a plain repository path`);
  const folders = foldersOf(opts.paths);
  const trees: Map<string, Folder> = opts.base
    ? await readFolders(root, opts.base, folders)
    : new Map(folders.map((f) => [f, { raw: Buffer.alloc(0), entries: [] }]));
  // The last read of a run (its engine commit): the shared cat-file is done.
  await closeSharedCatFiles();
  const entriesOf = (folder: string): Entry[] => {
    let f = trees.get(folder);
    if (!f) trees.set(folder, (f = { raw: Buffer.alloc(0), entries: [] }));
    f.entries ??= rawTreeEntries(f.raw, idBytes);
    return f.entries;
  };
  const put = (folder: string, name: string, entry: Entry | undefined) => {
    const f = trees.get(folder);
    const child = trees.get(folder === '' ? name : `${folder}/${name}`);
    if (f && !f.entries && entry?.mode === TREE_MODE && child?.was) {
      const raw = withChildTree(f.raw, name, child.was, entry.id);
      if (raw) {
        f.raw = raw;
        return;
      }
    }
    withEntry(entriesOf(folder), name, entry);
  };
  const files: FileEntry[] = [];
  const zero = '0'.repeat(idBytes * 2);
  for (const p of opts.paths) {
    const cut = p.lastIndexOf('/');
    const folder = cut < 0 ? '' : p.slice(0, cut);
    const existing = entriesOf(folder).find((e) => e.name === p.slice(cut + 1));
    if (existing?.mode === TREE_MODE)
      throw new GastownError('git.failed', `cannot commit ${p}: it is a folder in HEAD`);
    const blob = blobOf(root, p, objectsDir, algorithm);
    put(folder, p.slice(cut + 1), blob);
    files.push(
      blob ? { path: p, mode: blob.mode, id: blob.id.toString('hex') } : { path: p, mode: '0', id: zero },
    );
  }
  // Deepest first, so each folder's own tree is written before its parent's.
  const depth = (f: string) => (f === '' ? 0 : f.split('/').length);
  const order = folders.sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : 1));
  let top: Buffer | undefined;
  for (const folder of order) {
    const f = trees.get(folder);
    const bytes = f?.entries ? serializeTree(f.entries) : (f?.raw ?? Buffer.alloc(0));
    const cut = folder.lastIndexOf('/');
    const parent = cut < 0 ? '' : folder.slice(0, cut);
    const name = folder.slice(cut + 1);
    if (folder === '') {
      top = writeObject(objectsDir, 'tree', bytes, algorithm);
      continue;
    }
    // Git keeps no empty folder: a folder left empty goes from its parent.
    const id = bytes.length > 0 ? writeObject(objectsDir, 'tree', bytes, algorithm) : undefined;
    put(parent, name, id ? { mode: TREE_MODE, name, id } : undefined);
  }
  return { tree: (top as Buffer).toString('hex'), files };
}
