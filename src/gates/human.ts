// The human gate: a checkpoint file opened when the work under review is done, judged from its
// votes and who made them (git facts), approved, rejected or timed out.

import { checkpointDeadline } from '../checkpoint/deadline.js';
import {
  type ApprovalFile,
  checkpointId,
  checkpointPaths,
  parseApproval,
  parseCheckpoint,
  renderCheckpoint,
  renderRejectionFeedback,
  voteText,
} from '../checkpoint/file.js';
import {
  type ApprovalVerdict,
  type JudgedVote,
  judgeApprovals,
  judgeVote,
  type VoteFact,
} from '../checkpoint/trust.js';
import { isInjected } from '../clock.js';
import type { GatePlan, GatePlanContext } from '../engine/gates.js';
import { stepTransition } from '../engine/plan.js';
import type {
  Effect,
  FileProblem,
  GatheredFacts,
  MoleculeState,
  PlanEnv,
  StepState,
} from '../engine/types.js';
import { isGastownError } from '../errors.js';
import type { HumanGate } from '../formula/model.js';
import type { GastownConfig } from '../store/types.js';
import { type GitFacts, gitFacts } from './facts.js';
import { doersOf, outputOf, reopenWith, SETTLED, timedOutPath, trustConfigOf, write } from './shared.js';

export function planHuman(ctx: GatePlanContext): GatePlan | undefined {
  const { state, step, stepState: s, needsMet, env } = ctx;
  const gate = step.gate as HumanGate;
  // A recorded approval resting on an uncommitted vote is judged once that vote is committed
  // (verifyHuman): the same files then mean something else, so this plan is not cached.
  if (s.status === 'done')
    return uncommittedVote(gitFacts(env), s) || uncommittedTimeout(gitFacts(env), s)
      ? { volatile: true }
      : undefined;
  if (SETTLED.has(s.status) || !needsMet) return undefined;
  const id = checkpointId(step.id, s.attempt);
  const rel = checkpointPaths.request(id);
  const file = `${state.dir}/${rel}`;
  const text = state.files.get(rel);
  const who = gate.approvers.length > 0 ? gate.approvers.join(', ') : 'an approver';
  const effects = openingEffects(ctx, id, rel, text === undefined, who);
  if (text === undefined)
    return {
      holdReady: true,
      effects,
      note: `checkpoint ${file} opened: waiting for ${who}`,
      volatile: true,
    };

  const judged = judgeCheckpoint(ctx, id, rel, text);
  if ('error' in judged) {
    // Bad input changes nothing: the checkpoint waits, the molecule says why, advance reports it.
    return {
      holdReady: true,
      effects,
      blocked: judged.error,
      note: judged.error,
      problem: judged.problem,
      volatile: true,
    };
  }
  const notes: string[] = [];
  if (judged.votes === 0)
    notes.push(
      `checkpoint ${file}: waiting for ${who}${gate.min_approvals > 1 ? ` (${gate.min_approvals} approvals)` : ''}`,
    );
  else if (!judged.verdict) {
    notes.push(`decision in ${file} not checked yet (who made it is read from git by \`gastown advance\`)`);
  } else {
    const { verdict, reason } = judged;
    if (verdict.state === 'approved') {
      effects.push(approvedTransition(ctx, verdict, id, rel, reason));
      return { holdReady: true, effects, volatile: true };
    }
    if (verdict.state === 'rejected' && verdict.rejection) {
      const r = verdict.rejection;
      effects.push(...rejectEffects(ctx, id, rel, r.reason || 'rejected', r.who ?? r.email));
      return { holdReady: true, effects, volatile: true };
    }
    notes.push(`checkpoint ${file}: ${verdict.summary}`);
  }

  // With no vote, the plan depends on the checkpoint's files and, under a timeout, on when its
  // request was committed: a time that, once known, is recorded as recheckAt. A vote is judged by
  // who committed it, which the files do not say.
  const plan: GatePlan = { holdReady: true, effects, ...(judged.votes > 0 ? { volatile: true } : {}) };
  // A vote that cannot count whoever made it (its commit also rewrote who may approve) is
  // reported, not only noted: advance and status name the commit and the files.
  const refused = judged.verdict?.votes.find((v) => v.refused !== undefined);
  if (refused) plan.problem = { file: refused.source, message: refused.refused as string };
  if (gate.timeout) planTimeout(ctx, plan, notes, { id, rel, who });
  plan.note = notes.join('; ');
  return plan;
}

