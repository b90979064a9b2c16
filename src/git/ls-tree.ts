// `git ls-tree -r` at a commit, kept for the life of the process by commit and path. A commit
// never changes, and a hook reads the same folders twice: the engine reads a molecule as of the
// trailer's commit (engine/atcommit.ts), and the engine commit that follows compares the working
// tree with HEAD, which in post-commit is that same commit (triggers/commit.ts). One process.
import { SUBMODULE_MODE, sharedCatFile, TREE_MODE, treeEntries } from './cat-file.js';
import { git } from './exec.js';

export interface TreeEntry {
  mode: string;
  type: string;
  id: string;
}

/** Listings kept, by root, commit and path; cleared whole past this many (a long `watch`). */
const KEEP = 512;
const kept = new Map<string, Map<string, TreeEntry>>();
const FULL_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * Every entry of `commit` under each of `paths` (a folder ends with `/`; any other path is one
 * file), by repository path, from one `git ls-tree -r` for the paths not read before. Undefined
 * when git cannot list them (no such commit). Kept only for a full commit id, never a ref.
 */
export async function listTree(
  root: string,
  commit: string,
  paths: readonly string[],
): Promise<Map<string, TreeEntry> | undefined> {
  const keep = FULL_ID.test(commit);
  const key = (p: string) => `${root}\0${commit}\0${p}`;
  const out = new Map<string, TreeEntry>();
  const ask = keep ? paths.filter((p) => !kept.has(key(p))) : [...paths];
  if (ask.length > 0) {
    // Folders of a commit named by id come from the run's shared cat-file, which the engine
    // commit's tree is read through next: one git process for both.
    const per =
      keep && ask.every((p) => p.endsWith('/'))
        ? await foldersAt(root, commit, ask)
        : await lsTree(root, commit, ask);
    if (!per) return undefined;
    if (keep && kept.size + ask.length > KEEP) kept.clear();
    for (const [p, entries] of per) {
      if (keep) kept.set(key(p), entries);
      for (const [path, e] of entries) out.set(path, e);
    }
  }
  if (keep)
    for (const p of paths) {
      if (ask.includes(p)) continue;
      for (const [path, e] of kept.get(key(p)) ?? []) out.set(path, e);
    }
  return out;
}

/** `git ls-tree -r` of `paths` at `commit`, by path asked; undefined when git cannot list them. */
async function lsTree(
  root: string,
  commit: string,
  ask: readonly string[],
): Promise<Map<string, Map<string, TreeEntry>> | undefined> {
  const r = await git(['ls-tree', '-r', '-z', commit, '--', ...ask], { cwd: root, allowFailure: true });
  if (r.exitCode !== 0) return undefined;
  const per = new Map(ask.map((p) => [p, new Map<string, TreeEntry>()]));
  for (const line of r.stdout.split('\0')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const [mode = '', type = '', id = ''] = line.slice(0, tab).split(' ');
    const path = line.slice(tab + 1);
    const under = ask.find((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
    if (under !== undefined) per.get(under)?.set(path, { mode, type, id });
  }
  return per;
}

/**
 * What `lsTree` gives for folders (`<path>/`) of a commit named by its id, in the same order (a
 * folder's entries in tree order, each subfolder's in its place), read as tree objects through
 * the shared cat-file: one round per level of folders. Undefined when there is no such commit
 * or git stopped.
 */
async function foldersAt(
  root: string,
  commit: string,
  folders: readonly string[],
): Promise<Map<string, Map<string, TreeEntry>> | undefined> {
  const cat = sharedCatFile(root);
  /** Each tree read, by its path with a trailing `/`; entries in the tree's order. */
  const read = new Map<string, { name: string; mode: string; id: string }[]>();
  let round: { path: string; spec: string }[] = folders.map((f) => ({
    path: f,
    spec: `${commit}:${f.slice(0, -1)}`,
  }));
  try {
    const [top] = await cat.readAll([commit]);
    if (top?.type !== 'commit') return undefined;
    while (round.length > 0) {
      const objects = await cat.readAll(round.map((r) => r.spec));
      const next: typeof round = [];
      round.forEach(({ path }, i) => {
        const o = objects[i];
        // No such folder at the commit (or a file there): nothing under it, as ls-tree lists.
        if (o?.type !== 'tree') return;
        const entries = treeEntries(o.bytes, o.id.length / 2);
        read.set(path, entries);
        for (const e of entries)
          if (e.mode === TREE_MODE) next.push({ path: `${path}${e.name}/`, spec: e.id });
      });
      round = next;
    }
  } catch {
    return undefined;
  }
  const flatten = (path: string, out: Map<string, TreeEntry>) => {
    for (const e of read.get(path) ?? []) {
      if (e.mode === TREE_MODE) flatten(`${path}${e.name}/`, out);
      else
        out.set(`${path}${e.name}`, {
          mode: e.mode,
          type: e.mode === SUBMODULE_MODE ? 'commit' : 'blob',
          id: e.id,
        });
    }
    return out;
  };
  return new Map(folders.map((f) => [f, flatten(f, new Map())]));
}
