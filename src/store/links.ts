// Nothing under `.beads/` is followed as a link for a write or a delete. An agent with write
// access to the working tree can replace any folder there with a symbolic link (to /outside, to
// another molecule); every path gastown writes, renames or removes under `.beads/` is checked
// here first, one lstat per existing component from `.beads` down.
import { lstatSync, mkdirSync, type Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { GastownError } from '../errors.js';
import { fileKind, writeFileAtomic } from './atomic.js';
import { BEADS, CACHE_DIR, cacheDir, MOLECULES } from './layout.js';

export function linkMessage(kind: string): string {
  return `${kind}: gastown never writes or deletes through a link or special file under ${BEADS}/ (replace it with a real folder, or remove it)`;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Returns `abs` (a path under `<root>/.beads`) after checking that no existing component from
 * `.beads` down to its parent folder (and `abs` itself with `self`, for a folder about to be
 * removed or written into) is a symbolic link or anything but a folder. Components that do not
 * exist yet are fine: mkdir creates real folders. Throws `store.link` naming the component.
 */
export function checkBeadsPath(root: string, abs: string, opts: { self?: boolean } = {}): string {
  const base = `${root}${sep}${BEADS}`;
  if (abs !== base && !abs.startsWith(base + sep))
    throw new GastownError('store.outside', `refusing to write outside ${BEADS}/: ${abs}`);
  const parts = abs.slice(root.length + 1).split(sep);
  const last = opts.self ? parts.length : parts.length - 1;
  let at = root;
  for (let i = 0; i < last; i++) {
    at += sep + parts[i];
    const st = lstatOrUndefined(at);
    if (st === undefined) return abs;
    if (!st.isDirectory()) {
      const rel = parts.slice(0, i + 1).join('/');
      throw new GastownError('store.link', linkMessage(describe(st)), {
        location: { file: rel },
      });
    }
  }
  return abs;
}

function describe(st: Stats): string {
  return st.isFile() ? 'a file, not a folder' : fileKind(st);
}

/**
 * `.beads`, `.beads/molecules` and `.beads/.cache` when one is not a real folder (a symbolic
 * link, a file): every command that writes refuses to run (acquireLock), and doctor reports it.
 */
export function beadsTreeProblems(root: string): { file: string; message: string }[] {
  const out: { file: string; message: string }[] = [];
  for (const rel of [BEADS, `${BEADS}/${MOLECULES}`, `${BEADS}/${CACHE_DIR}`]) {
    const st = lstatOrUndefined(`${root}${sep}${rel.split('/').join(sep)}`);
    if (st === undefined || st.isDirectory()) continue;
    out.push({ file: rel, message: linkMessage(describe(st)) });
    if (rel === BEADS) break;
  }
  return out;
}

/** Throws the first of beadsTreeProblems, naming the file. */
export function assertBeadsTree(root: string): void {
  const first = beadsTreeProblems(root)[0];
  if (first)
    throw new GastownError('store.link', first.message, {
      location: { file: first.file },
    });
}

/**
 * Creates `.beads/.cache/` with a `.gitignore` of `*` inside, so the cache is never committed
 * even in a repository where `gastown init` did not add it to `.beads/.gitignore`.
 */
export function ensureCacheDir(root: string): string {
  const dir = cacheDir(root);
  const ignore = join(dir, '.gitignore');
  checkBeadsPath(root, ignore);
  // lstat, not exists: a dangling link there is replaced, never written through.
  if (lstatOrUndefined(ignore)?.isFile() !== true) {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(ignore, '# Derived data, safe to delete: never committed.\n*\n', { durable: false });
  }
  return dir;
}