/** What opening a checkpoint writes: the request file (when missing) and its `checkpoint` fact. */
function openingEffects(
  ctx: GatePlanContext,
  id: string,
  rel: string,
  missing: boolean,
  who: string,
): Effect[] {
  const { state, step, stepState: s } = ctx;
  const effects: Effect[] = [];
  if (missing) {
    effects.push(
      write(
        state.id,
        rel,
        renderCheckpoint({
          molecule: state.id,
          step: step.id,
          attempt: s.attempt,
          title: step.title || step.id,
          description: step.description,
          gate: step.gate as HumanGate,
          reviewed: step.needs.map((n) => {
            const out = outputOf(state, n);
            return {
              step: n,
              attempt: state.stepById.get(n)?.attempt ?? 1,
              ...(out !== undefined ? { text: out } : {}),
            };
          }),
        }),
      ),
    );
  }
  // The fact makes the checkpoint step part of the attempt history (so re-opening moves it on).
  if (!s.facts.checkpoint) {
    effects.push(
      stepTransition(
        state.id,
        step.id,
        s.attempt,
        'checkpoint',
        `checkpoint ${id} opened: waiting for ${who}`,
        { cause: rel },
      ),
    );
  }
  return effects;
}

/** The step done, approved by the votes that counted. */
function approvedTransition(
  ctx: GatePlanContext,
  verdict: ApprovalVerdict,
  id: string,
  rel: string,
  reason: string | undefined,
): Effect {
  const { state, step, stepState: s } = ctx;
  const by = [
    ...new Set(
      verdict.votes.filter((v) => v.counts && v.decision === 'approved').map((v) => v.who ?? v.email ?? '?'),
    ),
  ].join(', ');
  return stepTransition(
    state.id,
    step.id,
    s.attempt,
    'done',
    `${step.id} approved by ${by} (checkpoint ${id})`,
    {
      by,
      cause: rel,
      reason,
    },
  );
}

/** A checkpoint with a timeout: escalated once timed out, timed out once overdue, else its deadline. */
function planTimeout(
  ctx: GatePlanContext,
  plan: GatePlan,
  notes: string[],
  at: { id: string; rel: string; who: string },
): void {
  const { state, stepState: s, env } = ctx;
  const gate = ctx.step.gate as HumanGate;
  const timeout = gate.timeout as string;
  if (s.facts['timed-out']) {
    if (gate.on_timeout === 'escalate') {
      plan.blocked = `checkpoint ${at.id} of ${state.id} had no decision within ${timeout}: escalated to ${at.who}`;
      plan.block = { kind: 'checkpoint-overdue', step: ctx.step.id, checkpoint: at.id, timeout };
    }
    return;
  }
  const d = checkpointDeadline(timeout, gitFacts(env)?.committedAt.get(at.rel), env.now);
  if (d.overdue) (plan.effects ??= []).push(...timeoutEffects(ctx, at.id, at.rel));
  else {
    notes.push(d.summary);
    if (d.deadline) plan.recheckAt = d.deadline.getTime();
    else plan.volatile = true; // the clock starts when the request is committed
  }
}

type CheckpointJudgement =
  | { error: string; problem: FileProblem }
  /** `verdict` is absent when no git facts were gathered (who decided is not known). */
  | { votes: number; verdict?: ApprovalVerdict; reason?: string };

