// The typed messages a reconcile round sends (docs/mail.md, "Typed messages"): from a molecule's
// state and the effects its plan is about to apply, the mail effects to apply first. Pure. Each
// message is named by what it is about (typed.ts), so planning it again after a crash, or on
// another clone, writes nothing new.
import { checkpointPaths, parseCheckpointId } from '../checkpoint/file.js';
import type { MailEffect, MoleculeState, PlanResult } from '../engine/types.js';
import type { HumanGate, ResolvedStep } from '../formula/model.js';
import { substituteVars as substitute } from '../formula/vars.js';
import { readGateReport } from '../gates/report.js';
import { outputPath } from '../store/layout.js';
import type { EventFact, GastownConfig } from '../store/types.js';
import { planTransitionMail, type TransitionFacts } from './typed.js';

/** Who works on a step: who claimed or was given its attempt, else who the formula names. */
function assigneeOf(state: MoleculeState, step: ResolvedStep | undefined): string | undefined {
  if (!step) return undefined;
  const s = state.stepById.get(step.id);
  const recorded = s?.facts.started?.by ?? s?.facts.ready?.assignee ?? s?.facts.done?.by ?? s?.assignee;
  if (recorded !== undefined) return recorded;
  const vars = state.meta?.vars ?? {};
  const named = step.assignee ? substitute(step.assignee, vars).trim() : '';
  return named !== '' && !named.includes('{{') ? named : state.meta?.assignee;
}

/** The output a step's current attempt stored, as checkpoint requests quote it. */
function outputOf(state: MoleculeState, id: string): { path: string; text?: string } | undefined {
  const s = state.stepById.get(id);
  if (!s) return undefined;
  for (const rel of [s.facts.done?.output, outputPath(id, s.attempt), `outputs/${id}.md`]) {
    if (rel === undefined) continue;
    const text = state.files.get(rel);
    if (text !== undefined) return { path: `${state.dir}/${rel}`, text };
  }
  return undefined;
}

/** `checkpoint plan-checkpoint rejected: why` → `why` (the words the person wrote). */
function rejectionReason(fact: EventFact, checkpoint: string): string | undefined {
  const prefix = `checkpoint ${checkpoint} rejected: `;
  return fact.reason?.startsWith(prefix) ? fact.reason.slice(prefix.length) : fact.reason;
}

function gateSummary(
  state: MoleculeState,
  reportRel: string | undefined,
): { path: string; summary?: string } | undefined {
  if (reportRel === undefined) return undefined;
  const path = `${state.dir}/${reportRel}`;
  const text = state.files.get(reportRel);
  if (text === undefined) return { path };
  try {
    const r = readGateReport(text);
    const head = [
      `verdict: ${r.verdict}`,
      ...(r.pass_rate !== undefined ? [`pass rate: ${r.pass_rate}%`] : []),
      ...(r.total !== undefined ? [`passed: ${r.passed ?? 0} of ${r.total}`] : []),
    ];
    return { path, summary: [...head, ...r.reasons.map((x) => `- ${x}`)].join('\n') };
  } catch {
    return { path };
  }
}

/** A planned fact about a step, with the fields every message about that step carries. */
interface StepFact {
  state: MoleculeState;
  fact: EventFact;
  step: ResolvedStep;
  attempt: number;
  at: { molecule: string; owner?: string; step: string; attempt: number; title: string };
  /** The checkpoint request the fact names as its cause, repo-relative. */
  checkpointFile: string | undefined;
}

/** Who worked on the steps a checkpoint reviews, else the molecule's assignee. */
function reviewedAssignee(state: MoleculeState, step: ResolvedStep): string | undefined {
  return (
    step.needs
      .map((n) =>
        assigneeOf(
          state,
          state.formula?.steps.find((s) => s.id === n),
        ),
      )
      .find((a) => a) ?? state.meta?.assignee
  );
}

function stepReadyMail({ state, fact, step, at }: StepFact): TransitionFacts {
  const vars = state.meta?.vars ?? {};
  const assignee = fact.assignee ?? assigneeOf(state, step);
  return {
    type: 'STEP_READY',
    ...at,
    ...(step.description ? { description: substitute(step.description, vars) } : {}),
    ...(assignee !== undefined ? { assignee } : {}),
  };
}

function checkpointReadyMail({ state, step, at, checkpointFile }: StepFact): TransitionFacts | undefined {
  if (step.gate?.type !== 'human') return undefined;
  const outputs = step.needs.map((n) => outputOf(state, n)).filter((o) => o !== undefined);
  const assignee = reviewedAssignee(state, step);
  return {
    type: 'CHECKPOINT_READY',
    ...at,
    approvers: (step.gate as HumanGate).approvers,
    ...(checkpointFile ? { checkpoint: checkpointFile } : {}),
    ...(outputs.length > 0 ? { outputs } : {}),
    ...(assignee !== undefined ? { assignee } : {}),
  };
}

function checkpointDecidedMail({
  state,
  fact,
  step,
  at,
  checkpointFile,
}: StepFact): TransitionFacts | undefined {
  if (step.gate?.type !== 'human') return undefined;
  const assignee = reviewedAssignee(state, step);
  return {
    type: 'CHECKPOINT_DECIDED',
    ...at,
    decision: fact.kind === 'done' ? 'approved' : 'rejected',
    ...(fact.by !== undefined ? { by: fact.by } : {}),
    ...(fact.reason !== undefined ? { reason: fact.reason } : {}),
    ...(checkpointFile ? { checkpoint: checkpointFile } : {}),
    ...(assignee !== undefined ? { assignee } : {}),
  };
}

