// The one verdict on a molecule that every command showing a state prints: `molecule status`,
// `list`, `current`, `checkpoint list` and `doctor`. It is the plan's status, and for a molecule
// the planner no longer moves (completed, cancelled, squashed) also the audit of every fact the
// planner checks before moving an active one (plan.ts `unbackedFacts`), with checkpoint decisions
// judged from git. So a completed molecule whose approval no counted vote backs (a squash merge
// re-authored it) is `invalid` everywhere, not `completed` in one place and an error in another.
import type { GastownConfig } from '../store/types.js';
import { fileMoleculeStatus, readMoleculeFiles } from './io.js';
import { unbackedFacts } from './plan.js';
import { foldFiles, planEnvFor, planWith } from './reconcile.js';
import type { MoleculeState, MoleculeStatus, PlanEnv, PlanResult } from './types.js';

export interface VerdictContext {
  root: string;
  config: GastownConfig;
  now: Date;
  /** How other molecules' states are read (default: their files); status-cache.ts records them. */
  moleculeStatus?: (id: string) => MoleculeStatus | undefined;
}

export interface MoleculeVerdict {
  state: MoleculeState;
  plan: PlanResult;
  /** What it was planned and audited with, facts from git included (the checkpoint views). */
  env: PlanEnv;
}

/** Folds, plans and, for a settled molecule, audits one molecule read from disk. Reads only. */
export async function judgeMolecule(id: string, ctx: VerdictContext): Promise<MoleculeVerdict> {
  return judgeState(foldFiles(id, readMoleculeFiles(ctx.root, id)), ctx);
}

/** judgeMolecule for a state the caller folded already (doctor folds each molecule once). */
export async function judgeState(state: MoleculeState, ctx: VerdictContext): Promise<MoleculeVerdict> {
  const base = {
    config: ctx.config,
    now: ctx.now,
    moleculeStatus: ctx.moleculeStatus ?? fileMoleculeStatus(ctx.root),
    root: ctx.root,
  };
  const env = await planEnvFor(state, base);
  const plan = planWith(state, env);
  const formula = state.formula;
  const settled = state.facts.completed || state.facts.cancelled || state.digest;
  if (!settled || !formula || plan.status === 'invalid' || plan.status === 'conflict')
    return { state, plan, env };
  // A settled molecule is planned no more; its facts are gathered for the audit only.
  const audit = await planEnvFor(state, { ...base, settled: true });
  const problems = unbackedFacts(state, formula, audit);
  if (problems.length === 0) return { state, plan, env: audit };
  return { state, plan: { ...plan, effects: [], status: 'invalid', problems }, env: audit };
}
