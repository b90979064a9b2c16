// The molecule gate: a step waits for another molecule to reach a state.
import type { GatePlan, GatePlanContext } from '../engine/gates.js';
import type { MoleculeGate } from '../formula/model.js';
import { evaluateMoleculeWait } from './waits.js';

export function planMoleculeWait(ctx: GatePlanContext): GatePlan | undefined {
  const { step, stepState: s, needsMet, env } = ctx;
  const gate = step.gate as MoleculeGate;
  if (s.status !== 'pending' || !needsMet) return undefined;
  const other = env.moleculeStatus(gate.molecule);
  const w = evaluateMoleculeWait(gate, {
    exists: other !== undefined,
    ...(other !== undefined ? { state: other } : {}),
  });
  // While held, the answer lives in another molecule's folder: never cache this plan.
  return w.ready ? { note: w.reason } : { holdReady: true, note: w.reason, volatile: true };
}
