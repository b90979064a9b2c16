// The one verdict on a molecule that every command showing a state prints: `molecule status`,
// `list`, `current`, `checkpoint list` and `doctor`. It is the plan's status, and for a molecule
// the planner no longer moves (completed, cancelled, squashed) also the audit of every fact the
// planner checks before moving an active one (plan.ts `unbackedFacts`), with checkpoint decisions
// judged from git. So a completed molecule whose approval no counted vote backs (a squash merge
// re-authored it) is `invalid` everywhere, not `completed` in one place and an error in another.
import type { GastownConfig } from '../store/types.js';
import { formulaNeedsPlugins, gatherFacts, loadGatePlugins } from './gates.js';
import { fileMoleculeStatus, readMoleculeFiles } from './io.js';
import { unbackedFacts } from './plan.js';
import { foldFiles, planState } from './reconcile.js';
import type { MoleculeState, PlanEnv, PlanResult } from './types.js';

export interface VerdictContext {
  root: string;
  config: GastownConfig;
  now: Date;
}

export interface MoleculeVerdict {
  /** The folded state; checkpoint facts gathered from git are attached to it (gates/engine.ts). */
  state: MoleculeState;
  plan: PlanResult;
}

/** Folds, plans and, for a settled molecule, audits one molecule read from disk. Reads only. */
export async function judgeMolecule(id: string, ctx: VerdictContext): Promise<MoleculeVerdict> {
  return judgeState(foldFiles(id, readMoleculeFiles(ctx.root, id)), ctx);
}

/** judgeMolecule for a state the caller folded already (doctor folds each molecule once). */
export async function judgeState(state: MoleculeState, ctx: VerdictContext): Promise<MoleculeVerdict> {
  const env: PlanEnv = { config: ctx.config, now: ctx.now, moleculeStatus: fileMoleculeStatus(ctx.root) };
  const plan = await planState(state, { ...env, root: ctx.root });
  const formula = state.formula;
  const settled = state.facts.completed || state.facts.cancelled || state.digest;
  if (!settled || !formula || plan.status === 'invalid' || plan.status === 'conflict') return { state, plan };
  if (formulaNeedsPlugins(formula)) {
    await loadGatePlugins();
    await gatherFacts(state, { root: ctx.root, now: ctx.now, config: ctx.config, settled: true });
  }
  const problems = unbackedFacts(state, formula, env);
  if (problems.length === 0) return { state, plan };
  return { state, plan: { ...plan, effects: [], status: 'invalid', problems } };
}
