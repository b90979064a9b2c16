// plan: a molecule's state → what must happen next. Pure: the clock, config and other
// molecules' states come in through `env`; nothing here touches the disk.
import type { ResolvedFormula, ResolvedStep } from '../formula/model.js';
import type { EventFact, GastownConfig } from '../store/types.js';
import { allMoleculePlanners, currentConditionEvaluator, type GatePlan, gatePlannerFor } from './gates.js';
import type {
  Effect,
  MoleculeState,
  MoleculeStatus,
  PlanEnv,
  PlanResult,
  StepState,
  TransitionEffect,
} from './types.js';

const SATISFIED = new Set(['done', 'skipped']);

/** `{{name}}` → the var's value; unknown names stay as they are. */
export function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g, (whole, name: string) => vars[name] ?? whole);
}

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
    const live = Object.keys(s.facts).some((k) => k !== 'reopened');
    if (!live) continue;
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
  const text = substitute(expression, vars).trim();
  const literal = literalTruth(text);
  if (literal !== undefined) return literal;
  const cmp = /^(.*?)\s*(==|!=)\s*(.*)$/.exec(text);
  if (cmp && !/\{\{/.test(text) && isPlainOperand(cmp[1] as string) && isPlainOperand(cmp[3] as string)) {
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
const isPlainOperand = (s: string) => /^("[^"]*"|'[^']*'|[A-Za-z0-9_.:/@+-]*)$/.test(s.trim());
const unquote = (s: string) => s.trim().replace(/^(["'])(.*)\1$/, '$2');

export function stepAssignee(step: ResolvedStep, state: MoleculeState): string | undefined {
  const vars = state.meta?.vars ?? {};
  if (step.assignee) {
    const a = substitute(step.assignee, vars).trim();
    if (a !== '' && !a.includes('{{')) return a;
  }
  return state.meta?.assignee;
}

export function planMolecule(state: MoleculeState, formula: ResolvedFormula, env: PlanEnv): PlanResult {
  const result: PlanResult = { effects: [], status: 'active', notes: {} };
  const note = (step: string, text: string) => {
    (result.notes[step] ??= []).push(text);
  };
  if (state.errors.length > 0) return { ...result, status: 'invalid' };
  if (state.conflicts.length > 0) return { ...result, status: 'conflict' };
  if (state.facts.cancelled) return { ...result, status: 'cancelled' };
  if (state.facts.completed || state.digest) return { ...result, status: 'completed' };

  const meta = state.meta;
  if (meta?.after) {
    const other = env.moleculeStatus(meta.after);
    if (other !== 'completed') {
      const why = other === undefined ? ' (it does not exist)' : '';
      return { ...result, status: 'blocked', blockedReason: `waiting for molecule ${meta.after}${why}` };
    }
  }

  const vars = meta?.vars ?? {};
  const reopen = (stepId: string, opts: { reason?: string; by?: string; cause?: string }) =>
    reopenEffects(state, formula, stepId, opts);
  const blocked: string[] = [];
  const absorb = (stepId: string | undefined, gp: GatePlan | undefined) => {
    if (!gp) return;
    if (gp.effects) result.effects.push(...gp.effects);
    if (gp.blocked) blocked.push(gp.blocked);
    if (gp.note && stepId) note(stepId, gp.note);
    if (gp.recheckAt !== undefined)
      result.recheckAt = Math.min(result.recheckAt ?? Number.POSITIVE_INFINITY, gp.recheckAt);
    if (gp.volatile) result.volatile = true;
  };

  for (const step of formula.steps) {
    const s = state.stepById.get(step.id) as StepState;
    const needsMet = step.needs.every((n) => SATISFIED.has(state.stepById.get(n)?.status ?? 'pending'));
    let hold = false;
    if (step.gate) {
      const planner = gatePlannerFor(step.gate.type);
      if (planner) {
        const gp = planner({ state, formula, step, stepState: s, needsMet, vars, env, reopen });
        absorb(step.id, gp);
        hold = gp?.holdReady === true;
      } else {
        note(step.id, `gate type "${step.gate.type}" is not executed: the step runs like a normal step`);
      }
    }
    if (s.status !== 'pending' || !needsMet || hold) continue;
    if (step.condition !== undefined) {
      const verdict = evaluateCondition(step.condition, state, vars);
      if (verdict === false) {
        result.effects.push(
          stepTransition(
            state.id,
            step.id,
            s.attempt,
            'skipped',
            `${step.id} skipped: condition ${JSON.stringify(step.condition)} is false`,
          ),
        );
        continue;
      }
      if (verdict === undefined)
        note(step.id, `condition ${JSON.stringify(step.condition)} was not evaluated (treated as true)`);
    }
    const assignee = stepAssignee(step, state);
    const forWhom = assignee ? ` for ${assignee}` : '';
    const again = s.attempt > 1 ? ` (attempt ${s.attempt})` : '';
    result.effects.push(
      stepTransition(state.id, step.id, s.attempt, 'ready', `${step.id} is ready${forWhom}${again}`, {
        assignee,
      }),
    );
  }

  for (const planner of allMoleculePlanners())
    absorb(undefined, planner({ state, formula, vars, env, reopen }));

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

function deriveStatus(state: MoleculeState, blocked: string[]): MoleculeStatus {
  if (state.steps.some((s) => s.status === 'failed')) return 'failed';
  if (blocked.length > 0) return 'blocked';
  return 'active';
}
