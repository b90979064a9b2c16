// Validation of many formula files with a content-keyed result cache, for `formula validate`
// (a pre-commit path run over whole folders). A cached result is the file's diagnostics, keyed
// by the file's bytes and the code's fingerprint, and it records every formula name resolution
// looked up on the way (extends, compose, aspects, expand) with the file and bytes it found. The
// result is reused only if every one of those lookups still finds the same file with the same
// bytes; otherwise the file is resolved again. The bytes of a file are known without reading it
// while its stamp (device, inode, ctime, size) is the one recorded with their blob id, recorded
// only once the file had been left alone for the stamp window (src/store/cache.ts). A warm run
// therefore stats the files but reads none of them, and never loads the parser or the resolver
// (this module and its imports are light).
import { resolve } from 'node:path';
import { commandCwd } from '../scope.js';
import { STAMP_WINDOW_MS, stampIsSettled } from '../store/cache.js';
import { blobId, type ContentCache, moduleFingerprint, sha256 } from './cache.js';
import { locateFormula, sourceStamp } from './library.js';
import type { Diagnostic } from './model.js';
import type { FormulaLibrary, FormulaSource } from './resolve.js';

export interface FormulaValidation {
  /** The reference as given (a path or a name). */
  ref: string;
  /** The file that was validated, or `ref` when none was found. */
  file: string;
  /** False when `ref` named no file (the one diagnostic says so). */
  found: boolean;
  /** Errors and warnings, in the order the resolver reports them. */
  diagnostics: Diagnostic[];
  /** True when the diagnostics came from the cache (no parse, no resolution). */
  cached: boolean;
}

export interface ValidateOptions {
  /** Where results are kept (`openCache('formula', ...)`); none: every file is resolved. */
  cache?: ContentCache | undefined;
  /** How long a file must be left alone before its stamp may stand for its bytes (STAMP_WINDOW_MS). */
  stampWindowMs?: number | undefined;
}

/** A lookup the resolver made: formula name, the file it found (null: none) and its identity. */
type Dep = [name: string, file: string | null, id: string | null];

interface Entry {
  deps: Dep[];
  diagnostics: Diagnostic[];
}

/** The cache entry that maps each file (absolute path) to its stamp and blob id. */
const STAMPS_KEY = 'stamps';
/** A run over more files than this starts the stamp table over rather than grow it. */
const STAMPS_LIMIT = 4096;
type StampTable = Record<string, [stamp: string, id: string]>;

