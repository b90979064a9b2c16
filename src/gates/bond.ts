// `on_complete`: one molecule poured per item of a list in the step's output (the bond runner
// creates them while the lock is held), recorded as `bonded` once they all exist.
import type { GatePlan, MoleculePlanContext, RunContext } from '../engine/gates.js';
import { stepTransition } from '../engine/plan.js';
import type { Effect, MoleculeState, RunEffect } from '../engine/types.js';
import { GastownError, isGastownError } from '../errors.js';
import type { OnComplete, ResolvedStep } from '../formula/model.js';
import { outputOf } from './shared.js';
import { ForEachError, forEachSpawns, parseOutputFile } from './waits.js';

/** The molecules `on_complete` asks for, from the step's output: the planner and the runner agree. */
function spawnsOf(state: MoleculeState, stepId: string, oc: OnComplete, attempt: number) {
  const out = outputOf(state, stepId);
  return forEachSpawns(oc, state.id, stepId, out === undefined ? undefined : parseOutputFile(out), attempt);
}

export function planOnComplete(ctx: MoleculePlanContext): GatePlan | undefined {
  const { state, formula, env } = ctx;
  const effects: Effect[] = [];
  const blocked: string[] = [];
  for (const step of formula.steps) {
    const oc = step.on_complete;
    const s = state.stepById.get(step.id);
    if (!oc || !s || s.status !== 'done') continue;
    if (s.facts['bond-failed']) {
      blocked.push(`on_complete of ${step.id}: ${s.facts['bond-failed'].reason ?? 'failed'}`);
      continue;
    }
    if (s.facts.bonded) continue;
    let spawns: ReturnType<typeof forEachSpawns>;
    try {
      spawns = spawnsOf(state, step.id, oc, s.attempt);
    } catch (err) {
      const reason =
        err instanceof ForEachError || isGastownError(err)
          ? (err as Error).message
          : `cannot read the output of ${step.id}: ${(err as Error).message}`;
      effects.push(
        stepTransition(
          state.id,
          step.id,
          s.attempt,
          'bond-failed',
          `on_complete of ${step.id} failed: ${reason}`,
          { reason },
        ),
      );
      continue;
    }
    const missing = spawns.filter((sp) => env.moleculeStatus(sp.id) === undefined);
    if (missing.length > 0) {
      effects.push({
        type: 'run',
        molecule: state.id,
        step: step.id,
        attempt: s.attempt,
        gate: 'bond',
        summary: `${step.id}: create ${missing.map((m) => m.id).join(', ')} from ${oc.bond}`,
      });
    } else {
      effects.push(
        stepTransition(
          state.id,
          step.id,
          s.attempt,
          'bonded',
          `${step.id} spawned ${spawns.length} molecule${spawns.length === 1 ? '' : 's'} from ${oc.bond}`,
          {
            extra: { molecules: spawns.map((sp) => sp.id), formula: oc.bond },
          },
        ),
      );
    }
  }
  if (effects.length === 0 && blocked.length === 0) return undefined;
  return { effects, ...(blocked.length > 0 ? { blocked: blocked.join('; ') } : {}) };
}

export async function runBond(effect: RunEffect, ctx: RunContext): Promise<Effect[]> {
  const state = ctx.state;
  const step = state.formula?.steps.find((s) => s.id === effect.step) as ResolvedStep | undefined;
  const oc = step?.on_complete;
  if (!step || !oc) return [];
  const fail = (reason: string) => [
    stepTransition(
      state.id,
      step.id,
      effect.attempt,
      'bond-failed',
      `on_complete of ${step.id} failed: ${reason}`,
      { reason },
    ),
  ];
  let spawns: ReturnType<typeof forEachSpawns>;
  try {
    spawns = spawnsOf(state, step.id, oc, effect.attempt);
  } catch (err) {
    return fail((err as Error).message);
  }
  // Inside reconcile the lock is held already (and is not reentrant): the locked variant.
  const { createMoleculeLocked } = await import('../engine/molecules.js');
  const { moleculeExists } = await import('../engine/io.js');
  let previous: string | undefined;
  for (const sp of spawns) {
    if (!moleculeExists(ctx.root, sp.id)) {
      try {
        const created = await createMoleculeLocked(ctx.root, {
          formula: sp.formula,
          name: sp.id,
          vars: sp.vars,
          now: ctx.now,
          ...(oc.parallel === false && previous ? { after: previous } : {}),
          ...(state.meta?.convoy ? { convoy: state.meta.convoy } : {}),
        });
        ctx.report?.({ written: created.written, transitions: created.transitions });
      } catch (err) {
        if (!(err instanceof GastownError)) throw err;
        return fail(`creating ${sp.id}: ${err.message}`);
      }
    }
    previous = sp.id;
  }
  return [];
}
