// Expressions over a molecule (vars, outputs, gate reports, step states): runtime `condition`s
// and the context `until` loops are evaluated in.
import type { MoleculeState } from '../engine/types.js';
import { reportsOf } from './command.js';
import { type ExprContext, ExprError, evaluateExpression } from './expr.js';
import { gateReportPath, readGateReport } from './report.js';

import { outputOf } from './shared.js';
import { parseOutputFile } from './waits.js';

export function exprContext(state: MoleculeState, current?: string): ExprContext {
  const outputs: Record<string, Record<string, unknown>> = {};
  const gates: Record<string, Record<string, unknown>> = {};
  const steps: Record<string, { state: string; attempt: number }> = {};
  for (const s of state.steps) {
    steps[s.id] = { state: s.status, attempt: s.attempt };
    const out = outputOf(state, s.id);
    if (out !== undefined) {
      try {
        outputs[s.id] = parseOutputFile(out).data;
      } catch {
        outputs[s.id] = {};
      }
    }
    let latest: number | undefined;
    for (const r of reportsOf(state, s.id))
      if (latest === undefined || r.attempt > latest) latest = r.attempt;
    const text = latest === undefined ? undefined : state.files.get(gateReportPath(s.id, latest));
    if (text !== undefined) gates[s.id] = { ...readGateReport(text) };
  }
  return {
    vars: state.meta?.vars ?? {},
    outputs,
    gates,
    steps,
    ...(current !== undefined ? { current } : {}),
  };
}

export function evaluateRuntimeCondition(
  expression: string,
  c: { state: MoleculeState },
): boolean | undefined {
  try {
    return evaluateExpression(expression, exprContext(c.state)).holds;
  } catch (err) {
    if (err instanceof ExprError) return undefined;
    throw err;
  }
}
