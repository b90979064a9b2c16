// Level-triggered reconcile of one molecule: fold → plan → apply, repeated until the plan is
// empty, so one run reaches the fixpoint and the next run changes nothing.
import type { ResolvedFormula } from '../formula/model.js';
import type { GastownConfig } from '../store/types.js';
import { type ApplyOutcome, applyEffects, type Problem } from './apply.js';
import { fold, parseFrozenFormula } from './fold.js';
import { formulaNeedsPlugins, gatherFacts, loadGatePlugins } from './gates.js';
import { moleculeRelDir, readMoleculeFiles } from './io.js';
import { planMolecule } from './plan.js';
import type { MoleculeState, MoleculeStatus, PlanEnv, PlanResult, Transition } from './types.js';

// Molecules poured from the same formula with the same vars share their frozen file byte for byte.
const formulaMemo = new Map<string, ResolvedFormula>();
export function memoParseFormula(text: string, file: string): ResolvedFormula {
  const hit = formulaMemo.get(text);
  if (hit) return hit;
  const parsed = parseFrozenFormula(text, file);
  formulaMemo.set(text, parsed);
  return parsed;
}

export function foldFiles(id: string, files: ReadonlyMap<string, string>): MoleculeState {
  return fold(id, moleculeRelDir(id), files, { parseFormula: memoParseFormula });
}

export interface ReconcileContext {
  root: string;
  now: Date;
  config: GastownConfig;
  dryRun?: boolean;
  moleculeStatus: PlanEnv['moleculeStatus'];
  onTransition?: (t: Transition) => void;
}

export interface ReconcileOutcome {
  state: MoleculeState;
  plan: PlanResult;
  transitions: Transition[];
  written: string[];
  problems: Problem[];
}

/** Problems that make a molecule unusable, as the `problems` entries advance reports. */
export function stateProblems(state: MoleculeState): Problem[] {
  return [
    ...state.errors.map((e) => ({
      molecule: state.id,
      file: e.file,
      message: e.path ? `${e.path}: ${e.message}` : e.message,
    })),
    ...state.conflicts.map((c) => ({ molecule: state.id, file: c.file, message: `conflict: ${c.message}` })),
  ];
}

export async function planState(
  state: MoleculeState,
  ctx: Pick<ReconcileContext, 'config' | 'now' | 'moleculeStatus'> & { root?: string },
): Promise<PlanResult> {
  if (state.formula && formulaNeedsPlugins(state.formula)) {
    await loadGatePlugins();
    // Facts from git (checkpoint authors, commit times) for the gate planners; needs the root.
    if (ctx.root !== undefined)
      await gatherFacts(state, { root: ctx.root, now: ctx.now, config: ctx.config });
  }
  if (!state.formula)
    return {
      effects: [],
      status: state.conflicts.length > 0 && state.errors.length === 0 ? 'conflict' : 'invalid',
      notes: {},
    };
  return planMolecule(state, state.formula, {
    config: ctx.config,
    now: ctx.now,
    moleculeStatus: ctx.moleculeStatus,
  });
}

const MAX_ROUNDS = 10_000;

export async function reconcileMolecule(
  id: string,
  ctx: ReconcileContext,
  preloaded?: Map<string, string>,
): Promise<ReconcileOutcome> {
  const files = preloaded ?? readMoleculeFiles(ctx.root, id, !ctx.dryRun);
  const memory = new Map([[id, files]]);
  const transitions: Transition[] = [];
  const written: string[] = [];
  const problems: Problem[] = [];
  let state = foldFiles(id, files);
  let plan = await planState(state, ctx);
  for (let round = 0; round < MAX_ROUNDS && plan.effects.length > 0; round++) {
    const applied: ApplyOutcome = await applyEffects(plan.effects, {
      root: ctx.root,
      now: ctx.now,
      config: ctx.config,
      dryRun: ctx.dryRun ?? false,
      files: memory,
      state,
      ...(ctx.onTransition ? { onTransition: ctx.onTransition } : {}),
    });
    transitions.push(...applied.transitions);
    written.push(...applied.written);
    problems.push(...applied.problems);
    if (applied.changed === 0) break;
    const fresh = ctx.dryRun ? files : readMoleculeFilesAfterRun(ctx, id, files, applied);
    state = foldFiles(id, fresh);
    plan = await planState(state, ctx);
  }
  problems.push(...stateProblems(state));
  return { state, plan, transitions, written, problems };
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
  return files;
}

export type { MoleculeStatus };
