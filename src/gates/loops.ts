// Runtime `until` loops: when the body is done, the loop step is done or its body re-opened.
import type { GatePlan, MoleculePlanContext } from '../engine/gates.js';
import { stepTransition } from '../engine/plan.js';
import type { Effect } from '../engine/types.js';
import { exprContext } from './conditions.js';
import { ExprError } from './expr.js';
import { reopenWith, SETTLED } from './shared.js';
import { decideLoop } from './waits.js';

export function planLoops(ctx: MoleculePlanContext): GatePlan | undefined {
  const { state, formula } = ctx;
  const effects: Effect[] = [];
  const blocked: string[] = [];
  for (const step of formula.steps) {
    if (!step.loop) continue;
    const outer = state.stepById.get(step.id);
    if (!outer || SETTLED.has(outer.status) || outer.status === 'in_progress') continue;
    const body = step.loop.body;
    if (
      !body.every(
        (b) => state.stepById.get(b)?.status === 'done' || state.stepById.get(b)?.status === 'skipped',
      )
    )
      continue;
    const iteration = state.stepById.get(body[0] as string)?.attempt ?? 1;
    let decision: ReturnType<typeof decideLoop>;
    try {
      decision = decideLoop(step.loop, iteration, exprContext(state, step.id));
    } catch (err) {
      if (err instanceof ExprError) {
        blocked.push(`loop ${step.id}: ${err.message}`);
        continue;
      }
      throw err;
    }
    if (decision.action === 'done') {
      effects.push(
        stepTransition(
          state.id,
          step.id,
          outer.attempt,
          'done',
          `${step.id} loop finished: ${decision.reason}`,
          { by: 'loop', reason: decision.reason },
        ),
      );
    } else if (decision.action === 'exhausted') {
      blocked.push(`loop ${step.id}: ${decision.reason}`);
    } else {
      const inside = new Set(body);
      const roots = body.filter(
        (b) => !formula.steps.find((x) => x.id === b)?.needs.some((n) => inside.has(n)),
      );
      const seen = new Set<string>();
      for (const r of roots) {
        for (const e of reopenWith({ state, formula }, r, step.id, {
          reason: decision.reason,
          by: 'loop',
          cause: step.id,
        })) {
          const key = `${e.fact.step}`;
          if (!seen.has(key)) {
            seen.add(key);
            effects.push(e);
          }
        }
      }
    }
  }
  if (effects.length === 0 && blocked.length === 0) return undefined;
  return { effects, ...(blocked.length > 0 ? { blocked: blocked.join('; ') } : {}) };
}
