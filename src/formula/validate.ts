// Validation of many formula files with a content-keyed result cache, for `formula validate`
// (a pre-commit path run over whole folders). A cached result is the file's diagnostics, keyed
// by the file's bytes and the code's fingerprint, and it records every formula name resolution
// looked up on the way (extends, compose, aspects, expand) with the file and bytes it found. The
// result is reused only if every one of those lookups still finds the same file with the same
// bytes; otherwise the file is resolved again. The bytes of a file are known without reading it
// while its stamp (device, inode, ctime, size) is the one recorded with their identity, recorded
// only once the file had been left alone for the stamp window (src/store/cache.ts). A warm run
// therefore stats the files but reads none of them, and never loads the parser or the resolver
// (this module and its imports are light).
import { resolve } from 'node:path';
import { blobId } from '../git/blob-id.js';
import { commandCwd } from '../scope.js';
import { STAMP_WINDOW_MS, stampIsSettled } from '../store/cache.js';
import { type ContentCache, moduleFingerprint } from './cache.js';
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

/**
 * The one cache entry a run reads and writes: every file's stamp and blob id (by absolute path)
 * and every result (by key). One file, not one per result: on a cold run over the corpus, 53
 * small writes (create, write, rename each) were ~15% of the run's time.
 */
const PACK_KEY = 'validate';
/** A pack with more results or stamps than this keeps only what the current run used. */
const PACK_LIMIT = 4096;
type StampTable = Record<string, [stamp: string, id: string]>;
/**
 * The text each settled file had when its identity was recorded, by absolute path: read only
 * when a file's stamp no longer matches (touched, checked out again), to tell whether its bytes
 * are still those of the recorded identity. Its own entry, so a warm run never reads it.
 */
const TEXTS_KEY = 'validate-texts';
type TextTable = Record<string, [id: string, text: string]>;

class Pack {
  private readonly stamps = Object.create(null) as StampTable;
  private readonly results = Object.create(null) as Record<string, unknown>;
  private readonly used = new Set<string>();
  private dirty = false;
  private texts: TextTable | undefined;
  private textsDirty = false;

  constructor(private readonly cache: ContentCache | undefined) {
    const v = cache?.read(PACK_KEY) as { stamps?: unknown; results?: unknown } | undefined;
    if (!v || typeof v !== 'object') return;
    if (typeof v.stamps === 'object' && v.stamps !== null)
      for (const [file, e] of Object.entries(v.stamps as Record<string, unknown>))
        if (Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string')
          this.stamps[file] = [e[0], e[1]];
    if (typeof v.results === 'object' && v.results !== null && !Array.isArray(v.results))
      for (const [key, e] of Object.entries(v.results as Record<string, unknown>)) this.results[key] = e;
  }

  stamp(file: string): [stamp: string, id: string] | undefined {
    this.used.add(file);
    return this.stamps[file];
  }

  result(key: string): unknown {
    this.used.add(key);
    return this.results[key];
  }

  setResult(key: string, entry: Entry): void {
    this.used.add(key);
    this.results[key] = entry;
    this.dirty = true;
  }

  setStamp(file: string, stamp: string, id: string): void {
    this.used.add(file);
    this.stamps[file] = [stamp, id];
    this.dirty = true;
  }

  /** The identity and text recorded for `file` with its last stamp (the texts entry is read on first need). */
  kept(file: string): [id: string, text: string] | undefined {
    this.used.add(file);
    this.texts ??= readTexts(this.cache);
    return this.texts[file];
  }

  keep(file: string, id: string, text: string): void {
    this.used.add(file);
    this.texts ??= readTexts(this.cache);
    this.texts[file] = [id, text];
    this.textsDirty = true;
  }

  /** Stores the pack (and the texts) when this run recorded something new. */
  save(): void {
    if (!this.cache) return;
    if (this.dirty)
      this.cache.write(PACK_KEY, { stamps: this.trimmed(this.stamps), results: this.trimmed(this.results) });
    if (this.textsDirty && this.texts) this.cache.write(TEXTS_KEY, this.trimmed(this.texts));
  }

  private trimmed<T>(table: Record<string, T>): Record<string, T> {
    if (Object.keys(table).length <= PACK_LIMIT) return table;
    const kept = Object.create(null) as Record<string, T>;
    for (const k of this.used) if (k in table) kept[k] = table[k]!;
    return kept;
  }
}

function readTexts(cache: ContentCache | undefined): TextTable {
  const table = Object.create(null) as TextTable;
  const v = cache?.read(TEXTS_KEY);
  if (v && typeof v === 'object' && !Array.isArray(v))
    for (const [file, e] of Object.entries(v as Record<string, unknown>))
      if (Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string')
        table[file] = [e[0], e[1]];
  return table;
}

/**
 * What a source's diagnostics depend on: its bytes, or only its size when it is over the limit.
 * The identity comes from the stamp table when the file's stamp matches; else it is the one
 * recorded with the file's kept text when the text is the same; else, for a settled file, its
 * new stamp (which stands for these bytes from now on), and for a file changed within the stamp
 * window, its blob id; the text is kept beside the identity either way. So a cold run over
 * settled files hashes nothing (and never loads node:crypto), and a touched file with the same
 * bytes keeps its id.
 */
class Identities {
  private readonly memo = new Map<string, { stamp: string | undefined; text?: string; id: string }>();

  constructor(
    private readonly pack: Pack,
    private readonly runStartMs: number,
    private readonly windowMs: number,
  ) {}

  of(source: FormulaSource): string {
    if (source.size !== undefined) return `large:${source.size}`;
    const abs = resolve(commandCwd(), source.file);
    const st = source.stats;
    const stamp = sourceStamp(source);
    const known = this.memo.get(abs);
    // Without a stamp, the same file read twice in one run is compared by its text.
    if (known && known.stamp === stamp && (stamp !== undefined || known.text === source.text))
      return known.id;
    const recorded = stamp !== undefined ? this.pack.stamp(abs) : undefined;
    let id: string;
    if (recorded && recorded[0] === stamp) id = recorded[1];
    else {
      const text = source.text;
      const kept = this.pack.kept(abs);
      const settled =
        st !== undefined && stamp !== undefined && stampIsSettled(st, this.runStartMs, this.windowMs);
      if (kept && kept[1] === text) id = kept[0];
      else id = settled ? `stamp ${stamp}` : blobId(text);
      if (settled) this.pack.setStamp(abs, stamp, id);
      // Kept for a file within the window too: once settled, it keeps the id its results have.
      if (kept?.[0] !== id) this.pack.keep(abs, id, text);
    }
    this.memo.set(abs, stamp !== undefined ? { stamp, id } : { stamp, text: source.text, id });
    return id;
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
  const pack = new Pack(cache);
  const ids = new Identities(pack, runStartMs, opts.stampWindowMs ?? STAMP_WINDOW_MS);
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
    // The parts themselves, not a digest of them: a warm run then hashes nothing.
    const key = cache
      ? ['validate', fingerprint!, resolve(commandCwd(), source.file), source.file, ids.of(source)].join('\0')
      : undefined;
    if (cache && key) {
      const hit = stillValid(asEntry(pack.result(key)), (name) => find(found.lib, name), ids);
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
      pack.setResult(key, entry);
    }
    results.push({ ref, file: source.file, found: true, diagnostics, cached: false });
  }
  pack.save();
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
