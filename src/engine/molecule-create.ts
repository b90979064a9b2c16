// Creating a molecule (`molecule create`, `on_complete` spawns): validate, resolve and freeze the
// formula, then write the folder whole and reconcile it.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { GastownError, UsageError } from '../errors.js';
import { formulaHash } from '../formula/hash.js';
import type { ResolvedFormula } from '../formula/model.js';
import { reservedVarProblem } from '../formula/vars.js';
import {
  isUnreadableStateError,
  MAX_STATE_FILE_BYTES,
  readBoundedFile,
  tooLargeError,
  writeFileAtomic,
} from '../store/atomic.js';
import { FieldError } from '../store/check.js';
import { loadConfig } from '../store/config.js';
import { assertMoleculeId } from '../store/ids.js';
import {
  FORMULA_FILE,
  findRoot,
  MOLECULE_FILE,
  MOLECULE_KEY_ORDER,
  moleculesDir,
  TEMP_PREFIX,
} from '../store/layout.js';
import { checkBeadsPath } from '../store/links.js';
import { withLock } from '../store/lock.js';
import { parseToml, stringifyToml, type TomlTable } from '../store/toml.js';
import type { MoleculeMeta } from '../store/types.js';
import { frozenSourcePath, resolveFormula } from './formulas.js';
import { fileMoleculeStatus, moleculeExists, moleculeFolderProblem, moleculeRelDir } from './io.js';
import { reconcileMolecule } from './reconcile.js';
import type { Transition } from './types.js';

export interface CreateMoleculeOptions {
  formula: string;
  name: string;
  vars?: Record<string, string>;
  /** TOML file with `[inputs]`, `[scope]`, … tables and optionally `[vars]` (relative to `cwd` or root). */
  inputsFile?: string;
  convoy?: string;
  after?: string;
  assignee?: string;
  /** Who answers for the molecule (MOLECULE_DONE, BLOCKED mail); the CLI defaults it to the creator. */
  owner?: string;
  preset?: string;
  legs?: string[];
  now: Date;
  cwd?: string;
  lockWaitMs?: number;
  /** An already resolved formula (tests, embedders); skips loading the formula engine. */
  resolved?: ResolvedFormula;
  /** Keep vars the formula does not declare (`--force`); otherwise they are refused. */
  keepUnknownVars?: boolean;
}

export interface CreateMoleculeResult {
  id: string;
  /** Repo-relative folder. */
  dir: string;
  formula: string;
  transitions: Transition[];
  written: string[];
}

/**
 * An `--inputs` file: its `[vars]` act like `--var`, its `[inputs]` table holds the formula's
 * inputs, and everything else (`[scope]`, `[team_coordination]`, top-level keys) is context kept
 * for people and plugins.
 */
function readInputsFile(path: string): {
  vars: Record<string, string>;
  inputs: TomlTable;
  context: TomlTable;
} {
  let text: string;
  try {
    // Bounded: the file is copied into molecule.toml, which must stay readable as state.
    text = readBoundedFile(path, path);
  } catch (err) {
    if (isUnreadableStateError(err)) throw new UsageError(`inputs ${err.message}`, { file: path });
    throw new UsageError(`cannot read inputs file ${path}`);
  }
  const table = parseToml(text, path);
  const { vars, inputs, ...context } = table;
  const out: Record<string, string> = Object.create(null);
  if (vars !== undefined) {
    if (!isTable(vars)) throw new FieldError(path, 'vars', '`vars` must be a table');
    for (const [k, v] of Object.entries(vars)) {
      const reserved = reservedVarProblem(k);
      if (reserved) throw new FieldError(path, `vars.${k}`, reserved);
      if (typeof v !== 'string') throw new FieldError(path, `vars.${k}`, `\`vars.${k}\` must be a string`);
      out[k] = v;
    }
  }
  if (inputs !== undefined && !isTable(inputs))
    throw new FieldError(path, 'inputs', '`inputs` must be a table');
  return { vars: out, inputs: (inputs as TomlTable | undefined) ?? {}, context };
}

const isTable = (v: unknown): v is TomlTable =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

export async function createMolecule(
  rootOrCwd: string,
  opts: CreateMoleculeOptions,
): Promise<CreateMoleculeResult> {
  const root = findRoot(rootOrCwd);
  // Resolving the formula reads files only: done before taking the lock, so waiters wait less.
  const prepared = await prepareMolecule(root, opts);
  return withLock(root, opts.lockWaitMs, () => writeMolecule(root, prepared, opts.now));
}

/**
 * createMolecule for a caller that already holds the lock: a gate runner inside reconcile
 * (`on_complete` spawning molecules). The lock is not reentrant, so taking it here would wait
 * for ourselves.
 */
