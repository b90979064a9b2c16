// Level-triggered reconcile of one molecule: fold → plan → apply, repeated until the plan is
// empty, so one run reaches the fixpoint and the next run changes nothing.
import type { Dirent } from 'node:fs';
import { GastownError } from '../errors.js';
import type { CommandGate, ResolvedFormula } from '../formula/model.js';
import { reconcileMail } from '../mail/reconcile.js';
import { EVENTS, FORMULA_FILE, type ParsedEventName, parseEventName } from '../store/layout.js';
import type { GastownConfig } from '../store/types.js';
import { type ApplyOutcome, applyEffects, type Problem } from './apply.js';
import { fold, foldWritten, parseFrozenFormula } from './fold.js';
import { formulaNeedsPlugins, gatherFacts, loadGatePlugins } from './gates.js';
import { holdYoungGeneration } from './heap.js';
import { FolderFiles, moleculeRelDir, readFactsOnly, readMoleculeFiles } from './io.js';
import { planMolecule } from './plan.js';
import { safePoint } from './stop.js';
import type { Effect, MoleculeState, MoleculeStatus, PlanEnv, PlanResult, Transition } from './types.js';

// Molecules poured from the same formula with the same vars share their frozen file byte for byte.
// Bounded, least recently used out first: a run over 10,000 molecules with thousands of distinct
// frozen formulas kept every parse (and its text) alive, ~65 MiB of doctor's peak at 10,000.
const formulaMemo = new Map<string, ResolvedFormula>();
const FORMULA_MEMO_SIZE = 256;
export function memoParseFormula(text: string, file: string): ResolvedFormula {
  const hit = formulaMemo.get(text);
  if (hit) {
    formulaMemo.delete(text);
    formulaMemo.set(text, hit);
    return hit;
  }
  const parsed = parseFrozenFormula(text, file);
  if (formulaMemo.size >= FORMULA_MEMO_SIZE) formulaMemo.delete(formulaMemo.keys().next().value as string);
  formulaMemo.set(text, parsed);
  return parsed;
}

export function foldFiles(
  id: string,
  files: ReadonlyMap<string, string>,
  trusted?: ReadonlySet<string>,
): MoleculeState {
  holdYoungGeneration();
  return fold(id, moleculeRelDir(id), files, {
    parseFormula: memoParseFormula,
    ...(trusted ? { trusted } : {}),
  });
}

/**
 * The event files of settled history, by name alone: every fact of a step whose current attempt
 * is `done` or `skipped` (exactly one terminal fact), and the facts of earlier attempts of any
 * step. Facts of steps in flight (ready, started, failed, re-opened), molecule facts and any
 * name that contradicts another are not in it: those are read and checked.
 */
export function settledFactPaths(paths: Iterable<string>): Set<string> {
  // Grouped by step in plain arrays (path, parsed name): this runs once per molecule on a cold
  // advance, before the JIT has optimised anything, so it avoids nested Maps and filters.
  const byStep = new Map<string, { paths: string[]; names: StepEventName[] }>();
  for (const path of paths) {
    if (!path.startsWith(EVENTS_PREFIX)) continue;
    const e = parseEventName(path.slice(EVENTS_PREFIX.length));
    if (e?.scope !== 'step') continue;
    const group = byStep.get(e.step);
    if (group) {
      group.paths.push(path);
      group.names.push(e);
    } else byStep.set(e.step, { paths: [path], names: [e] });
  }
  const trusted = new Set<string>();
  for (const { paths: list, names } of byStep.values()) {
    let current = 0;
    for (let i = 0; i < names.length; i++) current = Math.max(current, (names[i] as StepEventName).attempt);
    let terminal = 0;
    let failed = false;
    for (let i = 0; i < names.length; i++) {
      const e = names[i] as StepEventName;
      if (e.attempt !== current) continue;
      if (e.kind === 'done' || e.kind === 'skipped') terminal++;
      else if (e.kind === 'failed') failed = true;
    }
    const settled = terminal === 1 && !failed;
    for (let i = 0; i < names.length; i++)
      if (settled || (names[i] as StepEventName).attempt !== current) trusted.add(list[i] as string);
  }
  return trusted;
}
const EVENTS_PREFIX = `${EVENTS}/`;
type StepEventName = Extract<ParsedEventName, { scope: 'step' }>;

export interface ReconcileContext {
  root: string;
  now: Date;
  config: GastownConfig;
  dryRun?: boolean;
  moleculeStatus: PlanEnv['moleculeStatus'];
  onTransition?: (t: Transition) => void;
  /**
   * Take settled history by its file names (settledFactPaths) when the formula's plan reads no
   * fact contents (no gate, loop, on_complete or condition). advance sets it for molecules this
   * clone's cache has never seen, outside a git operation: a cold start then reads the facts of
   * steps in flight, not every fact ever recorded. Facts that appear later are read (a changed
   * file set misses the cache, and a molecule with a cache entry is read whole).
   */
  trustSettledFacts?: boolean;
  /** The molecule's `events/` listing, when the caller made it already (advance). */
  listedEvents?: Dirent[];
  /** Stop at the next safe point once this is aborted (stop.ts); gate runs are cancelled. */
  signal?: AbortSignal;
  /** A dry run over preloaded files that are the whole molecule: the disk is never read. */
  detached?: boolean;
}

