// plan: a molecule's state → what must happen next. Pure: the clock, config and other
// molecules' states come in through `env`; nothing here touches the disk.
import type { ResolvedFormula, ResolvedStep } from '../formula/model.js';
import { substituteVars } from '../formula/vars.js';
import { moleculeEventPath, stepEventPath } from '../store/layout.js';
import type { EventFact, GastownConfig } from '../store/types.js';
import {
  allMoleculePlanners,
  currentConditionEvaluator,
  type GatePlan,
  type GatePlanContext,
  gatePlannerFor,
  gateVerifierFor,
} from './gates.js';
import type {
  Effect,
  FileProblem,
  MoleculeState,
  MoleculeStatus,
  PlanEnv,
  PlanResult,
  StepState,
  TransitionEffect,
} from './types.js';

const SATISFIED = new Set(['done', 'skipped']);

/** The spec's signature: just the effects. */
export function plan(
  state: MoleculeState,
  formula: ResolvedFormula,
  config: GastownConfig,
  now: Date,
  env?: Partial<PlanEnv>,
): Effect[] {
  return planMolecule(state, formula, {
    config,
    now,
    moleculeStatus: env?.moleculeStatus ?? (() => undefined),
  }).effects;
}

export function stepTransition(
  molecule: string,
  step: string,
  attempt: number,
  kind: string,
  summary: string,
  fields: Partial<Omit<EventFact, 'step' | 'attempt' | 'kind'>> = {},
): TransitionEffect {
  const fact: EventFact = { step, attempt, kind, extra: {} };
  for (const [k, v] of Object.entries(fields))
    if (v !== undefined) (fact as unknown as Record<string, unknown>)[k] = v;
  return { type: 'transition', molecule, fact, summary };
}

/** Steps that transitively need `stepId` (not including it), in formula order. */
export function dependentsOf(formula: ResolvedFormula, stepId: string): string[] {
  const affected = new Set([stepId]);
  const out: string[] = [];
  // Steps are in topological order, so one pass finds every transitive dependent.
  for (const step of formula.steps) {
    if (step.id !== stepId && step.needs.some((n) => affected.has(n))) {
      affected.add(step.id);
      out.push(step.id);
    }
  }
  return out;
}

/** The current attempt has begun: any fact but its `reopened` (ready, a checkpoint opened, …). */
const hasLiveFacts = (s: StepState) => Object.keys(s.facts).some((k) => k !== 'reopened');

/**
 * Re-opens `stepId` and every step that transitively needs it, each as its next attempt.
 * Steps that have no fact in their current attempt (never became ready, or already re-opened)
 * are left alone: they are pending already.
 */
export function reopenEffects(
  state: MoleculeState,
  formula: ResolvedFormula,
  stepId: string,
  opts: { reason?: string; by?: string; cause?: string } = {},
): TransitionEffect[] {
  const effects: TransitionEffect[] = [];
  for (const id of [stepId, ...dependentsOf(formula, stepId)]) {
    const s = state.stepById.get(id);
    if (!s) continue;
    if (!hasLiveFacts(s)) continue;
    const next = s.attempt + 1;
    const why = opts.reason ? `: ${opts.reason}` : '';
    effects.push(
      stepTransition(
        state.id,
        id,
        next,
        'reopened',
        id === stepId
          ? `${id} re-opened as attempt ${next}${why}`
          : `${id} re-opened as attempt ${next} (needs ${stepId})`,
        {
          reason: opts.reason,
          by: id === stepId ? opts.by : undefined,
          cause: id === stepId ? opts.cause : stepId,
        },
      ),
    );
  }
  return effects;
}

