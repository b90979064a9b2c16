// Helpers the gate kinds share: settled statuses, the trust tables of a config, effects that
// re-open a step with its gate, who did the work under review.
import type { TrustConfig } from '../checkpoint/trust.js';
import { eventPathOf } from '../engine/io.js';
import { reopenEffects, stepTransition } from '../engine/plan.js';
import type { MoleculeState, StepState, TransitionEffect, WriteEffect } from '../engine/types.js';
import type { ResolvedFormula } from '../formula/model.js';
import { outputPath } from '../store/layout.js';
import type { GastownConfig } from '../store/types.js';

export const SETTLED = new Set(['done', 'skipped', 'failed']);

export function trustConfigOf(config: GastownConfig): TrustConfig {
  return {
    users: config.users,
    agents: config.agents,
    teams: config.teams,
    engineEmail: config.engine.author_email,
  };
}

export function write(molecule: string, path: string, content: string): WriteEffect {
  return { type: 'write', molecule, path, content };
}

/** The output file a step's assignee wrote for its current attempt, if any. */
export function outputOf(state: MoleculeState, id: string): string | undefined {
  const s = state.stepById.get(id);
  if (!s) return undefined;
  const candidates = [s.facts.done?.output, outputPath(id, s.attempt), `outputs/${id}.md`];
  for (const c of candidates) if (c !== undefined && state.files.has(c)) return state.files.get(c);
  return undefined;
}

/**
 * Re-opens `target` (and everything after it) and makes sure `also` (the gate step itself) gets
 * its next attempt too, even when it has no fact in its current attempt yet or does not need
 * `target`: otherwise the same decision would be acted on again.
 */
export function reopenWith(
  ctx: { state: MoleculeState; formula: ResolvedFormula },
  target: string,
  also: string,
  opts: { reason: string; by?: string; cause: string },
): TransitionEffect[] {
  const effects = reopenEffects(ctx.state, ctx.formula, target, opts);
  if (!effects.some((e) => e.fact.step === also)) {
    const s = ctx.state.stepById.get(also) as StepState;
    effects.push(
      stepTransition(
        ctx.state.id,
        also,
        s.attempt + 1,
        'reopened',
        `${also} re-opened as attempt ${s.attempt + 1} (after ${target})`,
        { cause: target },
      ),
    );
  }
  return effects;
}

/** Who did the steps under review: `by` of their done facts, who started them, their assignee. */
export function doersOf(state: MoleculeState, steps: readonly string[]): string[] {
  const out = new Set<string>();
  for (const id of steps) {
    const s = state.stepById.get(id);
    if (!s) continue;
    for (const who of [s.facts.done?.by, s.facts.started?.by, s.facts.ready?.assignee, s.assignee]) {
      if (!who) continue;
      out.add(who);
      const email = /<([^>]+)>/.exec(who)?.[1];
      if (email) out.add(email);
    }
  }
  return [...out];
}

export const timedOutPath = (step: string, attempt: number) =>
  eventPathOf({ step, attempt, kind: 'timed-out', extra: {} });