export interface ReconcileOutcome {
  state: MoleculeState;
  plan: PlanResult;
  transitions: Transition[];
  written: string[];
  problems: Problem[];
}

/** Problems that make a molecule unusable, as the `problems` entries advance reports. */
export function stateProblems(state: MoleculeState, plan?: PlanResult): Problem[] {
  return [
    ...(plan?.problems ?? []).map((p) => ({ molecule: state.id, file: p.file, message: p.message })),
    ...state.errors.map((e) => ({
      molecule: state.id,
      file: e.file,
      message: e.path ? `${e.path}: ${e.message}` : e.message,
    })),
    ...state.conflicts.map((c) => ({ molecule: state.id, file: c.file, message: `conflict: ${c.message}` })),
  ];
}

/**
 * The planner's whole input besides the state: the clock, config and other molecules, and the
 * facts from git its gates need (gathered here, first; only with a root to read them from).
 */
export async function planEnvFor(
  state: MoleculeState,
  ctx: Pick<ReconcileContext, 'config' | 'now' | 'moleculeStatus'> & { root?: string; settled?: boolean },
): Promise<PlanEnv> {
  const env: PlanEnv = { config: ctx.config, now: ctx.now, moleculeStatus: ctx.moleculeStatus };
  if (state.formula && formulaNeedsPlugins(state.formula)) {
    await loadGatePlugins();
    if (ctx.root !== undefined)
      env.facts = await gatherFacts(state, {
        root: ctx.root,
        now: ctx.now,
        config: ctx.config,
        settled: ctx.settled === true,
      });
  }
  return env;
}

/** Plans a folded state with its whole input. Pure. */
export function planWith(state: MoleculeState, env: PlanEnv): PlanResult {
  if (!state.formula)
    return {
      effects: [],
      status: state.conflicts.length > 0 && state.errors.length === 0 ? 'conflict' : 'invalid',
      notes: {},
    };
  return planMolecule(state, state.formula, env);
}

export async function planState(
  state: MoleculeState,
  ctx: Pick<ReconcileContext, 'config' | 'now' | 'moleculeStatus'> & { root?: string },
): Promise<PlanResult> {
  return planWith(state, await planEnvFor(state, ctx));
}

/**
 * How many fold → plan → apply rounds one molecule may take. Each round writes something new,
 * and what the engine does by itself is bounded: per step attempt a few facts (ready or skipped,
 * a checkpoint or wait opened, a timeout, a gate run and its outcome, a re-open), and the
 * attempts it starts by itself are bounded by loops' `max` and command gates' `max_attempts`.
 * A plan still producing effects past this would produce them forever.
 */
export function roundLimit(formula: ResolvedFormula | undefined): number {
  let attempts = 1;
  for (const step of formula?.steps ?? []) {
    if (step.loop) attempts += step.loop.max;
    if (step.gate?.type === 'command') attempts += (step.gate as CommandGate).max_attempts;
  }
  return ROUNDS_PER_STEP_ATTEMPT * ((formula?.steps.length ?? 0) + 1) * attempts;
}
const ROUNDS_PER_STEP_ATTEMPT = 8;

/**
 * What a run feeds into one molecule's reconcile besides its files: facts a CLI verb or a
 * commit trailer records (`facts`, asked once the molecule is folded and planned; it throws
 * when the action cannot be recorded, and nothing is written then), and the state when the
 * caller folded these files already.
 */
export interface ReconcileInput {
  facts?(state: MoleculeState, plan: PlanResult): Effect[];
  state?: MoleculeState;
}

export async function reconcileMolecule(
  id: string,
  ctx: ReconcileContext,
  preloaded?: Map<string, string>,
  input: ReconcileInput = {},
): Promise<ReconcileOutcome> {
  const files = preloaded ?? readForReconcile(id, ctx);
  const trusted = preloaded || !ctx.trustSettledFacts ? undefined : trustedHistory(id, files);
  const memory = new Map([[id, files]]);
  const transitions: Transition[] = [];
  const written: string[] = [];
  const problems: Problem[] = [];
  let state = input.state?.files === files ? input.state : foldFiles(id, files, trusted);
  if (ctx.signal) await safePoint(ctx.signal);
  let plan = await planState(state, ctx);
  const apply = (effects: readonly Effect[], on: MoleculeState) =>
    applyEffects(effects, {
      root: ctx.root,
      now: ctx.now,
      config: ctx.config,
      dryRun: ctx.dryRun ?? false,
      detached: ctx.detached === true,
      files: memory,
      state: on,
      onTransition: ctx.onTransition,
      signal: ctx.signal,
    });
  // Typed mail about what is recorded goes first (src/mail/reconcile.ts); a dry run plans none.
  const withMail = (effects: readonly Effect[], p: PlanResult): Effect[] =>
    ctx.dryRun
      ? [...effects]
      : [...reconcileMail(state, { ...p, effects: [...effects] }, ctx.config), ...effects];
  const recorded = input.facts?.(state, plan) ?? [];
  if (recorded.length > 0) {
    const applied = await apply(withMail(recorded, { ...plan, blockedReason: undefined }), state);
    const p = applied.problems[0];
    if (p) throw new GastownError('step.conflict', p.message, { location: p.file ? { file: p.file } : {} });
    transitions.push(...applied.transitions);
    written.push(...applied.written);
    state = refold(ctx, id, files, trusted, state, recorded, applied);
    plan = await planState(state, ctx);
  }
  const limit = roundLimit(state.formula);
  for (let round = 0; ; round++) {
    const effects = withMail(plan.effects, plan);
    if (effects.length === 0) break;
    if (round === limit) {
      problems.push(unsettled(id, limit, effects));
      break;
    }
    const applied: ApplyOutcome = await apply(effects, state);
    transitions.push(...applied.transitions);
    written.push(...applied.written);
    problems.push(...applied.problems);
    if (applied.changed === 0) break;
    // Facts written since are in memory and read as they are; settled history stays settled.
    state = refold(ctx, id, files, trusted, state, effects, applied);
    if (ctx.signal) await safePoint(ctx.signal);
    plan = await planState(state, ctx);
  }
  problems.push(...stateProblems(state, plan));
  return { state, plan, transitions, written, problems };
}