// A file's parse depends only on its path and bytes, and a run plans a molecule several times
// (its rounds, then the check of recorded facts): each checkpoint and approval is parsed once.
// Bounded, for the watcher's long-lived process.
const parsed = new Map<string, { value: unknown } | { error: unknown }>();
function parsedOnce<T>(file: string, text: string, parse: (file: string, text: string) => T): T {
  const key = `${file}\0${text}`;
  let hit = parsed.get(key);
  if (!hit) {
    try {
      hit = { value: parse(file, text) };
    } catch (error) {
      hit = { error };
    }
    if (parsed.size >= 4096) parsed.clear();
    parsed.set(key, hit);
  }
  if ('error' in hit) throw hit.error;
  return hit.value as T;
}

/** The checkpoint's votes (its decision and every approvals file), judged by who made them. */
function judgeCheckpoint(ctx: GatePlanContext, id: string, rel: string, text: string): CheckpointJudgement {
  const { state, step, env } = ctx;
  const file = `${state.dir}/${rel}`;
  let votes: { file: ApprovalFile; rel: string }[];
  try {
    const cp = parsedOnce(file, text, parseCheckpoint);
    votes =
      cp.decision === 'pending'
        ? []
        : [{ file: { file, decision: cp.decision, reason: cp.reason, note: cp.note }, rel }];
    const dir = `${checkpointPaths.approvalsDir(id)}/`;
    for (const [p, t] of state.files)
      if (p.startsWith(dir) && p.endsWith('.md'))
        votes.push({ file: parsedOnce(`${state.dir}/${p}`, t, parseApproval), rel: p });
  } catch (err) {
    if (!isGastownError(err)) throw err;
    const { file: where = file, path } = err.location;
    return {
      error: err.toString(),
      problem: { file: where, message: err.message, ...(path ? { path } : {}) },
    };
  }
  const facts = gitFacts(env);
  if (votes.length === 0 || !facts) return { votes: votes.length };
  const voteFacts: VoteFact[] = votes.map(({ file: v, rel: p }) => {
    const a = facts.authors.get(p) ?? { committed: false };
    const t = facts.trust.get(p);
    return {
      decision: v.decision,
      reason: voteText(v),
      source: v.file,
      committed: a.committed,
      ...(a.email ? { email: a.email } : {}),
      ...(a.commit ? { commit: a.commit } : {}),
      ...(t?.config ? { config: t.config } : {}),
      ...(t?.refused ? { refused: t.refused } : {}),
    };
  });
  const verdict = judgeApprovals({
    policy: step.gate as HumanGate,
    config: trustConfigOf(env.config),
    votes: voteFacts,
    doers: doersOf(state, step.needs),
    reviewed: step.needs,
  });
  const reason = votes.map((v) => voteText(v.file)).find((r) => r !== '');
  return { votes: votes.length, verdict, ...(reason !== undefined ? { reason } : {}) };
}

/** A read-only context for judging one step's checkpoint outside a plan (the CLI's views). */
function viewContext(
  state: MoleculeState,
  stepId: string,
  config: GastownConfig,
  facts?: GatheredFacts,
): GatePlanContext | undefined {
  const formula = state.formula;
  const step = formula?.steps.find((s) => s.id === stepId);
  const s = state.stepById.get(stepId);
  if (!formula || !step || step.gate?.type !== 'human' || !s) return undefined;
  const env: PlanEnv = {
    config,
    now: new Date(0),
    moleculeStatus: () => undefined,
    ...(facts ? { facts } : {}),
  };
  return {
    state,
    formula,
    step,
    stepState: s,
    needsMet: true,
    vars: state.meta?.vars ?? {},
    env,
    reopen: () => [],
  };
}

/**
 * The engine's judgement of the votes on a step's current checkpoint, as the planner makes it:
 * undefined when the step has no human gate; `verdict` absent while nobody voted or when no
 * facts from git are given (engine/verdict.ts judgeState gathers them).
 */
