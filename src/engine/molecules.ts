// Operations on molecules that people and agents start: create, record a step transition,
// status, list, squash, burn. Each takes the lock for its writes and reconciles afterwards.
import { existsSync, mkdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ExitCode, GastownError, UsageError } from '../errors.js';
import { formulaHash } from '../formula/hash.js';
import type { MoleculeGate, ResolvedFormula } from '../formula/model.js';
import { reservedVarProblem } from '../formula/vars.js';
import {
  createFileExclusive,
  isUnreadableStateError,
  MAX_STATE_FILE_BYTES,
  readBoundedFile,
  readSmallFile,
  tooLargeError,
  writeFileAtomic,
} from '../store/atomic.js';
import { FieldError } from '../store/check.js';
import { loadConfig } from '../store/config.js';
import { assertMoleculeId, assertPathSegment } from '../store/ids.js';
import {
  DIGEST_FILE,
  EVENTS,
  FORMULA_FILE,
  findRoot,
  MOLECULE_FILE,
  moleculesDir,
  outputPath,
  TEMP_PREFIX,
} from '../store/layout.js';
import { checkBeadsPath } from '../store/links.js';
import { withLock } from '../store/lock.js';
import { parseToml, stringifyToml, type TomlTable } from '../store/toml.js';
import type { GastownConfig, MoleculeMeta } from '../store/types.js';
import { applyEffects, type Problem } from './apply.js';
import { frozenSourcePath, resolveFormula } from './formulas.js';
import {
  fileMoleculeStatus,
  isMoleculeCompleted,
  listMoleculeIds,
  moleculeExists,
  moleculeFolderProblem,
  moleculeRelDir,
  readMoleculeFiles,
} from './io.js';
import { reopenEffects, stepTransition } from './plan.js';
import {
  foldFiles,
  planState,
  type ReconcileOutcome,
  reconcileMolecule,
  stateProblems,
} from './reconcile.js';
import { MOVABLE } from './summaries.js';
import type {
  Effect,
  MoleculeState,
  MoleculeStatus,
  PlanResult,
  StepState,
  Transition,
  TransitionEffect,
} from './types.js';
import { judgeMolecule } from './verdict.js';
import { lookAtMolecules } from './views.js';

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

  let fromFile: { vars: Record<string, string>; inputs: TomlTable; context: TomlTable } = {
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

const MOLECULE_KEY_ORDER = [
  'id',
  'formula',
  'formula_version',
  'formula_hash',
  'convoy',
  'after',
  'assignee',
  'owner',
  'preset',
  'legs',
];
const FORMULA_KEY_ORDER = ['formula', 'type', 'version', 'description', 'hash', 'source'];

/** The bytes of `formula.resolved.toml` for a resolved formula (repo-relative paths already). */
export function renderFrozenFormula(frozen: TomlTable): string {
  return stringifyToml(frozen, FORMULA_KEY_ORDER);
}

export type StepAction = 'start' | 'done' | 'fail' | 'reopen';

export interface RecordStepOptions {
  /** Agent or person recording it (`--as`). */
  as?: string;
  reason?: string;
  /** File whose content becomes the step's output (`outputs/<step>.md`). */
  output?: string;
  /** Commit that carried the trailer. */
  commit?: string;
  /**
   * Refuse to start or finish a step assigned to someone other than `as` (a person or agent
   * acting by name; a commit trailer records whoever committed), unless `reassign`.
   */
  checkAssignee?: boolean;
  /** Take over a step assigned to someone else; the fact records `reassigned_from`. */
  reassign?: boolean;
  now: Date;
  cwd?: string;
  lockWaitMs?: number;
}

/** Loads, folds and plans one molecule, throwing when its files are unusable. */
export async function loadMolecule(
  root: string,
  id: string,
  config: GastownConfig,
  now: Date,
): Promise<{ state: MoleculeState; plan: PlanResult }> {
  assertMoleculeId(id);
  if (!moleculeExists(root, id))
    throw new GastownError('molecule.unknown', `no molecule ${id} (looked in ${moleculeRelDir(id)})`);
  return planLoaded(root, id, readMoleculeFiles(root, id), config, now);
}

/** Folds and plans files the caller holds (read from disk, or a dry run's simulated state). */
async function planLoaded(
  root: string,
  id: string,
  files: Map<string, string>,
  config: GastownConfig,
  now: Date,
): Promise<{ state: MoleculeState; plan: PlanResult }> {
  const state = foldFiles(id, files);
  const plan = await planState(state, { root, config, now, moleculeStatus: fileMoleculeStatus(root) });
  return { state, plan };
}

function throwIfUnusable(state: MoleculeState): void {
  const first = state.errors[0];
  if (first) {
    throw new GastownError('store.invalid', first.message, {
      location: { file: first.file, ...(first.path ? { path: first.path } : {}) },
    });
  }
  const conflict = state.conflicts[0];
  if (conflict) {
    const files = state.conflicts.map((c) => c.file).join(', ');
    throw new GastownError(
      'molecule.conflict',
      `molecule ${state.id} has conflicting state (${conflict.message}); resolve by hand: ${files}`,
      {
        location: { file: conflict.file },
      },
    );
  }
}

/** Why a pending step is not ready: the needs that are not done, or the molecule's block. */
export function waitingOn(state: MoleculeState, plan: PlanResult, stepId: string): string {
  if (plan.status === 'blocked' && plan.blockedReason)
    return `the molecule is blocked: ${plan.blockedReason}`;
  const step = state.formula?.steps.find((s) => s.id === stepId);
  const open = (step?.needs ?? [])
    .map((n) => state.stepById.get(n))
    .filter((s): s is StepState => s !== undefined && s.status !== 'done' && s.status !== 'skipped')
    .map((s) => `${s.id} (${s.status})`);
  if (open.length > 0) return `it waits on ${open.join(', ')}`;
  const notes = plan.notes[stepId];
  if (notes?.length) return `it waits on its gate: ${notes.join('; ')}`;
  return 'it is not ready yet (run `gastown advance`)';
}

/**
 * The effects that record `action` on `stepId`, or an error saying why it cannot be recorded.
 * Recording what is already recorded returns no effects (a no-op, never a rewrite).
 */
export function stepActionEffects(
  state: MoleculeState,
  plan: PlanResult,
  stepId: string,
  action: StepAction,
  opts: {
    as?: string;
    reason?: string;
    commit?: string;
    output?: string;
    checkAssignee?: boolean;
    reassign?: boolean;
  },
): Effect[] {
  throwIfUnusable(state);
  const formula = state.formula as ResolvedFormula;
  const s = state.stepById.get(stepId);
  if (!s) {
    // A malformed name is a usage error; a well-formed one the molecule lacks is a problem found.
    assertPathSegment(stepId, 'step id');
    throw new GastownError(
      'step.unknown',
      `molecule ${state.id} has no step ${JSON.stringify(stepId)} (steps: ${formula.steps.map((x) => x.id).join(', ')})`,
    );
  }
  if (plan.status === 'completed' || plan.status === 'cancelled') {
    if (action === 'done' && s.status === 'done') return [];
    throw new GastownError(
      'step.state',
      `molecule ${state.id} is ${plan.status}; step ${stepId} cannot be changed`,
    );
  }
  const by = opts.as;
  const label = `${stepId}`;
  // A fact that cannot stand stops the molecule; re-opening is one way out of it.
  const unbacked = plan.status === 'invalid' ? plan.problems?.[0] : undefined;
  if (unbacked && action !== 'reopen')
    throw new GastownError('molecule.invalid', `molecule ${state.id} is invalid: ${unbacked.message}`, {
      location: { file: unbacked.file },
    });
  if (action === 'reopen') {
    const effects = reopenEffects(state, formula, stepId, {
      ...(opts.reason ? { reason: opts.reason } : {}),
      ...(by ? { by } : {}),
    });
    if (effects.length === 0)
      throw new GastownError(
        'step.state',
        `step ${stepId} is ${s.status} with nothing recorded in attempt ${s.attempt}; nothing to re-open`,
      );
    return effects;
  }
  const readyLike = s.status === 'ready' || s.status === 'in_progress';
  if (
    s.status === 'pending' &&
    !plan.effects.some((e) => e.type === 'transition' && e.fact.step === stepId && e.fact.kind === 'ready')
  ) {
    throw new GastownError(
      'step.not-ready',
      `step ${stepId} of ${state.id} is not ready: ${waitingOn(state, plan, stepId)}`,
    );
  }
  const taken = takeOver(state, plan, s, action, opts);
  if (action === 'start') {
    if (s.status === 'in_progress') {
      if (by === undefined || s.facts.started?.by === by) return [];
      throw new GastownError(
        'step.state',
        `step ${stepId} is already in progress (started by ${s.facts.started?.by ?? 'someone'})`,
      );
    }
    if (!readyLike && s.status !== 'pending')
      throw new GastownError('step.state', `step ${stepId} is already ${s.status} (attempt ${s.attempt})`);
    // Without an actor `by` stays unset: the assignee is who should do it, not who did.
    const who = by;
    return [
      stepTransition(state.id, stepId, s.attempt, 'started', `${label} started${who ? ` by ${who}` : ''}`, {
        by: who,
        commit: opts.commit,
        ...taken,
      }),
    ];
  }
  const kind = action === 'done' ? 'done' : 'failed';
  if (s.status === kind) return [];
  if (!readyLike && s.status !== 'pending')
    throw new GastownError('step.state', `step ${stepId} is already ${s.status} (attempt ${s.attempt})`);
  // Who claimed it, when that was recorded; never guessed from the assignee.
  const who = by ?? s.facts.started?.by;
  const why = opts.reason ? `: ${opts.reason}` : '';
  return [
    stepTransition(state.id, stepId, s.attempt, kind, `${label} ${kind}${who ? ` by ${who}` : ''}${why}`, {
      by: who,
      reason: opts.reason,
      commit: opts.commit,
      output: opts.output,
      ...taken,
    }),
  ];
}

/**
 * A step assigned to someone else is not theirs to start (or to finish without starting): refused
 * unless `reassign`, which the fact records as `reassigned_from`. Nothing to check when nobody is
 * named on either side, or the step is past ready (in progress: its claimant decides then).
 */
function takeOver(
  state: MoleculeState,
  plan: PlanResult,
  s: StepState,
  action: StepAction,
  opts: { as?: string; checkAssignee?: boolean; reassign?: boolean },
): { extra?: Record<string, string> } {
  if (!opts.checkAssignee || opts.as === undefined || action === 'reopen') return {};
  if (s.status !== 'ready' && s.status !== 'pending') return {};
  const planned = plan.effects.find(
    (e): e is TransitionEffect => e.type === 'transition' && e.fact.step === s.id && e.fact.kind === 'ready',
  );
  const assignee = s.facts.ready?.assignee ?? planned?.fact.assignee;
  const bare = (n: string) => n.replace(/^@/, '');
  if (assignee === undefined || bare(assignee) === bare(opts.as)) return {};
  if (!opts.reassign)
    throw new GastownError(
      'step.assigned',
      `step ${s.id} of ${state.id} is assigned to ${assignee}, not ${opts.as}; nothing was recorded. To take it over, run it again with --reassign (the fact records reassigned_from = "${assignee}")`,
    );
  return { extra: { reassigned_from: assignee } };
}

/**
 * Who did the current attempt of a step, as recorded: its `started` fact's `by`, else its `done`
 * fact's. Undefined when nobody was named. Reads only.
 */
export function stepActor(rootOrCwd: string, molecule: string, step: string): string | undefined {
  const root = findRoot(rootOrCwd);
  assertMoleculeId(molecule);
  if (!moleculeExists(root, molecule))
    throw new GastownError(
      'molecule.unknown',
      `no molecule ${molecule} (looked in ${moleculeRelDir(molecule)})`,
    );
  const state = foldFiles(molecule, readMoleculeFiles(root, molecule));
  const s = state.stepById.get(step);
  if (!s && state.formula) {
    assertPathSegment(step, 'step id');
    throw new GastownError(
      'step.unknown',
      `molecule ${molecule} has no step ${JSON.stringify(step)} (steps: ${state.formula.steps.map((x) => x.id).join(', ')})`,
    );
  }
  return s?.facts.started?.by ?? s?.facts.done?.by;
}

/** Records a transition on one step, then reconciles the molecule. Returns what changed. */
export async function recordStep(
  rootOrCwd: string,
  molecule: string,
  step: string,
  action: StepAction,
  opts: RecordStepOptions,
): Promise<Transition[]> {
  const root = findRoot(rootOrCwd);
  assertMoleculeId(molecule);
  return withLock(root, opts.lockWaitMs, async () => {
    const config = loadConfig(root);
    const r = await recordStepLocked(root, molecule, step, action, opts, config);
    // Whoever waits for this molecule (`--after`, a molecule gate) moves on in the same command.
    if (r.transitions.some((t) => t.molecule === molecule && t.kind === 'completed'))
      r.transitions.push(...(await reconcileWaiting(root, [molecule], { now: opts.now, config })));
    return r.transitions;
  });
}

/** True when molecule `waiter` waits for `other`: `after = other`, or a molecule gate naming it. */
export function waitsFor(state: MoleculeState, other: string): boolean {
  if (state.meta?.after === other) return true;
  return (state.formula?.steps ?? []).some(
    (s) => s.gate?.type === 'molecule' && (s.gate as MoleculeGate).molecule === other,
  );
}

/**
 * Reconciles the molecules that wait for any of `completed` (lock held), and, when that
 * completes them too, the ones waiting for those: a chain settles in one command.
 */
export async function reconcileWaiting(
  root: string,
  completed: string[],
  ctx: { now: Date; config: GastownConfig },
): Promise<Transition[]> {
  const out: Transition[] = [];
  const queue = [...completed];
  const visited = new Set(queue);
  const moleculeStatus = fileMoleculeStatus(root);
  while (queue.length > 0) {
    const other = queue.shift() as string;
    for (const id of listMoleculeIds(root)) {
      if (visited.has(id) || isMoleculeCompleted(root, id)) continue;
      const dir = join(moleculesDir(root), id);
      // Cheap filter before folding: the id must appear in the metadata or the frozen formula.
      const mentions = [MOLECULE_FILE, FORMULA_FILE].some((f) => {
        try {
          return readSmallFile(join(dir, f)).includes(other);
        } catch {
          return false;
        }
      });
      if (!mentions) continue;
      const files = readMoleculeFiles(root, id);
      if (!waitsFor(foldFiles(id, files), other)) continue;
      const r = await reconcileMolecule(
        id,
        { root, now: ctx.now, config: ctx.config, moleculeStatus },
        files,
      );
      out.push(...r.transitions);
      if (r.plan.status === 'completed') {
        visited.add(id);
        queue.push(id);
      }
    }
  }
  return out;
}

export interface CancelResult {
  id: string;
  /** False when it was cancelled already (nothing written). */
  cancelled: boolean;
  written: string[];
  transitions: Transition[];
}

/**
 * Records `events/molecule.cancelled.toml` (who and why). The planner never advances a cancelled
 * molecule again; a completed one cannot be cancelled. Cancelling twice is a no-op.
 */
export async function cancelMolecule(
  rootOrCwd: string,
  id: string,
  opts: { now: Date; reason?: string; as?: string; lockWaitMs?: number },
): Promise<CancelResult> {
  const root = findRoot(rootOrCwd);
  assertMoleculeId(id);
  return withLock(root, opts.lockWaitMs, async () => {
    const config = loadConfig(root);
    const { state, plan } = await loadMolecule(root, id, config, opts.now);
    if (state.errors.length > 0) throwIfUnusable(state);
    if (state.facts.cancelled) return { id, cancelled: false, written: [], transitions: [] };
    if (plan.status === 'completed')
      throw new GastownError('molecule.state', `molecule ${id} is completed; there is nothing to cancel`);
    const why = opts.reason ? `: ${opts.reason}` : '';
    const applied = await applyEffects(
      [
        {
          type: 'transition',
          molecule: id,
          fact: {
            kind: 'cancelled',
            extra: {},
            ...(opts.as !== undefined ? { by: opts.as } : {}),
            ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
          },
          summary: `molecule ${id} cancelled${opts.as ? ` by ${opts.as}` : ''}${why}`,
        },
      ],
      { root, now: opts.now, config },
    );
    const problem = applied.problems[0];
    if (problem)
      throw new GastownError('molecule.conflict', problem.message, {
        location: problem.file ? { file: problem.file } : {},
      });
    return { id, cancelled: true, written: applied.written, transitions: applied.transitions };
  });
}

/**
 * recordStep for a caller that already holds the lock (advance applying trailers). With
 * `dryRun`, nothing is written: the effects and the reconcile after them run on the molecule's
 * files in memory (`files`, when the caller simulated earlier steps already), and `files`
 * returned holds the outcome, so a dry run reports what a real one would do.
 */
export async function recordStepLocked(
  root: string,
  molecule: string,
  step: string,
  action: StepAction,
  opts: RecordStepOptions & { dryRun?: boolean; files?: Map<string, string> },
  config: GastownConfig,
): Promise<{
  transitions: Transition[];
  written: string[];
  problems: Problem[];
  files: Map<string, string>;
  status: MoleculeStatus;
  /** The molecule reconciled to its fixpoint after the fact was recorded. */
  outcome: ReconcileOutcome;
}> {
  if (!opts.files) {
    assertMoleculeId(molecule);
    if (!moleculeExists(root, molecule))
      throw new GastownError(
        'molecule.unknown',
        `no molecule ${molecule} (looked in ${moleculeRelDir(molecule)})`,
      );
  }
  const files = opts.files ?? readMoleculeFiles(root, molecule);
  const outcome = await reconcileMolecule(
    molecule,
    { root, now: opts.now, config, dryRun: opts.dryRun === true, moleculeStatus: fileMoleculeStatus(root) },
    files,
    { facts: (state, plan) => stepFacts(root, state, plan, step, action, opts) },
  );
  return {
    transitions: outcome.transitions,
    written: outcome.written,
    problems: outcome.problems,
    files,
    status: outcome.plan.status,
    outcome,
  };
}

/** The facts that record `action` on `step` (and the output file it names), or why not. */
function stepFacts(
  root: string,
  state: MoleculeState,
  plan: PlanResult,
  step: string,
  action: StepAction,
  opts: RecordStepOptions,
): Effect[] {
  const planned = stepActionEffects(state, plan, step, action, {
    as: opts.as,
    reason: opts.reason,
    commit: opts.commit,
    checkAssignee: opts.checkAssignee === true,
    reassign: opts.reassign === true,
  });
  if (planned.length === 0 || opts.output === undefined || action !== 'done') return planned;
  const src = isAbsolute(opts.output) ? opts.output : resolve(opts.cwd ?? root, opts.output);
  let content: string;
  try {
    content = readBoundedFile(src, opts.output);
  } catch (err) {
    if (isUnreadableStateError(err)) throw new UsageError(`output ${err.message}`, { file: opts.output });
    throw new UsageError(`cannot read output file ${opts.output}`);
  }
  const attempt = state.stepById.get(step)?.attempt ?? 1;
  const outputRel = outputPath(step, attempt);
  const existing = state.files.get(outputRel);
  if (existing !== undefined && existing !== content) {
    throw new GastownError(
      'step.output',
      `${moleculeRelDir(state.id)}/${outputRel} already exists with other content; not overwritten`,
    );
  }
  for (const e of planned) if (e.type === 'transition') e.fact.output = outputRel;
  return [{ type: 'write', molecule: state.id, path: outputRel, content }, ...planned];
}

export interface StepStatusJson {
  id: string;
  title: string;
  state: StepState['status'];
  attempt: number;
  assignee?: string;
  needs: string[];
  gate?: string;
  notes?: string[];
}

export interface StatusJson {
  id: string;
  formula: string;
  formula_version?: string | number;
  state: MoleculeStatus;
  blocked_reason?: string;
  progress: { done: number; total: number };
  steps: StepStatusJson[];
  /** Steps ready to start (recorded, or that the next reconcile will record). */
  ready: string[];
  /** Steps in progress. */
  current: string[];
  convoy?: string;
  after?: string;
  assignee?: string;
  vars: Record<string, string>;
  conflicts: { file: string; message: string }[];
  problems: { file?: string; path?: string; message: string }[];
  /** Effects a reconcile would apply now (0 when up to date). */
  pending_effects: number;
  /** Set when the molecule was cancelled (`molecule cancel`). */
  cancelled?: { by?: string; reason?: string };
}

export function statusOf(state: MoleculeState, plan: PlanResult): StatusJson {
  const willBeReady = new Set(
    plan.effects.flatMap((e) =>
      e.type === 'transition' && e.fact.kind === 'ready' && e.fact.step ? [e.fact.step] : [],
    ),
  );
  const steps: StepStatusJson[] = (state.formula?.steps ?? []).map((step) => {
    const s = state.stepById.get(step.id) as StepState;
    const status = s.status === 'pending' && willBeReady.has(step.id) ? 'ready' : s.status;
    const out: StepStatusJson = {
      id: step.id,
      title: step.title,
      state: status,
      attempt: s.attempt,
      needs: step.needs,
    };
    const assignee =
      s.assignee ??
      (
        plan.effects.find(
          (e) => e.type === 'transition' && e.fact.step === step.id && e.fact.kind === 'ready',
        ) as { fact?: { assignee?: string } } | undefined
      )?.fact?.assignee;
    if (assignee !== undefined) out.assignee = assignee;
    if (step.gate) out.gate = step.gate.type;
    const notes = plan.notes[step.id];
    if (notes?.length) out.notes = notes;
    return out;
  });
  const meta = state.meta;
  const json: StatusJson = {
    id: state.id,
    formula: meta?.formula ?? state.formula?.formula ?? '',
    state: plan.status,
    progress: {
      done: steps.filter((s) => s.state === 'done' || s.state === 'skipped').length,
      total: steps.length,
    },
    steps,
    // Nothing can be worked on in a molecule that is invalid, in conflict or over.
    ready: MOVABLE.has(plan.status) ? steps.filter((s) => s.state === 'ready').map((s) => s.id) : [],
    current: steps.filter((s) => s.state === 'in_progress').map((s) => s.id),
    vars: meta?.vars ?? {},
    conflicts: state.conflicts.map((c) => ({ file: c.file, message: c.message })),
    problems: [...state.errors, ...(plan.problems ?? [])].map((e) => ({
      file: e.file,
      ...(e.path ? { path: e.path } : {}),
      message: e.message,
    })),
    pending_effects: plan.effects.length,
  };
  const version = meta?.formula_version ?? state.formula?.version;
  if (version !== undefined) json.formula_version = version;
  if (plan.blockedReason) json.blocked_reason = plan.blockedReason;
  if (meta?.convoy) json.convoy = meta.convoy;
  if (meta?.after) json.after = meta.after;
  if (meta?.assignee) json.assignee = meta.assignee;
  const cancelled = state.facts.cancelled;
  if (cancelled)
    json.cancelled = {
      ...(cancelled.by !== undefined ? { by: cancelled.by } : {}),
      ...(cancelled.reason !== undefined ? { reason: cancelled.reason } : {}),
    };
  return json;
}

export async function moleculeStatus(
  rootOrCwd: string,
  id: string,
  now: Date = new Date(),
): Promise<StatusJson> {
  const root = findRoot(rootOrCwd);
  assertMoleculeId(id);
  if (!moleculeExists(root, id))
    throw new GastownError('molecule.unknown', `no molecule ${id} (looked in ${moleculeRelDir(id)})`);
  const { state, plan } = await judgeMolecule(id, { root, config: loadConfig(root), now });
  return statusOf(state, plan);
}

/**
 * What `molecule status` would say is wrong with a molecule made of `files` (pre-commit hands
 * the staged ones): the problems when its verdict is invalid or conflict, none otherwise.
 */
export async function verdictProblems(
  root: string,
  id: string,
  files: Map<string, string>,
  config: GastownConfig,
  now: Date,
): Promise<Problem[]> {
  const { state, plan } = await planLoaded(root, id, files, config, now);
  const { state: verdict } = statusOf(state, plan);
  return verdict === 'invalid' || verdict === 'conflict' ? stateProblems(state, plan) : [];
}

export interface MoleculeListEntry {
  id: string;
  formula: string;
  state: MoleculeStatus;
  progress: { done: number; total: number };
  blocked_reason?: string;
  /** Why an `invalid` or `conflict` molecule is so: its first problem, with the way back. */
  problem?: string;
  convoy?: string;
}

export async function listMolecules(rootOrCwd: string, now: Date = new Date()): Promise<MoleculeListEntry[]> {
  const out: MoleculeListEntry[] = [];
  for (const look of await lookAtMolecules(rootOrCwd, now)) {
    if (look.view) {
      const v = look.view;
      out.push({
        id: look.id,
        formula: v.formula,
        state: look.state,
        progress: { done: look.done, total: look.total },
        ...(v.blocked ? { blocked_reason: v.blocked } : {}),
        ...(v.convoy ? { convoy: v.convoy } : {}),
      });
      continue;
    }
    if (!look.judged) continue; // only `current` accepts a summary without a view
    const s = statusOf(look.judged.state, look.judged.plan);
    const problem = s.problems[0] ?? s.conflicts[0];
    out.push({
      id: look.id,
      formula: s.formula,
      state: s.state,
      progress: s.progress,
      ...(s.blocked_reason ? { blocked_reason: s.blocked_reason } : {}),
      ...(problem ? { problem: problem.file ? `${problem.file}: ${problem.message}` : problem.message } : {}),
      ...(s.convoy ? { convoy: s.convoy } : {}),
    });
  }
  return out;
}

/**
 * Replaces the event files of a completed molecule with one `digest.toml` (history stays in
 * git). The digest is written first, so a crash in between leaves a readable folder.
 */
export async function squashMolecule(
  rootOrCwd: string,
  id: string,
  opts: { now: Date; lockWaitMs?: number },
): Promise<{ written: string[]; removed: string[] }> {
  const root = findRoot(rootOrCwd);
  assertMoleculeId(id);
  return withLock(root, opts.lockWaitMs, async () => {
    if (!moleculeExists(root, id))
      throw new GastownError('molecule.unknown', `no molecule ${id} (looked in ${moleculeRelDir(id)})`);
    // Judged as status judges it: a digest would hide the facts an audit finds unbacked.
    const { state, plan } = await judgeMolecule(id, { root, config: loadConfig(root), now: opts.now });
    throwIfUnusable(state);
    const unbacked = plan.problems?.[0];
    if (plan.status === 'invalid' && unbacked)
      throw new GastownError('molecule.invalid', `molecule ${id} is invalid: ${unbacked.message}`, {
        location: { file: unbacked.file },
      });
    if (plan.status !== 'completed')
      throw new GastownError(
        'molecule.state',
        `molecule ${id} is ${plan.status}; only a completed molecule can be squashed`,
      );
    const dir = moleculeRelDir(id);
    const written: string[] = [];
    if (!state.digest) {
      const digest = {
        id,
        state: 'completed',
        steps: state.steps.map((s) => ({
          id: s.id,
          attempt: s.attempt,
          state: s.status,
          ...(s.facts.ready?.assignee ? { assignee: s.facts.ready.assignee } : {}),
          ...((s.facts.done ?? s.facts.started)?.by ? { by: (s.facts.done ?? s.facts.started)?.by } : {}),
        })),
      };
      const outcome = createFileExclusive(
        checkBeadsPath(root, join(moleculesDir(root), id, DIGEST_FILE)),
        stringifyToml(digest, ['id', 'state']),
      );
      if (outcome === 'conflict')
        throw new GastownError('molecule.conflict', `${dir}/${DIGEST_FILE} exists with other content`);
      if (outcome === 'written') written.push(`${dir}/${DIGEST_FILE}`);
    }
    const removed: string[] = [];
    const events = checkBeadsPath(root, join(moleculesDir(root), id, EVENTS), { self: true });
    for (const path of state.files.keys()) {
      if (!path.startsWith(`${EVENTS}/`)) continue;
      unlinkSync(join(moleculesDir(root), id, path));
      removed.push(`${dir}/${path}`);
    }
    rmSync(events, { recursive: true, force: true });
    return { written, removed };
  });
}

/** Removes a molecule's folder (its history stays in git). */
export async function burnMolecule(
  rootOrCwd: string,
  id: string,
  opts: { lockWaitMs?: number } = {},
): Promise<{ removed: string }> {
  const root = findRoot(rootOrCwd);
  assertMoleculeId(id);
  return withLock(root, opts.lockWaitMs, async () => {
    if (!moleculeExists(root, id)) throw new GastownError('molecule.unknown', `no molecule ${id}`);
    const waiting = listMoleculeIds(root).filter((other) => {
      if (other === id) return false;
      try {
        const meta = readSmallFile(join(moleculesDir(root), other, MOLECULE_FILE));
        return new RegExp(`^after\\s*=\\s*"${id}"`, 'm').test(meta) && !isMoleculeCompleted(root, other);
      } catch {
        return false;
      }
    });
    if (waiting.length > 0) {
      throw new GastownError(
        'molecule.in-use',
        `molecule ${id} is awaited by ${waiting.join(', ')} (--after); burn those first`,
        { exitCode: ExitCode.failure },
      );
    }
    // A link in the molecule's place is removed itself; what it points to is never touched.
    rmSync(checkBeadsPath(root, join(moleculesDir(root), id)), { recursive: true, force: true });
    return { removed: moleculeRelDir(id) };
  });
}

export { stateProblems };
