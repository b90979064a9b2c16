// Validation of many formula files with a content-keyed result cache, for `formula validate`
// (a pre-commit path run over whole folders). A cached result is the file's diagnostics, keyed
// by the file's bytes and the code's fingerprint, and it records every formula name resolution
// looked up on the way (extends, compose, aspects, expand) with the file and bytes it found. The
// result is reused only if every one of those lookups still finds the same file with the same
// bytes; otherwise the file is resolved again. A warm run therefore reads and hashes the files
// but never loads the parser or the resolver (this module and its imports are light).
import { resolve } from 'node:path';
import { commandCwd } from '../scope.js';
import { blobId, type ContentCache, moduleFingerprint, sha256 } from './cache.js';
import { locateFormula } from './library.js';
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
}

/** A lookup the resolver made: formula name, the file it found (null: none) and its identity. */
type Dep = [name: string, file: string | null, id: string | null];

interface Entry {
  deps: Dep[];
  diagnostics: Diagnostic[];
}

/** What a source's diagnostics depend on: its bytes, or only its size when it is over the limit. */
function identity(source: FormulaSource, ids: Map<string, { text: string; id: string }>): string {
  if (source.size !== undefined) return `large:${source.size}`;
  const known = ids.get(source.file);
  if (known && known.text === source.text) return known.id;
  const id = blobId(source.text);
  ids.set(source.file, { text: source.text, id });
  return id;
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
  const fingerprint = opts.cache ? moduleFingerprint(import.meta.url) : undefined;
  const cache = fingerprint === undefined ? undefined : opts.cache;
  const folderLibs = new Map<string, FormulaLibrary>();
  const ids = new Map<string, { text: string; id: string }>();
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
      ? sha256(
          'validate',
          fingerprint!,
          resolve(commandCwd(), source.file),
          source.file,
          identity(source, ids),
        )
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
        deps: [...deps].map(([name, src]) =>
          src ? [name, src.file, identity(src, ids)] : [name, null, null],
        ),
        diagnostics,
      };
      cache.write(key, entry);
    }
    results.push({ ref, file: source.file, found: true, diagnostics, cached: false });
  }
  return results;
}

/** The entry's diagnostics if every lookup it recorded still finds the same file with the same bytes. */
function stillValid(
  entry: Entry | undefined,
  find: (name: string) => FormulaSource | undefined,
  ids: Map<string, { text: string; id: string }>,
): Diagnostic[] | undefined {
  if (!entry) return undefined;
  for (const [name, file, id] of entry.deps) {
    const now = find(name);
    if (now ? now.file !== file || identity(now, ids) !== id : file !== null) return undefined;
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