export function checkpointJudgement(
  state: MoleculeState,
  stepId: string,
  config: GastownConfig,
  facts: GatheredFacts | undefined,
): { error: string } | { votes: number; verdict?: ApprovalVerdict } | undefined {
  const ctx = viewContext(state, stepId, config, facts);
  if (!ctx) return undefined;
  const id = checkpointId(stepId, ctx.stepState.attempt);
  const rel = checkpointPaths.request(id);
  const text = state.files.get(rel);
  if (text === undefined) return { votes: 0 };
  const judged = judgeCheckpoint(ctx, id, rel, text);
  return 'error' in judged ? { error: judged.error } : judged;
}

/**
 * How the engine would judge `vote` on the step's current checkpoint (the frozen formula's
 * approvers, who did the work under review): `checkpoint approve|reject` asks before writing.
 */
export function judgeCheckpointVote(
  state: MoleculeState,
  stepId: string,
  config: GastownConfig,
  vote: VoteFact,
): JudgedVote | undefined {
  const ctx = viewContext(state, stepId, config);
  if (!ctx) return undefined;
  return judgeVote(
    {
      policy: ctx.step.gate as HumanGate,
      config: trustConfigOf(config),
      doers: doersOf(state, ctx.step.needs),
      reviewed: ctx.step.needs,
    },
    vote,
  );
}

/** Whether any vote on the step's current checkpoint is a working-tree edit (gathered facts). */
function uncommittedVote(facts: GitFacts | undefined, s: StepState): boolean {
  if (!facts) return false;
  const id = checkpointId(s.id, s.attempt);
  const request = checkpointPaths.request(id);
  const dir = `${checkpointPaths.approvalsDir(id)}/`;
  for (const [rel, a] of facts.authors)
    if ((rel === request || rel.startsWith(dir)) && !a.committed) return true;
  return false;
}

/** A timeout approval not committed yet: checked against commit times once it is (verifyHuman). */
function uncommittedTimeout(facts: GitFacts | undefined, s: StepState): boolean {
  if (!facts || s.facts.done?.by !== 'timeout') return false;
  const rel = timedOutPath(s.id, s.attempt);
  return facts.authoredAt.has(rel) && facts.authoredAt.get(rel) === undefined;
}

/**
 * A checkpoint step recorded done stands when a counted approval backs it, or when its
 * deadline passed under `on_timeout = "approve"`. Judged again from the files and git, so a
 * done fact written by hand (or an approval made by someone not allowed to give it) does not
 * pass the checkpoint.
 */
export function verifyHuman(ctx: GatePlanContext): string | undefined {
  const { state, step, stepState: s } = ctx;
  const gate = step.gate as HumanGate;
  const id = checkpointId(step.id, s.attempt);
  const rel = checkpointPaths.request(id);
  const text = state.files.get(rel);
  if (text === undefined) return `there is no checkpoint ${state.dir}/${rel} for it`;
  const facts = gitFacts(ctx.env);
  // Who decided is read from git by advance and doctor; a shallow clone (CI at depth 1) cannot
  // tell, as its oldest commit seems to add every file: checked where the history is.
  if (!facts || facts.shallow) return undefined;
  if (s.facts.done?.by === 'timeout') {
    if (gate.on_timeout !== 'approve' || !s.facts['timed-out'])
      return `by timeout, and checkpoint ${id} does not approve on timeout`;
    return timeoutUnbacked(ctx, facts, gate, rel);
  }
  const judged = judgeCheckpoint(ctx, id, rel, text);
  if ('error' in judged) return judged.error;
  const verdict = judged.verdict;
  if (!verdict) return `no approval is recorded in ${state.dir}/${rel}`;
  if (verdict.state === 'approved') return undefined;
  // An uncommitted decision belongs to whoever runs this process, which need not be who made it
  // (a person approves, an agent runs the next command in the same clone): judged once committed.
  if (verdict.votes.some((v) => !v.committed)) return undefined;
  return `no counted approval backs it: ${verdict.summary} (an approver's own vote fixes that: \`gastown checkpoint approve ${state.id} ${step.id}\`, committed by them)`;
}

