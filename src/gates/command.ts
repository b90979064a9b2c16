// The command gate: run once per attempt while the applier holds the lock, a report written,
// pass → done, fail → `on_fail` re-opened, up to `max_attempts`.
import { renderFrontMatter } from '../checkpoint/frontmatter.js';
import type { GatePlan, GatePlanContext } from '../engine/gates.js';
import { stepTransition } from '../engine/plan.js';
import type { Effect, MoleculeState, RunEffect } from '../engine/types.js';
import type { CommandGate } from '../formula/model.js';
import { gateReportPath, readGateReport, renderGateReport } from './report.js';
import { runCommandGate } from './runner.js';

import { reopenWith, SETTLED, write } from './shared.js';
import { displayArgv } from './template.js';

/** A command gate recorded done stands when its report for that attempt says it passed. */
export function verifyCommand(ctx: GatePlanContext): string | undefined {
  const { state, step, stepState: s } = ctx;
  const rel = gateReportPath(step.id, s.attempt);
  const text = state.files.get(rel);
  if (text === undefined) return `its gate has no report ${state.dir}/${rel}`;
  try {
    const verdict = readGateReport(text).verdict;
    return verdict === 'pass' ? undefined : `its gate report ${state.dir}/${rel} says ${verdict}`;
  } catch (err) {
    return `its gate report ${state.dir}/${rel} cannot be read: ${(err as Error).message}`;
  }
}

export function reportsOf(state: MoleculeState, stepId: string): { attempt: number; verdict: string }[] {
  const out: { attempt: number; verdict: string }[] = [];
  const prefix = `reports/${stepId}.`;
  for (const [p, t] of state.files) {
    if (!p.startsWith(prefix) || !p.endsWith('.md')) continue;
    const attempt = Number(p.slice(prefix.length, -3));
    if (!Number.isInteger(attempt)) continue;
    try {
      out.push({ attempt, verdict: readGateReport(t).verdict });
    } catch {
      /* reported when it is the current attempt's */
    }
  }
  return out;
}

export function planCommand(ctx: GatePlanContext): GatePlan | undefined {
  const { state, step, stepState: s, needsMet } = ctx;
  const gate = step.gate as CommandGate;
  if (SETTLED.has(s.status) || !needsMet) return undefined;
  const rel = gateReportPath(step.id, s.attempt);
  const text = state.files.get(rel);
  const file = `${state.dir}/${rel}`;
  if (text === undefined) return runPlan(ctx, gate);
  let report: GateReport;
  try {
    report = readGateReport(text);
  } catch (err) {
    const msg = `${file}: ${(err as Error).message}`;
    return { holdReady: true, blocked: msg, note: msg, problem: { file, message: (err as Error).message } };
  }
  const effects: Effect[] = [];
  if (!s.facts.checked) {
    effects.push(
      stepTransition(
        state.id,
        step.id,
        s.attempt,
        'checked',
        `gate ${step.id} attempt ${s.attempt}: ${report.verdict.toUpperCase()}${summaryOf(report)}`,
        {
          reason: report.verdict === 'pass' ? 'pass' : report.reasons.join('; ') || 'fail',
          cause: rel,
        },
      ),
    );
  }
  if (report.verdict === 'pass') {
    effects.push(
      stepTransition(state.id, step.id, s.attempt, 'done', `${step.id} passed its gate${summaryOf(report)}`, {
        by: 'gate',
        cause: rel,
      }),
    );
    return { holdReady: true, effects };
  }
  return failedPlan(ctx, gate, report, effects);
}

type GateReport = ReturnType<typeof readGateReport>;

/** No report for this attempt yet: the gate runs on the next reconcile. */
function runPlan(ctx: GatePlanContext, gate: CommandGate): GatePlan {
  const { state, step, stepState: s } = ctx;
  const cmds = gate.run.map((c) => displayArgv(c)).join('; ');
  const run: RunEffect = {
    type: 'run',
    molecule: state.id,
    step: step.id,
    attempt: s.attempt,
    gate: 'command',
    summary: `gate ${step.id} (attempt ${s.attempt}) runs: ${cmds}`,
  };
  return { holdReady: true, effects: [run], note: `gate runs on the next reconcile: ${cmds}` };
}

/**
 * The report says fail: blocked once `max_attempts` reports failed, else the step fails (no
 * `on_fail` step) or its `on_fail` step is re-opened with the report as feedback.
 */
function failedPlan(
  ctx: GatePlanContext,
  gate: CommandGate,
  report: GateReport,
  effects: Effect[],
): GatePlan {
  const { state, formula, step, stepState: s } = ctx;
  const rel = gateReportPath(step.id, s.attempt);
  const file = `${state.dir}/${rel}`;
  const reasons = report.reasons;
  const failures = reportsOf(state, step.id).filter((r) => r.verdict === 'fail').length;
  const why = reasons.join('; ') || 'the gate failed';
  if (failures >= gate.max_attempts) {
    return {
      holdReady: true,
      effects,
      blocked: `gate ${step.id} failed ${failures} time${failures === 1 ? '' : 's'} (max_attempts ${gate.max_attempts}): ${why}; see ${file}`,
      block: { kind: 'gate-exhausted', step: step.id, failures, maxAttempts: gate.max_attempts },
      note: `failed: ${why}`,
    };
  }
  const target = gate.on_fail;
  if (!target || !state.stepById.has(target)) {
    effects.push(
      stepTransition(state.id, step.id, s.attempt, 'failed', `${step.id} failed its gate: ${why}`, {
        by: 'gate',
        reason: why,
        cause: rel,
      }),
    );
    return { holdReady: true, effects };
  }
  const next = (state.stepById.get(target)?.attempt ?? 1) + 1;
  const feedback = `${renderFrontMatter({ kind: 'gate-failed', gate: step.id, step: target, attempt: next, report: rel })}# Gate ${step.id} failed (attempt ${s.attempt} of ${gate.max_attempts})\n\n${reasons.map((r) => `- ${r}`).join('\n')}\n\nThe full report: \`${rel}\`.\n`;
  effects.push(write(state.id, `feedback/${target}/${next}.gate-failed.md`, feedback));
  effects.push(
    ...reopenWith({ state, formula }, target, step.id, {
      reason: `gate ${step.id} failed: ${why}`,
      by: 'gate',
      cause: rel,
    }),
  );
  return { holdReady: true, effects };
}

function summaryOf(r: GateReport): string {
  const parts: string[] = [];
  if (r.pass_rate !== undefined) parts.push(`pass rate ${r.pass_rate}%`);
  if (r.total !== undefined) parts.push(`${r.passed ?? 0}/${r.total} passed`);
  if (r.forbidden) parts.push(`${r.forbidden} forbidden pattern${r.forbidden === 1 ? '' : 's'}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

export async function runCommand(
  effect: RunEffect,
  ctx: { root: string; state: MoleculeState; signal?: AbortSignal },
): Promise<Effect[]> {
  const step = ctx.state.formula?.steps.find((s) => s.id === effect.step);
  if (step?.gate?.type !== 'command') return [];
  const vars = {
    ...(ctx.state.meta?.vars ?? {}),
    molecule: ctx.state.id,
    step: effect.step,
    attempt: String(effect.attempt),
  };
  const outcome = await runCommandGate(step.gate as CommandGate, {
    root: ctx.root,
    step: effect.step,
    attempt: effect.attempt,
    vars,
    defaultTimeoutMs: 30 * 60_000,
    signal: ctx.signal,
  });
  return [
    write(
      effect.molecule,
      gateReportPath(effect.step, effect.attempt),
      renderGateReport(outcome, effect.molecule),
    ),
  ];
}
