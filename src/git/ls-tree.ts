// `git ls-tree -r` at a commit, kept for the life of the process by commit and path. A commit
// never changes, and a hook reads the same folders twice: the engine reads a molecule as of the
// trailer's commit (engine/atcommit.ts), and the engine commit that follows compares the working
// tree with HEAD, which in post-commit is that same commit (triggers/commit.ts). One process.
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