function readStamps(cache: ContentCache | undefined): StampTable {
  const v = cache?.read(STAMPS_KEY) as { stamps?: unknown } | undefined;
  const table = Object.create(null) as StampTable;
  if (!v || typeof v.stamps !== 'object' || v.stamps === null) return table;
  for (const [file, e] of Object.entries(v.stamps as Record<string, unknown>))
    if (Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string')
      table[file] = [e[0], e[1]];
  return table;
}

/**
 * What a source's diagnostics depend on: its bytes (as a blob id), or only its size when it is
 * over the limit. The id comes from the stamp table when the file's stamp matches, else from
 * the text; a settled stamp is then recorded.
 */
class Identities {
  private readonly memo = new Map<string, { stamp: string | undefined; text?: string; id: string }>();
  private readonly stamps: StampTable;
  private dirty = false;

  constructor(
    private readonly cache: ContentCache | undefined,
    private readonly runStartMs: number,
    private readonly windowMs: number,
  ) {
    this.stamps = readStamps(cache);
  }

  of(source: FormulaSource): string {
    if (source.size !== undefined) return `large:${source.size}`;
    const abs = resolve(commandCwd(), source.file);
    const st = source.stats;
    const stamp = sourceStamp(source);
    const known = this.memo.get(abs);
    // Without a stamp, the same file read twice in one run is compared by its text.
    if (known && known.stamp === stamp && (stamp !== undefined || known.text === source.text))
      return known.id;
    const recorded = stamp !== undefined ? this.stamps[abs] : undefined;
    let id: string;
    if (recorded && recorded[0] === stamp) id = recorded[1];
    else {
      id = blobId(source.text);
      if (st && stamp !== undefined && stampIsSettled(st, this.runStartMs, this.windowMs)) {
        this.stamps[abs] = [stamp, id];
        this.dirty = true;
      }
    }
    this.memo.set(abs, stamp !== undefined ? { stamp, id } : { stamp, text: source.text, id });
    return id;
  }

  /** Stores the stamp table when this run recorded something new. */
  save(): void {
    if (!this.dirty || !this.cache) return;
    let stamps = this.stamps;
    if (Object.keys(stamps).length > STAMPS_LIMIT) {
      stamps = Object.create(null) as StampTable;
      for (const file of this.memo.keys()) if (this.stamps[file]) stamps[file] = this.stamps[file];
    }
    this.cache.write(STAMPS_KEY, { stamps });
  }
}

/**
 * Validates each reference (a path, or a name looked up in `lib`) and returns its diagnostics.
 * Results are identical with and without a cache; only the time differs.
 */
export async function validateFormulas(
  refs: readonly string[],
  lib: FormulaLibrary,
  opts: ValidateOptions = {},
): Promise<FormulaValidation[]> {
  const runStartMs = Date.now();
  const fingerprint = opts.cache ? moduleFingerprint(import.meta.url) : undefined;
  const cache = fingerprint === undefined ? undefined : opts.cache;
  const folderLibs = new Map<string, FormulaLibrary>();
  const ids = new Identities(cache, runStartMs, opts.stampWindowMs ?? STAMP_WINDOW_MS);
  // One snapshot per run: a name looked up twice (a shared parent) is read once.
  const lookups = new Map<FormulaLibrary, Map<string, FormulaSource | undefined>>();
  const find = (l: FormulaLibrary, name: string): FormulaSource | undefined => {
    let seen = lookups.get(l);
    if (!seen) lookups.set(l, (seen = new Map()));
    if (seen.has(name)) return seen.get(name);
    const src = l.find(name);
    seen.set(name, src);
    return src;
  };
  let resolver: typeof import('./resolve.js') | undefined;

  const results: FormulaValidation[] = [];
  for (const ref of refs) {
    const found = locateFormula(ref, lib, folderLibs);
    const source = found.source;
    if (!source) {
      results.push({ ref, file: ref, found: false, diagnostics: [found.diagnostic!], cached: false });
      continue;
    }
    const key = cache
      ? sha256('validate', fingerprint!, resolve(commandCwd(), source.file), source.file, ids.of(source))
      : undefined;
    if (cache && key) {
      const hit = stillValid(asEntry(cache.read(key)), (name) => find(found.lib, name), ids);
      if (hit) {
        results.push({ ref, file: source.file, found: true, diagnostics: hit, cached: true });
        continue;
      }
    }
    resolver ??= await import('./resolve.js');
    const deps = new Map<string, FormulaSource | undefined>();
    const recording: FormulaLibrary = {
      find(name) {
        const src = find(found.lib, name);
        if (!deps.has(name)) deps.set(name, src);
        return src;
      },
      list: () => found.lib.list(),
    };
    const { diagnostics } = resolver.resolveSource(source, recording);
    if (cache && key) {
      const entry: Entry = {
        deps: [...deps].map(([name, src]) => (src ? [name, src.file, ids.of(src)] : [name, null, null])),
        diagnostics,
      };
      cache.write(key, entry);
    }
    results.push({ ref, file: source.file, found: true, diagnostics, cached: false });
  }
  ids.save();
  return results;
}

/** The entry's diagnostics if every lookup it recorded still finds the same file with the same bytes. */
function stillValid(
  entry: Entry | undefined,
  find: (name: string) => FormulaSource | undefined,
  ids: Identities,
): Diagnostic[] | undefined {
  if (!entry) return undefined;
  for (const [name, file, id] of entry.deps) {
    const now = find(name);
    if (now ? now.file !== file || ids.of(now) !== id : file !== null) return undefined;
  }
  return entry.diagnostics;
}

/** The entry if it has the shape this code writes; anything else counts as a miss. */
function asEntry(v: unknown): Entry | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const { deps, diagnostics } = v as Partial<Entry>;
  if (!Array.isArray(deps) || !Array.isArray(diagnostics)) return undefined;
  for (const d of deps) {
    if (!Array.isArray(d) || d.length !== 3 || typeof d[0] !== 'string') return undefined;
    if (!((d[1] === null && d[2] === null) || (typeof d[1] === 'string' && typeof d[2] === 'string')))
      return undefined;
  }
  for (const d of diagnostics) if (!isDiagnostic(d)) return undefined;
  return { deps, diagnostics };
}

function isDiagnostic(d: unknown): d is Diagnostic {
  if (!d || typeof d !== 'object') return false;
  const x = d as Record<string, unknown>;
  return (
    (x.severity === 'error' || x.severity === 'warning') &&
    typeof x.code === 'string' &&
    typeof x.file === 'string' &&
    typeof x.path === 'string' &&
    typeof x.message === 'string' &&
    (x.line === undefined || typeof x.line === 'number') &&
    (x.column === undefined || typeof x.column === 'number')
  );
}