export async function createMoleculeLocked(
  root: string,
  opts: CreateMoleculeOptions,
): Promise<CreateMoleculeResult> {
  return writeMolecule(root, await prepareMolecule(root, opts), opts.now);
}

interface PreparedMolecule {
  id: string;
  /** The bytes of molecule.toml and formula.resolved.toml, checked against the size limit. */
  metaText: string;
  frozenText: string;
  formula: string;
}

/** Validates the options and resolves the formula; writes nothing. */
async function prepareMolecule(root: string, opts: CreateMoleculeOptions): Promise<PreparedMolecule> {
  const id = assertMoleculeId(opts.name, 'molecule name');
  if (opts.after !== undefined) {
    assertMoleculeId(opts.after, '--after molecule');
    if (opts.after === id) throw new UsageError('a molecule cannot wait for itself (--after)');
    if (!moleculeExists(root, opts.after))
      throw new GastownError(
        'molecule.unknown',
        `--after names molecule ${opts.after}, which does not exist`,
      );
  }
  if (opts.convoy !== undefined) assertMoleculeId(opts.convoy, 'convoy id');
  assertFreeName(root, id);
  const { fromFile, vars } = gatherVars(root, opts);
  // A formula's declared inputs may come from the inputs file's [inputs] table or from --var.
  const formulaInputs = { ...vars, ...fromFile.inputs };
  const formula =
    opts.resolved ??
    (await resolveFormula(root, {
      formula: opts.formula,
      vars,
      inputs: formulaInputs,
      ...(opts.preset !== undefined ? { preset: opts.preset } : {}),
      ...(opts.legs !== undefined ? { legs: opts.legs } : {}),
    }));
  // Nothing to run: an aspect (it applies to other formulas through `compose`) or an empty
  // formula would make a molecule that completes the moment it exists.
  if (formula.steps.length === 0)
    throw new UsageError(
      `formula ${formula.formula} has no steps to run${formula.type === 'aspect' ? ': an aspect applies to other formulas through `compose`; pour a formula that composes it' : ''}`,
    );
  if (!opts.keepUnknownVars) refuseUnknownVars(formula, fromFile.vars, opts.vars ?? {}, opts.inputsFile);
  // Defaults of vars the caller did not set are frozen too, so templates resolve the same forever.
  for (const [name, def] of Object.entries(formula.vars ?? {})) {
    if (vars[name] === undefined && def.default !== undefined) vars[name] = def.default;
  }
  return freezeMolecule(root, id, formula, vars, fromFile, opts);
}

interface InputsFile {
  vars: Record<string, string>;
  inputs: TomlTable;
  context: TomlTable;
}

/** The inputs file (if any) and the vars: the file's `[vars]` overridden by `--var`. */
function gatherVars(
  root: string,
  opts: CreateMoleculeOptions,
): { fromFile: InputsFile; vars: Record<string, string> } {
  let fromFile: InputsFile = {
    vars: {},
    inputs: {},
    context: {},
  };
  if (opts.inputsFile !== undefined) {
    const p = isAbsolute(opts.inputsFile) ? opts.inputsFile : resolve(opts.cwd ?? root, opts.inputsFile);
    fromFile = readInputsFile(p);
  }
  for (const name of Object.keys(opts.vars ?? {})) {
    const reserved = reservedVarProblem(name);
    if (reserved) throw new UsageError(`--var ${name}: ${reserved}`);
  }
  // No prototype: a var is only ever what was given or declared.
  const vars: Record<string, string> = Object.assign(Object.create(null), fromFile.vars, opts.vars);
  return { fromFile, vars };
}

/** The bytes of molecule.toml and the frozen formula, with repo-relative paths, within the size limit. */
function freezeMolecule(
  root: string,
  id: string,
  formula: ResolvedFormula,
  vars: Record<string, string>,
  fromFile: InputsFile,
  opts: CreateMoleculeOptions,
): PreparedMolecule {
  const meta: MoleculeMeta = {
    id,
    formula: formula.formula,
    formula_hash: formula.hash,
    vars,
    inputs: fromFile.inputs,
    ...(Object.keys(fromFile.context).length > 0 ? { context: fromFile.context } : {}),
    ...(formula.version !== undefined ? { formula_version: formula.version } : {}),
    ...(opts.convoy !== undefined ? { convoy: opts.convoy } : {}),
    ...(opts.after !== undefined ? { after: opts.after } : {}),
    ...(opts.assignee !== undefined ? { assignee: opts.assignee } : {}),
    ...(opts.owner !== undefined ? { owner: opts.owner } : {}),
    ...(opts.preset !== undefined ? { preset: opts.preset } : {}),
    ...(opts.legs !== undefined ? { legs: opts.legs } : {}),
  };
  // Frozen with repo-relative paths, and hashed as frozen: two clones (two engines spawning
  // the same molecule) must write byte-identical files, wherever they are checked out.
  const relative = {
    ...formula,
    source: frozenSourcePath(root, formula.source),
    ...(formula.warnings
      ? { warnings: formula.warnings.map((w) => ({ ...w, file: frozenSourcePath(root, w.file) })) }
      : {}),
  };
  relative.hash = formulaHash(relative);
  meta.formula_hash = relative.hash;
  const metaText = stringifyToml(meta as unknown as TomlTable, MOLECULE_KEY_ORDER);
  const frozenText = renderFrozenFormula(relative as unknown as TomlTable);
  // A file over the limit would make the new molecule unreadable: refuse before writing any.
  for (const [name, text] of [
    [MOLECULE_FILE, metaText],
    [FORMULA_FILE, frozenText],
  ] as const) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_STATE_FILE_BYTES) throw tooLargeError(`${moleculeRelDir(id)}/${name}`, bytes);
  }
  return { id, metaText, frozenText, formula: formula.formula };
}

