// The timer gate: a step waits its timeout from the commit that recorded `waiting`.
import type { GatePlan, GatePlanContext } from '../engine/gates.js';
import { eventPathOf } from '../engine/io.js';
import { stepTransition } from '../engine/plan.js';
import type { TimerGate } from '../formula/model.js';
import { gitFacts } from './facts.js';
import { evaluateTimer } from './waits.js';

export function planTimer(ctx: GatePlanContext): GatePlan | undefined {
  const { state, step, stepState: s, needsMet, env } = ctx;
  const gate = step.gate as TimerGate;
  if (s.status !== 'pending' || !needsMet) return undefined;
  if (!s.facts.waiting) {
    return {
      holdReady: true,
      effects: [
        stepTransition(state.id, step.id, s.attempt, 'waiting', `${step.id} waits ${gate.timeout} (timer)`),
      ],
      note: `timer ${gate.timeout} starts`,
    };
  }
  const rel = eventPathOf({ step: step.id, attempt: s.attempt, kind: 'waiting', extra: {} });
  const t = evaluateTimer(gate, gitFacts(env)?.committedAt.get(rel), env.now);
  if (t.ready) return { note: t.reason, volatile: true };
  return {
    holdReady: true,
    note: t.reason,
    volatile: true,
    ...(t.due ? { recheckAt: t.due.getTime() } : {}),
  };
}