/** A condition after var substitution: true/false literals and `a == b`, `a != b`; else the registered evaluator. */
export function evaluateCondition(
  expression: string,
  state: MoleculeState,
  vars: Record<string, string>,
): boolean | undefined {
  const text = substituteVars(expression, vars).trim();
  const literal = literalTruth(text);
  if (literal !== undefined) return literal;
  const cmp = /^(.*?)\s*(==|!=)\s*(.*)$/.exec(text);
  if (cmp && !/\{\{/.test(text) && isLiteralOperand(cmp[1] as string) && isLiteralOperand(cmp[3] as string)) {
    const equal = unquote(cmp[1] as string) === unquote(cmp[3] as string);
    return cmp[2] === '==' ? equal : !equal;
  }
  return currentConditionEvaluator()?.(text, { state, vars });
}

function literalTruth(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (t === 'true' || t === 'yes' || t === '1') return true;
  if (t === 'false' || t === 'no' || t === '0' || t === '' || t === '""' || t === "''") return false;
  return undefined;
}
/**
 * A value written out (`yes`, `"prod"`, `1.2`), as a substituted `{{var}}` leaves it. A dotted name
 * starting with a letter (`vars.x`, `build.status`) is a reference for the expression evaluator.
 */
const isLiteralOperand = (s: string) => {
  const t = s.trim();
  if (/^[A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z_]/.test(t)) return false;
  return /^("[^"]*"|'[^']*'|[A-Za-z0-9_.:/@+-]*)$/.test(t);
};
const unquote = (s: string) => s.trim().replace(/^(["'])(.*)\1$/, '$2');

export function stepAssignee(step: ResolvedStep, state: MoleculeState): string | undefined {
  const vars = state.meta?.vars ?? {};
  if (step.assignee) {
    const a = substituteVars(step.assignee, vars).trim();
    if (a !== '' && !a.includes('{{')) return a;
  }
  return state.meta?.assignee;
}

/** The kinds that say a step's attempt began, in the order status is derived from them. */
const LIVE_KINDS = ['done', 'failed', 'skipped', 'started', 'ready'] as const;

/**
 * Facts that cannot stand, whoever wrote them (an event file is only a file; an agent can
 * commit one by hand): a step recorded as ready, started or finished while a step it needs is
 * not done; a later attempt that nothing re-opened; a skip its condition does not explain; a
 * gated step recorded `done` that its gate did not pass (the gate's verifier, e.g. no counted
 * approval); a completed molecule with a step not done. Pure. The engine never writes such
 * facts, so each is reported with the way out. The one exception, facts under needs that were
 * re-opened since (a merge race), is left to planMolecule, which re-opens them as a transition
 * with its reason.
 */
export function unbackedFacts(state: MoleculeState, formula: ResolvedFormula, env: PlanEnv): FileProblem[] {
  const out: FileProblem[] = [...completedButOpen(state)];
  const fileOf = (s: StepState) => {
    const kind = LIVE_KINDS.find((k) => s.facts[k] !== undefined) ?? Object.keys(s.facts)[0] ?? 'ready';
    return `${state.dir}/${stepEventPath(s.id, s.attempt, kind)}`;
  };
  // A settled molecule's steps cannot be re-opened: removing the file is its way back.
  const settled = state.facts.completed || state.facts.cancelled || state.digest;
  const fix = (step: string) =>
    settled
      ? '; remove the file (history stays in git)'
      : `; remove the file (history stays in git) or run \`gastown step reopen ${state.id} ${step}\``;
  for (const step of formula.steps) {
    const s = state.stepById.get(step.id);
    // A squashed molecule's digest stands for its facts.
    if (!s || Object.keys(s.facts).length === 0) continue;
    if (s.attempt > 1 && s.facts.reopened === undefined) {
      out.push({
        file: fileOf(s),
        message: `${step.id} has facts for attempt ${s.attempt} but nothing re-opened it (no ${stepEventPath(step.id, s.attempt, 'reopened')})${fix(step.id)}`,
      });
      continue;
    }
    if (s.status === 'pending') continue;
    const open = openNeeds(state, step);
    if (open.length > 0 && !reopenedUnder(state, open)) {
      const what = open.map((n) => `${n} (${state.stepById.get(n)?.status ?? 'pending'})`).join(', ');
      out.push({
        file: fileOf(s),
        message: `${step.id} is recorded ${s.status} in attempt ${s.attempt} but it needs ${what}${fix(step.id)}`,
      });
      continue;
    }
    if (s.status === 'skipped') {
      const why = skipUnbacked(state, step);
      if (why !== undefined)
        out.push({ file: fileOf(s), message: `${step.id} is recorded skipped but ${why}${fix(step.id)}` });
      continue;
    }
    const verify = s.status === 'done' && step.gate ? gateVerifierFor(step.gate.type) : undefined;
    const why = verify?.(gateContext(state, formula, step, s, true, env));
    if (why !== undefined)
      out.push({ file: fileOf(s), message: `${step.id} is recorded done but ${why}${fix(step.id)}` });
  }
  return out;
}

/**
 * Why a recorded skip does not stand, or undefined when it does. The engine skips a step for
 * one reason only: its `condition` is false once its needs are met (planMolecule). So a skip
 * stands when the condition, evaluated again, is false; a step with no condition, or whose
 * condition is true or cannot be told, was never skipped by the engine.
 */
function skipUnbacked(state: MoleculeState, step: ResolvedStep): string | undefined {
  if (step.condition === undefined)
    return 'it has no condition (the engine skips a step only when its condition is false)';
  const verdict = evaluateCondition(step.condition, state, state.meta?.vars ?? {});
  if (verdict === false) return undefined;
  return verdict === true
    ? `its condition ${JSON.stringify(step.condition)} is true`
    : `its condition ${JSON.stringify(step.condition)} cannot be evaluated (the engine treats that as true)`;
}

/**
 * A molecule recorded completed with a step not done or skipped: a re-open merged in after the
 * other clone completed it. Neither fact wins by itself.
 */
function completedButOpen(state: MoleculeState): FileProblem[] {
  if (!state.facts.completed || state.digest) return [];
  const open = state.steps.filter((s) => !SATISFIED.has(s.status));
  if (open.length === 0) return [];
  const what = open.map((s) => `${s.id} (${s.status}, attempt ${s.attempt})`).join(', ');
  return [
    {
      file: `${state.dir}/${moleculeEventPath('completed')}`,
      message: `the molecule is recorded completed but ${what} is not done: a re-open came in after it completed. Remove this file to do the work again, or the re-open's facts to keep it completed`,
    },
  ];
}

const openNeeds = (state: MoleculeState, step: ResolvedStep) =>
  step.needs.filter((n) => !SATISFIED.has(state.stepById.get(n)?.status ?? 'pending'));

/**
 * Every open need was re-opened (it is past attempt 1): facts of the step that needs it predate
 * that re-open, as when one clone re-opens a step while another moves the next one on and the
 * two merge. The re-open would have re-opened this step too had it seen those facts, so the
 * planner does it now instead of calling the state invalid.
 */
const reopenedUnder = (state: MoleculeState, open: readonly string[]) =>
  open.every((n) => (state.stepById.get(n)?.attempt ?? 1) > 1);

function gateContext(
  state: MoleculeState,
  formula: ResolvedFormula,
  step: ResolvedStep,
  s: StepState,
  needsMet: boolean,
  env: PlanEnv,
): GatePlanContext {
  return {
    state,
    formula,
    step,
    stepState: s,
    needsMet,
    vars: state.meta?.vars ?? {},
    env,
    reopen: (stepId, opts) => reopenEffects(state, formula, stepId, opts),
  };
}

export function planMolecule(state: MoleculeState, formula: ResolvedFormula, env: PlanEnv): PlanResult {
  const stopped = stoppedPlan(state, formula, env);
  if (stopped) return stopped;
  const result: PlanResult = { effects: [], status: 'active', notes: {} };
  const vars = state.meta?.vars ?? {};
  const blocked: string[] = [];
  const absorb = (stepId: string | undefined, gp: GatePlan | undefined) => {
    if (!gp) return;
    if (gp.effects) result.effects.push(...gp.effects);
    if (gp.blocked) blocked.push(gp.blocked);
    if (gp.block) (result.blocks ??= []).push(gp.block);
    if (gp.note && stepId) (result.notes[stepId] ??= []).push(gp.note);
    if (gp.recheckAt !== undefined)
      result.recheckAt = Math.min(result.recheckAt ?? Number.POSITIVE_INFINITY, gp.recheckAt);
    if (gp.volatile) result.volatile = true;
    if (gp.problem) (result.problems ??= []).push(gp.problem);
  };

  const stale = new Set<string>();
  for (const step of formula.steps) {
    const s = state.stepById.get(step.id) as StepState;
    const needsMet = step.needs.every((n) => SATISFIED.has(state.stepById.get(n)?.status ?? 'pending'));
    if (!needsMet && hasLiveFacts(s) && !stale.has(step.id)) {
      // Begun under needs that are not done: for a step past pending, unbackedFacts let only
      // re-opened needs through; a pending step with a checkpoint or wait opened is stale too.
      const open = openNeeds(state, step);
      for (const e of reopenEffects(state, formula, step.id, {
        reason: `it needs ${open.join(', ')}, re-opened since`,
        cause: open[0] as string,
      })) {
        stale.add(e.fact.step as string);
        result.effects.push(e);
      }
      continue;
    }
    if (stale.has(step.id)) continue;
    let hold = false;
    if (step.gate) {
      const planner = gatePlannerFor(step.gate.type);
      if (planner) {
        const gp = planner(gateContext(state, formula, step, s, needsMet, env));
        absorb(step.id, gp);
        hold = gp?.holdReady === true;
      } else
        absorb(step.id, {
          note: `gate type "${step.gate.type}" is not executed: the step runs like a normal step`,
        });
    }
    if (s.status !== 'pending' || !needsMet || hold) continue;
    absorb(step.id, readyOrSkipped(state, step, s, vars));
  }

  for (const planner of allMoleculePlanners())
    absorb(
      undefined,
      planner({ state, formula, vars, env, reopen: (id, opts) => reopenEffects(state, formula, id, opts) }),
    );

  const allSettled = state.steps.every((s) => SATISFIED.has(s.status));
  if (allSettled && result.effects.length === 0) {
    result.effects.push({
      type: 'transition',
      molecule: state.id,
      fact: { kind: 'completed', extra: {} },
      summary: `molecule ${state.id} completed`,
    });
  }
  result.status = deriveStatus(state, blocked);
  if (blocked.length > 0) result.blockedReason = blocked.join('; ');
  else if (result.status === 'failed') {
    const failed = state.steps
      .filter((s) => s.status === 'failed')
      .map((s) => `${s.id} (attempt ${s.attempt})`);
    result.blockedReason = `step ${failed.join(', ')} failed`;
  }
  return result;
}

/**
 * The plan of a molecule that does not move: unusable files, cancelled, completed, a fact that
 * cannot stand, or waiting for its `after` molecule. Undefined when it moves.
 */
function stoppedPlan(state: MoleculeState, formula: ResolvedFormula, env: PlanEnv): PlanResult | undefined {
  const result: PlanResult = { effects: [], status: 'active', notes: {} };
  if (state.errors.length > 0) return { ...result, status: 'invalid' };
  if (state.conflicts.length > 0) return { ...result, status: 'conflict' };
  if (state.facts.cancelled) return { ...result, status: 'cancelled' };
  if (state.facts.completed || state.digest) {
    const contradiction = completedButOpen(state);
    return contradiction.length > 0
      ? { ...result, status: 'invalid', problems: contradiction }
      : { ...result, status: 'completed' };
  }
  const problems = unbackedFacts(state, formula, env);
  if (problems.length > 0) return { ...result, status: 'invalid', problems };
  const after = state.meta?.after;
  if (!after) return undefined;
  const other = env.moleculeStatus(after);
  if (other === 'completed') return undefined;
  // A predecessor that can no longer complete blocks for good: say so, not "waiting".
  const why =
    other === undefined
      ? ' (it does not exist)'
      : other === 'failed' || other === 'cancelled' || other === 'invalid'
        ? ` (it is ${other}: this molecule starts only once that one completes with every gate passed)`
        : '';
  return {
    ...result,
    status: 'blocked',
    blockedReason: `waiting for molecule ${after}${why}`,
    waitingFor: after,
  };
}

/** A pending step whose needs are met: skipped when its condition is false, else ready. */
function readyOrSkipped(
  state: MoleculeState,
  step: ResolvedStep,
  s: StepState,
  vars: Record<string, string>,
): GatePlan {
  if (step.condition !== undefined) {
    const verdict = evaluateCondition(step.condition, state, vars);
    if (verdict === false)
      return {
        effects: [
          stepTransition(
            state.id,
            step.id,
            s.attempt,
            'skipped',
            `${step.id} skipped: condition ${JSON.stringify(step.condition)} is false`,
          ),
        ],
      };
    if (verdict === undefined) {
      const ready = readyTransition(state, step, s);
      return {
        effects: [ready],
        note: `condition ${JSON.stringify(step.condition)} was not evaluated (treated as true)`,
      };
    }
  }
  return { effects: [readyTransition(state, step, s)] };
}

function readyTransition(state: MoleculeState, step: ResolvedStep, s: StepState): TransitionEffect {
  const assignee = stepAssignee(step, state);
  const forWhom = assignee ? ` for ${assignee}` : '';
  const again = s.attempt > 1 ? ` (attempt ${s.attempt})` : '';
  return stepTransition(state.id, step.id, s.attempt, 'ready', `${step.id} is ready${forWhom}${again}`, {
    assignee,
  });
}

function deriveStatus(state: MoleculeState, blocked: string[]): MoleculeStatus {
  if (state.steps.some((s) => s.status === 'failed')) return 'failed';
  if (blocked.length > 0) return 'blocked';
  return 'active';
}