/**
 * A var the formula declares neither as a var nor as an input is a typo or a stranger: it would
 * be stored in molecule.toml and substituted nowhere. Refused with the declared names.
 */
function refuseUnknownVars(
  formula: ResolvedFormula,
  fromFile: Record<string, string>,
  given: Record<string, string>,
  inputsFile: string | undefined,
): void {
  const declared = Object.keys(formula.vars ?? {});
  const inputs = Object.keys(formula.inputs ?? {});
  const known = new Set([...declared, ...inputs]);
  const unknown = [
    ...Object.keys(given).map((name) => ({ name, where: `--var ${name}` })),
    ...Object.keys(fromFile)
      .filter((name) => !Object.hasOwn(given, name))
      .map((name) => ({ name, where: `${inputsFile ?? 'inputs file'}: vars.${name}` })),
  ].filter((u) => !known.has(u.name));
  const first = unknown[0];
  if (!first) return;
  const names = (list: string[]) => (list.length > 0 ? list.join(', ') : 'none');
  const more =
    unknown.length > 1
      ? ` (also: ${unknown
          .slice(1)
          .map((u) => u.name)
          .join(', ')})`
      : '';
  throw new GastownError(
    'molecule.unknown-var',
    `${first.where}: formula ${formula.formula} declares no var "${first.name}"${more}; its vars: ${names(declared)}${inputs.length > 0 ? `; its inputs: ${names(inputs)}` : ''}. Fix the name, or pass --force to keep it`,
  );
}

/** Writes the folder whole (built aside, then renamed into place) and reconciles it. Lock held. */
async function writeMolecule(
  root: string,
  { id, metaText, frozenText, formula }: PreparedMolecule,
  now: Date,
): Promise<CreateMoleculeResult> {
  const target = checkBeadsPath(root, join(moleculesDir(root), id));
  assertFreeName(root, id);
  const staging = join(moleculesDir(root), `${TEMP_PREFIX}${process.pid}-${id}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileAtomic(join(staging, MOLECULE_FILE), metaText);
  writeFileAtomic(join(staging, FORMULA_FILE), frozenText);
  try {
    renameSync(staging, target);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (existsSync(target))
      throw new GastownError('molecule.exists', `molecule ${id} already exists (${moleculeRelDir(id)})`);
    throw err;
  }
  const config = loadConfig(root);
  const r = await reconcileMolecule(id, { root, now, config, moleculeStatus: fileMoleculeStatus(root) });
  const dir = moleculeRelDir(id);
  return {
    id,
    dir,
    formula,
    transitions: [
      { molecule: id, kind: 'created', summary: `molecule ${id} created from formula ${formula}` },
      ...r.transitions,
    ],
    written: [`${dir}/${MOLECULE_FILE}`, `${dir}/${FORMULA_FILE}`, ...r.written],
  };
}

/** Nothing is at the new molecule's name: not a folder, and not a link (never replaced or followed). */
function assertFreeName(root: string, id: string): void {
  if (!moleculeExists(root, id)) return;
  const odd = moleculeFolderProblem(root, id);
  if (odd !== undefined)
    throw new GastownError('molecule.exists', `molecule ${id} cannot be created: its folder is ${odd}`, {
      location: { file: moleculeRelDir(id) },
    });
  throw new GastownError('molecule.exists', `molecule ${id} already exists (${moleculeRelDir(id)})`);
}

const FORMULA_KEY_ORDER = ['formula', 'type', 'version', 'description', 'hash', 'source'];

/** The bytes of `formula.resolved.toml` for a resolved formula (repo-relative paths already). */
export function renderFrozenFormula(frozen: TomlTable): string {
  return stringifyToml(frozen, FORMULA_KEY_ORDER);
}
