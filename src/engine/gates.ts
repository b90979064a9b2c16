// Extension points of the planner (docs/state.md, "Extension points"):
// - gate planners, one per gate type (`human`, `command`, `timer`, `molecule`, …), consulted for
//   every step that has a `gate`;
// - gate runners, which execute `run` effects while the applier holds the lock;
// - molecule planners for runtime behaviour that is not a gate (`loop`, `on_complete`);
// - a condition evaluator for `condition` expressions.
// With no planner for a gate type, a gated step behaves like a normal step and `status` says
// the gate type was not executed.
import type { ResolvedFormula, ResolvedStep } from '../formula/model.js';
import type { GastownConfig } from '../store/types.js';
import { loadGatePlugins } from './plugins.js';
import type {
  Effect,
  FactKey,
  FileProblem,
  GateBlock,
  GatheredFacts,
  MoleculeState,
  PlanEnv,
  RunEffect,
  StepState,
  Transition,
  TransitionEffect,
} from './types.js';

export interface GatePlanContext {
  state: MoleculeState;
  formula: ResolvedFormula;
  step: ResolvedStep;
  stepState: StepState;
  /** Every step this one needs is done or skipped. */
  needsMet: boolean;
  vars: Record<string, string>;
  env: PlanEnv;
  /** Transition effects that re-open `stepId` and every step that transitively needs it. */
  reopen(stepId: string, opts: { reason?: string; by?: string; cause?: string }): TransitionEffect[];
}

export interface GatePlan {
  effects?: Effect[];
  /** Keep the step from becoming ready although its needs are met (waits, holds). */
  holdReady?: boolean;
  /** The molecule is blocked for this reason (e.g. a gate failed max_attempts times). */
  blocked?: string;
  /** The same block as data, when the engine escalates it by itself. */
  block?: GateBlock;
  /** Shown by `molecule status` next to the step. */
  note?: string;
  /** The plan changes by itself at this time (ms since epoch): timers, deadlines. */
  recheckAt?: number;
  /** The plan depends on more than the folder's files (git history): never cache it. */
  volatile?: boolean;
  /** A gate file that cannot be read (a checkpoint's bad decision): reported by advance and status. */
  problem?: FileProblem;
}

export type GatePlanner = (ctx: GatePlanContext) => GatePlan | undefined;

/**
 * Says why a gated step's recorded `done` does not stand (no counted approval, no passing
 * report), or undefined when it does or cannot be told yet. Anyone with commit access can
 * write an event file; a gate's verdict lives in the gate's own files, so it is checked there.
 */
export type GateVerifier = (ctx: GatePlanContext) => string | undefined;

export interface MoleculePlanContext {
  state: MoleculeState;
  formula: ResolvedFormula;
  vars: Record<string, string>;
  env: PlanEnv;
  reopen: GatePlanContext['reopen'];
}
export type MoleculePlanner = (ctx: MoleculePlanContext) => GatePlan | undefined;

export interface RunContext {
  root: string;
  now: Date;
  config: GastownConfig;
  state: MoleculeState;
  /**
   * Reports files a runner wrote outside this molecule's folder and what happened there (a
   * molecule that `on_complete` created), so they are printed and go into the engine commit.
   */
  report?(outcome: { written: string[]; transitions: Transition[] }): void;
  /** Aborted when the run must stop (watch on SIGTERM): stop the commands it started. */
  signal?: AbortSignal;
}
export type GateRunner = (effect: RunEffect, ctx: RunContext) => Promise<Effect[]>;

/** Evaluates a `condition` (vars already substituted); undefined = cannot tell. */
export type ConditionEvaluator = (
  expression: string,
  ctx: { state: MoleculeState; vars: Record<string, string> },
) => boolean | undefined;

/**
 * Gathers facts a planner needs from outside the folder (who made a commit, when a file was
 * committed) before the molecule is planned; they reach the planners in `PlanEnv.facts` under
 * `key`, so planning stays a function of its arguments.
 */
export type FactGatherer<T> = (state: MoleculeState, ctx: GatherContext) => Promise<T | undefined>;
export interface GatherContext {
  root: string;
  now: Date;
  config: GastownConfig;
  /** Also for a completed or cancelled molecule (doctor audits those). */
  settled?: boolean;
}
export function factKey<T>(name: string): FactKey<T> {
  return { name };
}
const factGatherers = new Map<FactKey<unknown>, FactGatherer<unknown>>();
export function registerFactGatherer<T>(key: FactKey<T>, gatherer: FactGatherer<T>): void {
  factGatherers.set(key, gatherer);
}
/**
 * Told once when a run is about to judge many molecules it has never seen (a cold `advance`): a
 * gatherer may start a batched read now (the one history walk), beside the reading of molecules.
 */
