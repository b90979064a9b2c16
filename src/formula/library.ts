// The file-system edge of the formula engine: the only module here that reads formula files.
// A library is an ordered list of directories; the first one that has a formula wins.
// Light on purpose (no parser, no schema): the cached `formula validate` path loads only this,
// cache.ts and validate.ts.
import { readdirSync, readFileSync, type Stats, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtinFormulasDir } from '../paths.js';
import { statStamp } from '../store/cache.js';
import { MAX_FORMULA_BYTES } from './limits.js';
import type { Diagnostic } from './model.js';
import type { FormulaLibrary, FormulaSource } from './resolve-types.js';

const SUFFIXES = ['.formula.toml', '.formula.json'];

/**
 * A formula file, stat first; the text is read on first use, so a caller that can vouch for it
 * by its stat (the validation cache, the parse memo) never reads it. Over the size limit, it is
 * never read at all.
 */
export function readFormulaFile(file: string): FormulaSource | undefined {
  let stats: Stats;
  try {
    stats = statSync(file);
    if (!stats.isFile()) return undefined;
  } catch {
    return undefined;
  }
  if (stats.size > MAX_FORMULA_BYTES) return { file, text: '', size: stats.size };
  let text: string | undefined;
  return {
    file,
    stats,
    get text() {
      text ??= readFileSync(file, 'utf8');
      return text;
    },
  };
}

/**
 * What says a source's file is unchanged since it was read: statStamp (device, inode, ctime)
 * and size; undefined when the source has no stat or was not read (over the size limit).
 */
export function sourceStamp(source: FormulaSource): string | undefined {
  const st = source.stats;
  return st && source.size === undefined ? `${statStamp(st)}:${st.size}` : undefined;
}

/** The `formula = "..."` name without a full parse (a first-line scan is enough to index a dir). */
function declaredName(text: string, json: boolean): string | undefined {
  const m = json
    ? /"formula"\s*:\s*"([^"\\]+)"/.exec(text)
    : /^\s*formula\s*=\s*["']([^"'\\]+)["']/m.exec(text);
  return m?.[1];
}

export function createFileLibrary(dirs: string[]): FormulaLibrary {
  const roots = dirs.map((d) => resolve(d));
  const listings = new Map<string, string[]>();
  const files = (dir: string): string[] => {
    let l = listings.get(dir);
    if (!l) {
      try {
        l = readdirSync(dir)
          .filter((f) => SUFFIXES.some((s) => f.endsWith(s)))
          .sort();
      } catch {
        l = [];
      }
      listings.set(dir, l);
    }
    return l;
  };
  let byDeclaredName: Map<string, string> | undefined;
  const declared = (): Map<string, string> => {
    if (byDeclaredName) return byDeclaredName;
    byDeclaredName = new Map();
    for (const dir of roots) {
      for (const f of files(dir)) {
        const src = readFormulaFile(join(dir, f));
        if (!src || src.size !== undefined) continue;
        const name = declaredName(src.text, f.endsWith('.json'));
        if (name && !byDeclaredName.has(name)) byDeclaredName.set(name, src.file);
      }
    }
    return byDeclaredName;
  };
  return {
    find(name) {
      if (
        name === '' ||
        name.includes('/') ||
        name.includes('\\') ||
        name.includes('..') ||
        name.includes('\0')
      )
        return undefined;
      for (const dir of roots) {
        const present = files(dir);
        for (const s of SUFFIXES) if (present.includes(name + s)) return readFormulaFile(join(dir, name + s));
      }
      const file = declared().get(name);
      return file ? readFormulaFile(file) : undefined;
    },
    list() {
      const seen = new Set<string>();
      const out: { name: string; file: string }[] = [];
      for (const dir of roots) {
        for (const f of files(dir)) {
          const file = join(dir, f);
          const src = readFormulaFile(file);
          const name =
            (src && src.size === undefined && declaredName(src.text, f.endsWith('.json'))) ||
            f.replace(/\.formula\.(toml|json)$/, '');
          if (seen.has(name)) continue;
          seen.add(name);
          out.push({ name, file });
        }
      }
      return out;
    },
  };
}

/** Wraps a library so that `extra` directories are searched first (a file's own folder, GASTOWN_FORMULA_PATH). */
export function withSearchDirs(lib: FormulaLibrary, extra: string[]): FormulaLibrary {
  if (extra.length === 0) return lib;
  const first = createFileLibrary(extra);
  return {
    find: (name) => first.find(name) ?? lib.find(name),
    list: () => {
      const seen = new Set<string>();
      return [...first.list(), ...lib.list()].filter((e) => !seen.has(e.name) && seen.add(e.name));
    },
  };
}

/** `[<root>/.beads/formulas, built-ins]`: a repo's formulas shadow the built-in ones by name. */
export function formulaSearchDirs(repoRoot: string | undefined): string[] {
  return repoRoot ? [join(repoRoot, '.beads', 'formulas'), builtinFormulasDir()] : [builtinFormulasDir()];
}

/** A reference given by a person is a path when it looks like one; otherwise it is a name. */
export function looksLikePath(ref: string): boolean {
  return ref.includes('/') || ref.includes('\\') || ref.startsWith('.') || /\.(toml|json)$/.test(ref);
}

function dirOf(file: string): string {
  const i = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return i <= 0 ? '.' : file.slice(0, i);
}

function notFound(ref: string, message: string): Diagnostic {
  return { severity: 'error', code: 'formula.not-found', file: ref, path: '', message };
}

/**
 * Finds `ref` (name or path). A path's own folder is searched first for the formulas it names.
 * `folderLibs` memoises the per-folder libraries when many paths in one folder are located.
 */
export function locateFormula(
  ref: string,
  lib: FormulaLibrary,
  folderLibs?: Map<string, FormulaLibrary>,
): { source?: FormulaSource; lib: FormulaLibrary; diagnostic?: Diagnostic } {
  if (looksLikePath(ref)) {
    const source = readFormulaFile(ref);
    if (!source) return { lib, diagnostic: notFound(ref, 'no such formula file') };
    const dir = dirOf(ref);
    let withDir = folderLibs?.get(dir);
    if (!withDir) {
      withDir = withSearchDirs(lib, [dir]);
      folderLibs?.set(dir, withDir);
    }
    return { source, lib: withDir };
  }
  if (ref === '' || ref.includes('\0')) return { lib, diagnostic: notFound(ref, 'not a formula name') };
  const source = lib.find(ref);
  if (!source)
    return { lib, diagnostic: notFound(ref, `formula "${ref}" not found in the formula search path`) };
  return { source, lib };
}