/**
 * An approval by timeout, checked again from commit times: the request's commit plus the timeout
 * must not be later than the commit that recorded the timeout (or, not committed yet, than now).
 * Author times, which a rebase keeps (a rebase rewrites committer times); `git rebase
 * --ignore-date` resets them and makes such an approval fail this check.
 */
function timeoutUnbacked(
  ctx: GatePlanContext,
  facts: GitFacts,
  gate: HumanGate,
  rel: string,
): string | undefined {
  const { state, step, stepState: s, env } = ctx;
  const requested = facts.authoredAt.get(rel);
  const file = `${state.dir}/${rel}`;
  if (!requested)
    return `it was approved by timeout while ${file} is not committed, so its ${gate.timeout} clock never started`;
  const d = checkpointDeadline(gate.timeout as string, requested, env.now);
  const factRel = timedOutPath(step.id, s.attempt);
  const decided = facts.authoredAt.get(factRel);
  const at = decided ?? env.now;
  if (!d.deadline || at.getTime() >= d.deadline.getTime()) return undefined;
  const when = decided
    ? `the commit that added ${state.dir}/${factRel} is from ${at.toISOString()}`
    : `it is ${at.toISOString()} now`;
  return `it was approved by timeout before its deadline: ${file} was committed at ${requested.toISOString()}, its ${gate.timeout} timeout ends at ${d.deadline.toISOString()}, and ${when}`;
}

/** A rejection: feedback for the assignee, `on_reject` and everything after it re-opened. */
function rejectEffects(
  ctx: GatePlanContext,
  id: string,
  rel: string,
  reason: string,
  by: string | undefined,
): Effect[] {
  const { state, formula, step, stepState: s } = ctx;
  const gate = step.gate as HumanGate;
  const target = gate.on_reject;
  if (!target || !state.stepById.has(target)) {
    return [
      stepTransition(
        state.id,
        step.id,
        s.attempt,
        'failed',
        `${step.id} rejected (checkpoint ${id}): ${reason}`,
        { by, reason, cause: rel },
      ),
    ];
  }
  const next = (state.stepById.get(target)?.attempt ?? 1) + 1;
  return [
    write(
      state.id,
      checkpointPaths.rejection(target, next),
      renderRejectionFeedback({ checkpoint: id, step: target, attempt: next, reason, ...(by ? { by } : {}) }),
    ),
    ...reopenWith({ state, formula }, target, step.id, {
      reason: `checkpoint ${id} rejected: ${reason}`,
      ...(by ? { by } : {}),
      cause: rel,
    }),
  ];
}

/** The deadline passed with no decision: record it once, then escalate, reject or approve. */
function timeoutEffects(ctx: GatePlanContext, id: string, rel: string): Effect[] {
  const { state, step, stepState: s } = ctx;
  const gate = step.gate as HumanGate;
  const reason = `no decision within ${gate.timeout}`;
  // A test clock (src/clock.ts) decided this: the facts say so, and doctor reports them.
  const marker: Record<string, string> = isInjected(ctx.env.now) ? { clock: 'injected' } : {};
  const fact = stepTransition(
    state.id,
    step.id,
    s.attempt,
    'timed-out',
    `checkpoint ${id} timed out (${reason}): ${gate.on_timeout}`,
    {
      reason,
      cause: rel,
      extra: { action: gate.on_timeout, ...marker },
    },
  );
  if (gate.on_timeout === 'approve')
    return [
      fact,
      stepTransition(
        state.id,
        step.id,
        s.attempt,
        'done',
        `${step.id} approved by timeout (checkpoint ${id})`,
        { by: 'timeout', reason, cause: rel, extra: marker },
      ),
    ];
  if (gate.on_timeout === 'reject')
    return [fact, ...rejectEffects(ctx, id, rel, `timed out: ${reason}`, 'timeout')];
  return [fact];
}
