// `gastown formula list|show|validate|cook`. Finding the repository walks up for `.beads` or `.git`
// instead of running git, so `formula validate` (a pre-commit path) starts in one Node process.
// Static imports stay light (no parser, schema or resolver): a warm `formula validate` answers
// from the content-keyed cache without loading them; the other commands import them lazily.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve, sep } from 'node:path';
import { openCache } from '../../formula/cache.js';
import type { CookOptions } from '../../formula/cook.js';
import {
  createFileLibrary,
  formulaSearchDirs,
  locateFormula,
  withSearchDirs,
} from '../../formula/library.js';
import type { Diagnostic, ResolvedFormula } from '../../formula/model.js';
import type { FormulaLibrary } from '../../formula/resolve.js';
import { validateFormulas } from '../../formula/validate.js';
import { builtinFormulasDir } from '../../paths.js';
import { commandCwd } from '../../scope.js';
import { stampWindow } from '../../store/cache.js';
import type { CliContext } from '../context.js';

const formulaEngine = () => import('../../formula/index.js');
const resolver = () => import('../../formula/resolve.js');

interface Env {
  root?: string;
  lib: FormulaLibrary;
  /** GASTOWN_FORMULA_PATH dirs, searched before the repository's. */
  extraDirs: string[];
}

/** The nearest enclosing directory with `.beads` or `.git`. */
export function findRepoRoot(start: string): string | undefined {
  let dir = resolve(commandCwd(), start);
  for (;;) {
    if (existsSync(join(dir, '.beads')) || existsSync(join(dir, '.git'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function environment(ctx: CliContext): Env {
  const root = findRepoRoot(ctx.cwd);
  const extraDirs = (ctx.env.GASTOWN_FORMULA_PATH ?? '')
    .split(delimiter)
    .filter((d) => d !== '')
    .map((d) => resolve(ctx.cwd, d));
  const lib = withSearchDirs(createFileLibrary(formulaSearchDirs(root)), extraDirs);
  return { ...(root ? { root } : {}), lib, extraDirs };
}

function display(ctx: CliContext, file: string): string {
  if (file === '' || !file.startsWith('/')) return file;
  const rel = relative(ctx.cwd, file);
  return rel.startsWith('..') || rel === '' ? file : rel;
}

function located(ctx: CliContext, d: Diagnostic): string {
  const where = d.line !== undefined ? `${display(ctx, d.file)}:${d.line}` : display(ctx, d.file);
  return [where, d.path, d.message].filter((p) => p !== '').join(': ');
}

function printDiagnostics(ctx: CliContext, diags: readonly Diagnostic[]): void {
  for (const d of diags) {
    if (d.severity === 'error') ctx.io.err(`${ctx.io.color.red('error')}: ${located(ctx, d)}`);
    else ctx.io.err(`${ctx.io.color.yellow('warning')}: ${located(ctx, d)}`);
  }
}

function jsonDiag(ctx: CliContext, d: Diagnostic): Record<string, unknown> {
  return {
    file: display(ctx, d.file),
    path: d.path,
    ...(d.line !== undefined ? { line: d.line } : {}),
    ...(d.column !== undefined ? { column: d.column } : {}),
    message: d.message,
    code: d.code,
  };
}

async function cookOptions(opts: {
  var?: string[];
  preset?: string;
  legs?: string;
  input?: string[];
}): Promise<CookOptions> {
  const { parseVarPairs } = await import('../../formula/vars.js');
  const o: CookOptions = {};
  if (opts.var) o.vars = parseVarPairs(opts.var, '--var');
  if (opts.preset !== undefined) o.preset = opts.preset;
  if (opts.legs !== undefined)
    o.legs = opts.legs
      .split(',')
      .map((l) => l.trim())
      .filter((l) => l !== '');
  if (opts.input) o.inputs = parseVarPairs(opts.input, '--input');
  return o;
}

function sourceKind(env: Env, file: string): string {
  const builtin = builtinFormulasDir();
  if (file.startsWith(builtin + sep)) return 'builtin';
  if (env.root && file.startsWith(join(env.root, '.beads', 'formulas') + sep)) return 'repo';
  return 'path';
}

export async function list(ctx: CliContext, opts: { json?: boolean }): Promise<number> {
  const env = environment(ctx);
  const { resolveSource } = await resolver();
  const rows = env.lib.list().map(({ name, file }) => {
    const src = locateFormula(file, env.lib).source;
    const r = src ? resolveSource(src, env.lib) : undefined;
    return {
      name,
      type: r?.formula?.type ?? 'invalid',
      version: r?.formula?.version ?? null,
      source: sourceKind(env, file),
      file: display(ctx, file),
      description: firstLine(r?.formula?.description ?? ''),
    };
  });
  if (opts.json) ctx.io.json(rows);
  else if (rows.length === 0) ctx.io.out('no formulas found');
  else {
    const w = Math.max(...rows.map((r) => r.name.length));
    for (const r of rows) {
      ctx.io.out(
        `${r.name.padEnd(w)}  ${r.type.padEnd(9)}  v${String(r.version ?? '-').padEnd(4)} ${r.source.padEnd(7)}  ${r.file}`,
      );
    }
  }
  return 0;
}

export async function show(
  ctx: CliContext,
  ref: string,
  opts: { var?: string[]; preset?: string; legs?: string; json?: boolean },
): Promise<number> {
  const env = environment(ctx);
  const { loadFormula, resolveFormula } = await formulaEngine();
  const cook = await cookOptions(opts);
  const cooking = cook.vars !== undefined || cook.preset !== undefined || cook.legs !== undefined;
  const result = cooking ? loadFormula(ref, env.lib, cook) : resolveFormula(ref, env.lib);
  return printFormula(ctx, result.formula, result.diagnostics, opts.json === true);
}

export async function cook(
  ctx: CliContext,
  ref: string,
  opts: { var?: string[]; input?: string[]; preset?: string; legs?: string; json?: boolean },
): Promise<number> {
  const env = environment(ctx);
  const { loadFormula } = await formulaEngine();
  const result = loadFormula(ref, env.lib, { vars: {}, ...(await cookOptions(opts)) });
  return printFormula(ctx, result.formula, result.diagnostics, opts.json === true);
}

function printFormula(
  ctx: CliContext,
  f: ResolvedFormula | undefined,
  diags: readonly Diagnostic[],
  json: boolean,
): number {
  if (!f) {
    printDiagnostics(ctx, diags);
    if (json)
      ctx.io.json({
        valid: false,
        errors: diags.filter((d) => d.severity === 'error').map((d) => jsonDiag(ctx, d)),
      });
    return 1;
  }
  if (json) {
    ctx.io.json({ ...f, source: display(ctx, f.source), warnings: f.warnings.map((d) => jsonDiag(ctx, d)) });
    return 0;
  }
  printDiagnostics(ctx, f.warnings);
  const out = ctx.io.out;
  const { bold, dim } = ctx.io.color;
  out(
    `${bold(f.formula)} (${f.type}${f.version !== undefined ? `, version ${f.version}` : ''})  ${dim(display(ctx, f.source))}`,
  );
  if (f.description) out(firstLine(f.description));
  const vars = Object.values(f.vars);
  if (vars.length > 0) {
    out('vars:');
    for (const v of vars) {
      const bits = [
        v.required ? 'required' : undefined,
        v.default !== undefined ? `default "${v.default}"` : undefined,
      ].filter(Boolean);
      out(
        `  ${v.name}${bits.length ? ` (${bits.join(', ')})` : ''}${v.description ? `  ${dim(v.description)}` : ''}`,
      );
    }
  }
  out(`steps (${f.steps.length}):`);
  for (const s of f.steps) {
    const notes = [
      s.gate ? `gate: ${s.gate.type}` : undefined,
      s.condition ? `if ${s.condition}` : undefined,
      s.loop ? `loop until ${s.loop.until} (max ${s.loop.max})` : undefined,
      s.parallel ? 'parallel' : undefined,
    ].filter(Boolean);
    out(
      `  ${s.id}  ${dim(s.title)}${s.needs.length ? `  <- ${s.needs.join(', ')}` : ''}${notes.length ? `  [${notes.join('; ')}]` : ''}`,
    );
  }
  const presets = Object.values(f.presets);
  if (presets.length > 0) {
    out('presets:');
    for (const p of presets) out(`  ${p.name}: ${p.legs.join(', ')}`);
  }
  return 0;
}

/** Expands folders to the formula files in them, sorted. */
function expandRefs(ctx: CliContext, refs: string[]): string[] {
  const out: string[] = [];
  for (const ref of refs) {
    const abs = resolve(ctx.cwd, ref);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      // Not a folder: a name or a file.
    }
    if (isDir) {
      for (const f of readdirSync(abs).sort()) if (/\.formula\.(toml|json)$/.test(f)) out.push(join(abs, f));
    } else out.push(ref);
  }
  return out;
}

export async function validate(ctx: CliContext, refs: string[], opts: { json?: boolean }): Promise<number> {
  const env = environment(ctx);
  const expanded = expandRefs(ctx, refs);
  const args = expanded.map((ref) =>
    ref.includes('/') || ref.includes('\\') || /\.(toml|json)$/.test(ref) ? resolve(ctx.cwd, ref) : ref,
  );
  const cache = openCache('formula', ctx.env, env.root, ctx.cwd);
  const results = (await validateFormulas(args, env.lib, { cache, stampWindowMs: stampWindow(ctx.env) })).map(
    (v, i) => {
      const errors = v.diagnostics.filter((d) => d.severity === 'error');
      return {
        file: v.found ? v.file : expanded[i]!,
        valid: errors.length === 0,
        errors,
        warnings: v.diagnostics.filter((d) => d.severity === 'warning'),
      };
    },
  );
  const invalid = results.filter((r) => !r.valid).length;
  if (opts.json) {
    ctx.io.json(
      results.map((r) => ({
        file: display(ctx, r.file),
        valid: r.valid,
        errors: r.errors.map((d) => jsonDiag(ctx, d)),
        warnings: r.warnings.map((d) => jsonDiag(ctx, d)),
      })),
    );
  } else {
    for (const r of results) {
      printDiagnostics(ctx, [...r.errors, ...r.warnings]);
      ctx.io.out(
        `${r.valid ? ctx.io.color.green('ok') : ctx.io.color.red('invalid')}  ${display(ctx, r.file)}`,
      );
    }
    if (results.length > 1) ctx.io.out(`${results.length - invalid} valid, ${invalid} invalid`);
  }
  return invalid > 0 ? 1 : 0;
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}