/**
 * The state after `effects` were applied: what the engine wrote into this molecule is folded
 * into the state it had (fold.ts foldWritten); after a gate run, which may write files the
 * applier did not, or whatever foldWritten cannot tell, the files are folded again.
 */
function refold(
  ctx: ReconcileContext,
  id: string,
  files: Map<string, string>,
  trusted: ReadonlySet<string> | undefined,
  state: MoleculeState,
  effects: readonly Effect[],
  applied: ApplyOutcome,
): MoleculeState {
  const prefix = `${moleculeRelDir(id)}/`;
  if (!effects.some((e) => e.type === 'run') && applied.written.every((w) => w.startsWith(prefix))) {
    const next = foldWritten(
      state,
      applied.written.map((w) => w.slice(prefix.length)),
    );
    if (next) return next;
  }
  const fresh = ctx.dryRun ? files : readMoleculeFilesAfterRun(ctx, id, files, applied);
  return foldFiles(id, fresh, trusted);
}

/** A plan that keeps producing new effects: reported on the molecule, nothing more applied. */
function unsettled(id: string, rounds: number, effects: readonly Effect[]): Problem {
  const what = effects
    .slice(0, 3)
    .map((e) => (e.type === 'transition' ? e.summary : e.type === 'run' ? e.summary : `write ${e.path}`))
    .join('; ');
  const more = effects.length > 3 ? ` and ${effects.length - 3} more` : '';
  return {
    molecule: id,
    message: `molecule ${id} did not settle: after ${rounds} rounds its plan still asks for ${what}${more}; stopped there (a plan that keeps asking for new writes is a bug in a gate planner or the engine)`,
  };
}

/**
 * What reconcile reads. A cold start with the events/ listing made (advance) reads only what a
 * plan that reads facts alone needs, when the frozen formula is such (io.ts `readFactsOnly`).
 */
function readForReconcile(id: string, ctx: ReconcileContext): Map<string, string> {
  const cleanTemp = !ctx.dryRun;
  if (ctx.trustSettledFacts && ctx.listedEvents) {
    const file = `${moleculeRelDir(id)}/${FORMULA_FILE}`;
    const files = readFactsOnly(ctx.root, id, ctx.listedEvents, cleanTemp, (text) => {
      try {
        return !formulaNeedsPlugins(memoParseFormula(text, file));
      } catch {
        return false; // read everything; fold reports it
      }
    });
    if (files) return files;
  }
  return readMoleculeFiles(ctx.root, id, cleanTemp, ctx.trustSettledFacts === true, ctx.listedEvents);
}

/** Settled history to take by name, when the frozen formula's plan reads no fact contents. */
function trustedHistory(id: string, files: ReadonlyMap<string, string>): Set<string> | undefined {
  const text = files.get(FORMULA_FILE);
  if (text === undefined) return undefined;
  let formula: ResolvedFormula;
  try {
    formula = memoParseFormula(text, `${moleculeRelDir(id)}/${FORMULA_FILE}`);
  } catch {
    return undefined; // fold reports it
  }
  return formulaNeedsPlugins(formula) ? undefined : settledFactPaths(files.keys());
}

/** After a gate runner ran, files may have appeared that the applier did not write: re-read. */
function readMoleculeFilesAfterRun(
  ctx: ReconcileContext,
  id: string,
  files: Map<string, string>,
  applied: ApplyOutcome,
): Map<string, string> {
  if (applied.changed === applied.written.length) return files;
  const fresh = readMoleculeFiles(ctx.root, id);
  files.clear();
  for (const [k, v] of fresh) files.set(k, v);
  if (files instanceof FolderFiles) {
    files.unreadable.clear();
    for (const [k, why] of fresh.unreadable) files.unreadable.set(k, why);
  }
  return files;
}

export type { MoleculeStatus };
