// Recording a step transition (start, done, fail, reopen): by hand, from a commit trailer, or
// by a patrol; and who did a step.
import { isAbsolute, resolve } from 'node:path';
import { GastownError, UsageError } from '../errors.js';
import type { ResolvedFormula } from '../formula/model.js';
import { isUnreadableStateError, readBoundedFile } from '../store/atomic.js';
import { loadConfig } from '../store/config.js';
import { assertMoleculeId, assertPathSegment } from '../store/ids.js';
import { findRoot, outputPath } from '../store/layout.js';
import { withLock } from '../store/lock.js';
import type { GastownConfig } from '../store/types.js';
import type { Problem } from './apply.js';
import { fileMoleculeStatus, moleculeExists, moleculeRelDir, readMoleculeFiles } from './io.js';
import { throwIfUnusable } from './molecule-load.js';
import { reconcileWaiting } from './molecule-waiting.js';
import { reopenEffects, stepTransition } from './plan.js';
import { foldFiles, type ReconcileOutcome, reconcileMolecule } from './reconcile.js';
import type {
  Effect,
  MoleculeState,
  MoleculeStatus,
  PlanResult,
  StepState,
  Transition,
  TransitionEffect,
} from './types.js';

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

/** What a caller may say about a step action: who, why, which commit, and the assignee rule. */
type StepActionOptions = {
  as?: string;
  reason?: string;
  commit?: string;
  output?: string;
  checkAssignee?: boolean;
  reassign?: boolean;
};

/**
 * The effects that record `action` on `stepId`, or an error saying why it cannot be recorded.
 * Recording what is already recorded returns no effects (a no-op, never a rewrite).
 */
export function stepActionEffects(
  state: MoleculeState,
  plan: PlanResult,
  stepId: string,
  action: StepAction,
  opts: StepActionOptions,
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
  // A fact that cannot stand stops the molecule; re-opening is one way out of it.
  const unbacked = plan.status === 'invalid' ? plan.problems?.[0] : undefined;
  if (unbacked && action !== 'reopen')
    throw new GastownError('molecule.invalid', `molecule ${state.id} is invalid: ${unbacked.message}`, {
      location: { file: unbacked.file },
    });
  if (action === 'reopen') return reopenStep(state, formula, s, stepId, opts);
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
  if (action === 'start') return startStep(state, s, stepId, opts, taken);
  return finishStep(state, s, stepId, action === 'done' ? 'done' : 'failed', opts, taken);
}

/** `reopen`: a new attempt of the step (and what depends on it), or why there is nothing to re-open. */
function reopenStep(
  state: MoleculeState,
  formula: ResolvedFormula,
  s: StepState,
  stepId: string,
  opts: StepActionOptions,
): Effect[] {
  const by = opts.as;
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

/** `start` on a step that is ready (or about to be): its `started` fact, or none when already so. */
function startStep(
  state: MoleculeState,
  s: StepState,
  stepId: string,
  opts: StepActionOptions,
  taken: { extra?: Record<string, string> },
): Effect[] {
  const by = opts.as;
  const readyLike = s.status === 'ready' || s.status === 'in_progress';
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
    stepTransition(state.id, stepId, s.attempt, 'started', `${stepId} started${who ? ` by ${who}` : ''}`, {
      by: who,
      commit: opts.commit,
      ...taken,
    }),
  ];
}

/** `done` or `fail`: the step's `done` or `failed` fact, or none when already so. */
function finishStep(
  state: MoleculeState,
  s: StepState,
  stepId: string,
  kind: 'done' | 'failed',
  opts: StepActionOptions,
  taken: { extra?: Record<string, string> },
): Effect[] {
  const by = opts.as;
  const readyLike = s.status === 'ready' || s.status === 'in_progress';
  if (s.status === kind) return [];
  if (!readyLike && s.status !== 'pending')
    throw new GastownError('step.state', `step ${stepId} is already ${s.status} (attempt ${s.attempt})`);
  // Who claimed it, when that was recorded; never guessed from the assignee.
  const who = by ?? s.facts.started?.by;
  const why = opts.reason ? `: ${opts.reason}` : '';
  return [
    stepTransition(state.id, stepId, s.attempt, kind, `${stepId} ${kind}${who ? ` by ${who}` : ''}${why}`, {
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