export type FactPrefetch = (root: string) => void;
const factPrefetches = new Set<FactPrefetch>();
export function registerFactPrefetch(prefetch: FactPrefetch): void {
  factPrefetches.add(prefetch);
}
/** Loads the gate kinds and lets each prefetch start; never throws (planning reports failures). */
export async function prefetchFacts(root: string): Promise<void> {
  try {
    await loadGatePlugins();
    for (const p of factPrefetches) p(root);
  } catch {
    /* the first plan that needs the plugins or the facts meets the same error and reports it */
  }
}
/** Every registered gatherer's facts for `state`. */
export async function gatherFacts(state: MoleculeState, ctx: GatherContext): Promise<GatheredFacts> {
  const out = new Map<FactKey<unknown>, unknown>();
  for (const [key, g] of factGatherers) {
    const facts = await g(state, ctx);
    if (facts !== undefined) out.set(key, facts);
  }
  return out;
}
/** The facts gathered under `key`, as its gatherer returned them. */
export function factsFor<T>(env: PlanEnv, key: FactKey<T>): T | undefined {
  return env.facts?.get(key) as T | undefined;
}

const gatePlanners = new Map<string, GatePlanner>();
const gateVerifiers = new Map<string, GateVerifier>();
const gateRunners = new Map<string, GateRunner>();
const moleculePlanners = new Map<string, MoleculePlanner>();
let conditionEvaluator: ConditionEvaluator | undefined;

/** Returns what removes it again (an embedder, or a test sharing its process with others). */
export function registerGatePlanner(type: string, planner: GatePlanner): () => void {
  gatePlanners.set(type, planner);
  return () => {
    if (gatePlanners.get(type) === planner) gatePlanners.delete(type);
  };
}
export function registerGateVerifier(type: string, verifier: GateVerifier): void {
  gateVerifiers.set(type, verifier);
}
export function registerGateRunner(gate: string, runner: GateRunner): void {
  gateRunners.set(gate, runner);
}
/** `name` identifies the hook (e.g. `loop`, `on_complete`); registering a name again replaces it. */
export function registerMoleculePlanner(name: string, planner: MoleculePlanner): () => void {
  moleculePlanners.set(name, planner);
  return () => {
    if (moleculePlanners.get(name) === planner) moleculePlanners.delete(name);
  };
}
export function registerConditionEvaluator(evaluator: ConditionEvaluator | undefined): void {
  conditionEvaluator = evaluator;
}

export const gatePlannerFor = (type: string): GatePlanner | undefined => gatePlanners.get(type);
export const gateVerifierFor = (type: string): GateVerifier | undefined => gateVerifiers.get(type);
export const gateRunnerFor = (gate: string): GateRunner | undefined => gateRunners.get(gate);
export const allMoleculePlanners = (): MoleculePlanner[] => [...moleculePlanners.values()];
export const currentConditionEvaluator = (): ConditionEvaluator | undefined => conditionEvaluator;

/**
 * What the built-in plugins (PLUGINS below) register. Reconcile loads them before planning any
 * formula that needs them, so a plan never depends on whether they were loaded when the cache
 * was opened; the signature counts them as present either way. (It did not: an advance that
 * loaded them early, for a commit's trailers, salted every key differently from a plain run,
 * and the next two runs each re-read every molecule.)
 */
const BUILT_IN_GATE_PLANNERS = ['command', 'human', 'molecule', 'timer'];
const BUILT_IN_MOLECULE_PLANNERS = ['loop', 'on_complete'];

/**
 * The salt of a cached judgement (summaries, convoy member views): what it depends on besides the
 * molecule's files, the config's hash and the planners.
 */
export function saltOf(configHash: string): string {
  return `${configHash}|${registrySignature()}`;
}

/** Names of the planners, part of cache keys: a planner registered by an embedder invalidates cached plans. */
export function registrySignature(): string {
  const names = (builtIn: string[], registered: Iterable<string>) =>
    [...new Set([...builtIn, ...registered])].sort();
  return [
    ...names(BUILT_IN_GATE_PLANNERS, gatePlanners.keys()),
    '|',
    ...names(BUILT_IN_MOLECULE_PLANNERS, moleculePlanners.keys()),
    '|',
    'cond',
  ].join(',');
}

export { loadGatePlugins };

/** True when planning this formula may need a plugin (a gate, a runtime loop, on_complete, a condition). */
export function formulaNeedsPlugins(formula: ResolvedFormula): boolean {
  return formula.steps.some(
    (s) =>
      s.gate !== undefined ||
      s.loop !== undefined ||
      s.on_complete !== undefined ||
      s.condition !== undefined,
  );
}
