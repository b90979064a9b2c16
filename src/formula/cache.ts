// A content-keyed cache of derived formula data (DESIGN principle 1): entries are named by a
// hash of what they were derived from (file bytes, the code that derived them), never by mtime,
// so a stale entry is simply never looked up again and the whole folder can be deleted at any
// time. Every failure here (unreadable, corrupt, read-only) degrades to "no cache": the cache
// can make a command faster, never make it fail or change its result.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashHex } from '../hash.js';
import { commandCwd } from '../scope.js';
import { beadsTreeProblems } from '../store/links.js';

/** Bump when the layout or meaning of entries changes. */
export const CACHE_FORMAT = 1;

// Through src/hash.ts, which loads node:crypto on first use: the readers load this chunk for the
// formula helpers it shares (substituteVars) and hash nothing on a warm run.

export function sha256(...parts: string[]): string {
  return hashHex('sha256', `${parts.join('\0')}\0`);
}

const fingerprints = new Map<string, string>();

/** A bundle chunk's file name: rolldown's hash of its content before `.cjs` (scripts/build.mjs). */
const CHUNK_NAME = /-[A-Za-z0-9_-]{8}\.cjs$/;

/**
 * A fingerprint of the code file that holds `moduleUrl`, so entries derived by one build are
 * never read by another. In the bundle the file's name is its content hash, and its content
 * names (by content hash) every chunk it imports, the lazily imported resolver and parser
 * included, so any change to them changes it too; its size and mtime stand for an edit in place.
 * The name saves reading and hashing the chunk on a warm run (and loading node:crypto). Outside
 * the bundle (tests run src/), the file's text is hashed.
 */
export function moduleFingerprint(moduleUrl: string): string | undefined {
  let fp = fingerprints.get(moduleUrl);
  if (fp === undefined) {
    try {
      const file = fileURLToPath(moduleUrl);
      if (CHUNK_NAME.test(file)) {
        const st = statSync(file);
        fp = `format ${CACHE_FORMAT} ${basename(file)} ${st.size} ${st.mtimeMs}`;
      } else fp = sha256(`format ${CACHE_FORMAT}`, readFileSync(file, 'utf8'));
    } catch {
      return undefined; // Not a file we can read: run without a cache.
    }
    fingerprints.set(moduleUrl, fp);
  }
  return fp;
}

/**
 * Where gastown keeps derived data, or undefined when caching is off (`GASTOWN_NO_CACHE=1`).
 * `GASTOWN_CACHE_DIR` wins; then `<repo>/.beads/.cache` (gitignored by `gastown init`) when the
 * repository has `.beads/` and neither it nor the cache folder is a link; then `$XDG_CACHE_HOME/gastown`, then `~/.cache/gastown`.
 */
export function cacheRoot(
  env: Record<string, string | undefined>,
  repoRoot?: string,
  cwd = commandCwd(),
): string | undefined {
  const off = env.GASTOWN_NO_CACHE;
  if (off !== undefined && off !== '' && off !== '0') return undefined;
  if (env.GASTOWN_CACHE_DIR) return resolve(cwd, env.GASTOWN_CACHE_DIR);
  // Never into a linked .beads/ or .beads/.cache/ (written through, it would land anywhere).
  if (repoRoot && existsSync(join(repoRoot, '.beads')) && beadsTreeProblems(repoRoot).length === 0)
    return join(repoRoot, '.beads', '.cache');
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'gastown');
  const home = env.HOME || homedir();
  return home ? join(home, '.cache', 'gastown') : undefined;
}

/** Temp names: the pid tells processes apart, the count writes within one (no random bytes to draw). */
let writes = 0;

/** One folder of JSON entries named by key. Reads and writes never throw. */
export class ContentCache {
  private writable = true;
  private made = false;

  constructor(readonly dir: string) {}

  /** The stored value, or undefined when absent, unreadable or not JSON. */
  read(key: string): unknown {
    let text: string;
    try {
      text = readFileSync(join(this.dir, `${key}.json`), 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined; // Corrupt (a crash mid-copy, a hand edit): recomputed and rewritten.
    }
  }

  /** Stores `value` atomically (temp file + rename); gives up quietly when the folder is not writable. */
  write(key: string, value: unknown): void {
    if (!this.writable) return;
    const file = join(this.dir, `${key}.json`);
    const tmp = `${file}.${process.pid}.${++writes}.tmp`;
    try {
      if (!this.made) {
        mkdirSync(this.dir, { recursive: true });
        this.made = true;
      }
      writeFileSync(tmp, JSON.stringify(value));
      renameSync(tmp, file);
    } catch {
      this.writable = false;
      try {
        rmSync(tmp, { force: true });
      } catch {
        // Nothing was written.
      }
    }
  }
}

/** The cache folder for one kind of entry under `cacheRoot`, or undefined when caching is off. */
export function openCache(
  kind: string,
  env: Record<string, string | undefined>,
  repoRoot?: string,
  cwd?: string,
): ContentCache | undefined {
  const root = cacheRoot(env, repoRoot, cwd);
  return root === undefined ? undefined : new ContentCache(join(root, kind));
}