/** A rejection re-opens the step under review with the checkpoint request as its cause. */
function rejectedReopenMail({
  state,
  fact,
  step,
  attempt,
  checkpointFile,
}: StepFact): TransitionFacts | undefined {
  if (!checkpointFile || !fact.cause) return undefined;
  const molecule = state.id;
  const owner = state.meta?.owner;
  const id = fact.cause.slice('checkpoints/'.length, -'.md'.length);
  const cp = parseCheckpointId(id);
  const cpStep = state.formula?.steps.find((s) => s.id === cp.step);
  const assignee = assigneeOf(state, step);
  const reason = rejectionReason(fact, id);
  const feedback = `${state.dir}/${checkpointPaths.rejection(step.id, attempt)}`;
  return {
    type: 'CHECKPOINT_DECIDED',
    molecule,
    ...(owner !== undefined ? { owner } : {}),
    step: cp.step,
    attempt: cp.attempt,
    title: cpStep?.title || cp.step,
    decision: 'rejected',
    ...(fact.by !== undefined ? { by: fact.by } : {}),
    reason: `${reason ?? 'rejected'}\n\n${step.id} is re-opened as attempt ${attempt} for you; the feedback is in \`${feedback}\` (\`gastown step show ${molecule} ${step.id}\`).`,
    checkpoint: checkpointFile,
    ...(assignee !== undefined ? { assignee } : {}),
  };
}

/** A command gate's run failed: sent to whoever does the step it sends the work back to. */
function gateFailedMail({ state, fact, step, at }: StepFact): TransitionFacts | undefined {
  if (step.gate?.type !== 'command' || fact.reason === 'pass') return undefined;
  const target = (step.gate as { on_fail?: string }).on_fail;
  const back = target ? state.formula?.steps.find((s) => s.id === target) : undefined;
  const assignee = assigneeOf(state, back ?? step);
  const report = gateSummary(state, fact.cause);
  return {
    type: 'GATE_FAILED',
    ...at,
    reason: back
      ? `${back.id} is re-opened for you: fix what the report lists (\`gastown step show ${state.id} ${back.id}\`).`
      : (fact.reason ?? 'the gate failed'),
    ...(report ? { report } : {}),
    ...(assignee !== undefined ? { assignee } : {}),
  };
}

/** What one planned fact means for mail; undefined when it sends none. */
function factMail(state: MoleculeState, fact: EventFact): TransitionFacts | undefined {
  const owner = state.meta?.owner;
  const common = { molecule: state.id, ...(owner !== undefined ? { owner } : {}) };
  if (fact.step === undefined)
    return fact.kind === 'completed' ? { type: 'MOLECULE_DONE', ...common } : undefined;
  const step = state.formula?.steps.find((s) => s.id === fact.step);
  if (!step) return undefined;
  const attempt = fact.attempt ?? 1;
  const about: StepFact = {
    state,
    fact,
    step,
    attempt,
    at: { ...common, step: step.id, attempt, title: step.title || step.id },
    checkpointFile: fact.cause?.startsWith('checkpoints/') ? `${state.dir}/${fact.cause}` : undefined,
  };
  switch (fact.kind) {
    case 'ready':
      return stepReadyMail(about);
    case 'checkpoint':
      return checkpointReadyMail(about);
    case 'done':
    case 'failed':
      return checkpointDecidedMail(about);
    case 'reopened':
      return rejectedReopenMail(about);
    case 'checked':
      return gateFailedMail(about);
    default:
      return undefined;
  }
}

/**
 * The mail effects for one reconcile round: a message for each fact the plan is about to record
 * that someone is to hear of (a step ready, a checkpoint opened or decided, a gate failed, the
 * molecule done), and BLOCKED while the molecule is blocked or failed (named by the reason, so
 * it is written once per reason). Waiting for another molecule (`after`) is not a block worth
 * mail, and a block on a file that cannot be read is bad input, which changes nothing. Recipients
 * the config has no mailbox for get no copy.
 */
export function reconcileMail(state: MoleculeState, plan: PlanResult, config: GastownConfig): MailEffect[] {
  if (!state.formula) return [];
  const wanted: TransitionFacts[] = [];
  for (const e of plan.effects) {
    if (e.type !== 'transition') continue;
    const m = factMail(state, e.fact);
    if (m) wanted.push(m);
  }
  // Blocked on a file that cannot be read is bad input: reported, and nothing is written for it.
  const badInput = (plan.problems?.length ?? 0) > 0;
  if (
    (plan.status === 'blocked' || plan.status === 'failed') &&
    plan.blockedReason &&
    !plan.waitingFor &&
    !badInput
  ) {
    const assignee = state.meta?.assignee;
    wanted.push({
      type: 'BLOCKED',
      molecule: state.id,
      reason: plan.blockedReason,
      ...(state.meta?.owner !== undefined ? { owner: state.meta.owner } : {}),
      ...(assignee !== undefined ? { assignee } : {}),
    });
  }
  const out: MailEffect[] = [];
  const seen = new Set<string>();
  for (const facts of wanted) {
    for (const f of planTransitionMail(facts, config).files) {
      if (seen.has(f.path)) continue;
      seen.add(f.path);
      out.push({ type: 'mail', molecule: state.id, ...f, summary: `mail ${f.id} to ${f.mailbox}` });
    }
  }
  return out;
}
