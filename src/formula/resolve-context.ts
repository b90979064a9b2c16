// One resolution run's shared state: the diagnostics it reports (deduplicated, with TOML lines
// filled in at the end), the files it parsed, and referenced formulas composed once each, with
// reference cycles reported. How one file is composed is injected (resolve-compose.ts), so the
// modules that compose parts of a formula can reach referenced ones without importing it back.
import { lineOfPath, tomlKeyLines } from './locate.js';
import type { Diagnostic, FormulaType, Severity } from './model.js';
import { type ParsedFile, parseFormulaSource } from './parse.js';
import type { Composed, FormulaLibrary, FormulaSource, Origin, ResolveOptions } from './resolve-types.js';

/** Composes one formula file, reporting into the context. */
export type ComposeFile = (r: ResolveContext, source: FormulaSource) => Composed | undefined;

export class ResolveContext {
  private readonly diags: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  private readonly parsed = new Map<string, ParsedFile>();
  private readonly memo = new Map<string, Composed | null>();
  private readonly stack: string[] = [];

  constructor(
    readonly lib: FormulaLibrary,
    readonly opts: ResolveOptions,
    private readonly composeFile: ComposeFile,
  ) {}

  report(severity: Severity, code: string, origin: Origin, message: string): void {
    const key = `${severity}\0${code}\0${origin.file}\0${origin.path}\0${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.diags.push({ severity, code, file: origin.file, path: origin.path, message });
  }
  error(code: string, origin: Origin, message: string): void {
    this.report('error', code, origin, message);
  }
  warn(code: string, origin: Origin, message: string): void {
    this.report('warning', code, origin, message);
  }

  errorCount(): number {
    let n = 0;
    for (const d of this.diags) if (d.severity === 'error') n++;
    return n;
  }

  /** All diagnostics with lines filled in from the TOML text where the parser gave none. */
  diagnostics(): Diagnostic[] {
    const lineMaps = new Map<string, Map<string, number>>();
    return this.diags.map((d) => {
      if (d.line !== undefined || d.path === '') return d;
      const pf = this.parsed.get(d.file);
      if (!pf?.isToml) return d;
      let lines = lineMaps.get(d.file);
      if (!lines) lineMaps.set(d.file, (lines = tomlKeyLines(pf.text)));
      const line = lineOfPath(lines, d.path);
      return line === undefined ? d : { ...d, line };
    });
  }

  /** The file parsed; its parse diagnostics are reported the first time. */
  load(source: FormulaSource): ParsedFile {
    const pf = parseFormulaSource(source);
    if (!this.parsed.has(source.file)) {
      this.parsed.set(source.file, pf);
      for (const d of pf.diagnostics) {
        const key = `${d.severity}\0${d.code}\0${d.file}\0${d.path}\0${d.message}`;
        if (!this.seen.has(key)) {
          this.seen.add(key);
          this.diags.push(d);
        }
      }
    }
    return pf;
  }

  /** One formula file composed, once per run. */
  compose(source: FormulaSource): Composed | undefined {
    const cached = this.memo.get(source.file);
    if (cached !== undefined) return cached ?? undefined;
    this.stack.push(source.file);
    try {
      const c = this.composeFile(this, source);
      this.memo.set(source.file, c ?? null);
      return c;
    } finally {
      this.stack.pop();
    }
  }

  /** A referenced formula, composed, of the wanted type; a problem is reported at `origin`. */
  composeRef(name: string, origin: Origin, what: string, type?: FormulaType): Composed | undefined {
    const src = this.find(name, origin, what);
    if (!src) return undefined;
    if (this.stack.includes(src.file)) {
      const names = this.stack.map((f) => this.memoName(f));
      const from = this.stack.indexOf(src.file);
      this.error(
        'formula.extends-cycle',
        origin,
        `formulas refer to each other in a cycle: ${[...names.slice(from), this.memoName(src.file)].join(' -> ')}`,
      );
      return undefined;
    }
    const c = this.compose(src);
    if (!c) {
      this.error('formula.ref-invalid', origin, `${what} "${name}" (${src.file}) has errors`);
      return undefined;
    }
    if (type && c.type !== type) {
      this.error(
        'formula.ref-type',
        origin,
        `${what} "${name}" is a ${c.type} formula, not ${type === 'aspect' ? 'an' : 'a'} ${type}`,
      );
      return undefined;
    }
    return c;
  }

  /** Looks a referenced formula up; reports a missing one at `origin`. */
  private find(name: string, origin: Origin, what: string): FormulaSource | undefined {
    const src = this.lib.find(name);
    if (!src)
      this.error('formula.not-found', origin, `${what} "${name}" not found in the formula search path`);
    return src;
  }

  private memoName(file: string): string {
    const pf = this.parsed.get(file);
    return pf?.raw?.formula ?? stem(file);
  }
}

/** A formula file's name without its folder and extension: the name it is found by. */
export function stem(file: string): string {
  const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  return base.replace(/\.formula\.(toml|json)$/, '').replace(/\.(toml|json)$/, '');
}
