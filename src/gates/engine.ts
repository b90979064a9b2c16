// The gate plugin: checkpoints (human gates), command gates, timers, molecule waits, runtime
// `until` loops, `on_complete` and runtime conditions, wired into the engine's registry
// (src/engine/gates.ts). Planners are pure over the molecule's files plus facts gathered from
// git just before planning (who made a decision, when a request was committed); the command
// gate runs while the applier holds the lock, once per attempt.
import { createHash } from 'node:crypto';
import {
  configAt,
  type DecisionAuthor,
  decisionAuthor,
  decisionIn,
  firstCommitTime,
} from '../checkpoint/authors.js';
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
import { renderFrontMatter } from '../checkpoint/frontmatter.js';
import {
  type ApprovalVerdict,
  type JudgedVote,
  judgeApprovals,
  judgeVote,
  type TrustConfig,
  type VoteFact,
} from '../checkpoint/trust.js';
import { isInjected } from '../clock.js';
import {
  factKey,
  factsFor,
  type GatePlan,
  type GatePlanContext,
  type GatherContext,
  type MoleculePlanContext,
  type RunContext,
  registerConditionEvaluator,
  registerFactGatherer,
  registerGatePlanner,
  registerGateRunner,
  registerGateVerifier,
  registerMoleculePlanner,
} from '../engine/gates.js';
import { eventPathOf } from '../engine/io.js';
import { reopenEffects, stepTransition } from '../engine/plan.js';
import type {
  Effect,
  FileProblem,
  GatheredFacts,
  MoleculeState,
  PlanEnv,
  RunEffect,
  StepState,
  TransitionEffect,
  WriteEffect,
} from '../engine/types.js';
import { GastownError, isGastownError } from '../errors.js';
import { canonicalJson } from '../formula/hash.js';
import type {
  CommandGate,
  HumanGate,
  MoleculeGate,
  OnComplete,
  ResolvedFormula,
  ResolvedStep,
  TimerGate,
} from '../formula/model.js';
import { isShallowClone, readHead } from '../git/head.js';
import { defaultConfig, parseConfig } from '../store/config.js';
import { CONFIG_FILE, outputPath } from '../store/layout.js';
import type { GastownConfig } from '../store/types.js';
import { type ExprContext, ExprError, evaluateExpression } from './expr.js';
import { gateReportPath, readGateReport, renderGateReport } from './report.js';
import { runCommandGate } from './runner.js';
import { displayArgv } from './template.js';
import {
  decideLoop,
  evaluateDeadline,
  evaluateMoleculeWait,
  evaluateTimer,
  ForEachError,
  forEachSpawns,
  parseOutputFile,
} from './waits.js';

// ---------------------------------------------------------------------------------------------
// Facts from git, gathered before planning (the planner itself stays pure).

interface GitFacts {
  /** Molecule-relative path of a decision file → who set its decision. */
  authors: Map<string, DecisionAuthor>;
  /** Molecule-relative path of a decision file → the trust configuration it is judged against. */
  trust: Map<string, VoteTrust>;
  /** Molecule-relative path → committer time of the commit that added it (undefined: not committed). */
  committedAt: Map<string, Date | undefined>;
  /** The same with author times, which a rebase keeps: what a timeout approval is checked by. */
  authoredAt: Map<string, Date | undefined>;
  /** A shallow clone: a decision made past its boundary is attributed to the boundary commit. */
  shallow: boolean;
}

/** Where the planners find these facts in `PlanEnv.facts`. */
export const GIT_FACTS = factKey<GitFacts>('checkpoints');
const gitFacts = (env: PlanEnv): GitFacts | undefined => factsFor(env, GIT_FACTS);
// Within one process a file's author and first commit do not change; remember them across rounds.
const authorMemo = new Map<string, DecisionAuthor>();
const commitMemo = new Map<string, Date>();
// A commit's trust configuration never changes (keyed by root and commit id).
const trustMemo = new Map<string, VoteTrust>();

/** What a vote is judged against (trust.ts VoteFact `config`, `refused`). */
interface VoteTrust {
  config?: TrustConfig;
  refused?: string;
}

/** The trust tables of a config file's text, comparable across commits; undefined: unreadable. */
function trustTables(text: string | undefined, file: string): string | undefined {
  try {
    const cfg = text === undefined ? defaultConfig() : parseConfig(text, file);
    return canonicalJson(trustConfigOf(cfg));
  } catch {
    return undefined;
  }
}

/**
 * The configuration a decision is judged against: as committed at the parent of the commit that
 * made it (at HEAD for an uncommitted edit, which HEAD will be the parent of). The commit's own
 * change to who may approve never applies to it; a commit that changes the trust tables and
 * makes a decision is refused outright and reported. An uncommitted edit where HEAD has no
 * config yet is judged against the working tree's (nothing committed to go by).
 */
async function voteTrust(root: string, a: DecisionAuthor): Promise<VoteTrust> {
  if (a.committed && (!a.commit || !a.email)) return {}; // who decided is unknown: never counts
  const head = a.committed ? undefined : (readHead(root)?.sha ?? 'HEAD');
  const rev = a.commit ?? (head as string);
  const key = `${root}\0${rev}`;
  const known = rev !== 'HEAD' ? trustMemo.get(key) : undefined;
  if (known) return known;
  const where = a.committed ? `${CONFIG_FILE} before commit ${rev.slice(0, 12)}` : `${CONFIG_FILE} at HEAD`;
  let trust: VoteTrust;
  if (a.committed) {
    const [before, after] = await configAt(root, [`${rev}^`, rev]);
    try {
      trust = { config: trustConfigOf(before === undefined ? defaultConfig() : parseConfig(before, where)) };
      const was = trustTables(before, where);
      if (was !== trustTables(after, `${CONFIG_FILE} at ${rev.slice(0, 12)}`))
        trust.refused = `commit ${rev.slice(0, 12)} changes who may approve (${CONFIG_FILE} [users], [agents], [teams]) and makes this decision; a decision is judged against the configuration before its commit and counts only from a commit that leaves it alone`;
    } catch (err) {
      trust = { refused: `${where} cannot be read: ${(err as Error).message}` };
    }
  } else {
    const [atHead] = await configAt(root, [rev]);
    try {
      trust = atHead === undefined ? {} : { config: trustConfigOf(parseConfig(atHead, where)) };
    } catch (err) {
      trust = { refused: `${where} cannot be read: ${(err as Error).message}` };
    }
  }
  if (rev !== 'HEAD') trustMemo.set(key, trust);
  return trust;
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

async function gatherGitFacts(state: MoleculeState, ctx: GatherContext): Promise<GitFacts | undefined> {
  const formula = state.formula;
  if (!formula) return undefined;
  // A completed molecule is planned no more; only an audit (doctor) re-checks its checkpoints.
  const settledMolecule = state.facts.completed || state.facts.cancelled || state.digest;
  if (settledMolecule && !ctx.settled) return undefined;
  const facts: GitFacts = {
    authors: new Map(),
    trust: new Map(),
    committedAt: new Map(),
    authoredAt: new Map(),
    shallow: isShallowClone(ctx.root),
  };
  const author = async (rel: string, text: string) => {
    const key = `${ctx.root}\0${state.dir}/${rel}\0${sha1(text)}`;
    let a = authorMemo.get(key);
    if (!a) {
      a = await decisionAuthor(ctx.root, `${state.dir}/${rel}`, text);
      if (a.committed) authorMemo.set(key, a);
    }
    facts.authors.set(rel, a);
    facts.trust.set(rel, await voteTrust(ctx.root, a));
  };
  const committed = async (rel: string) => {
    const key = `${ctx.root}\0${state.dir}/${rel}`;
    let at = commitMemo.get(key);
    if (!at) {
      at = await firstCommitTime(ctx.root, `${state.dir}/${rel}`);
      if (at) commitMemo.set(key, at);
    }
    facts.committedAt.set(rel, at);
  };
  const authored = async (rel: string) => {
    const key = `${ctx.root}\0${state.dir}/${rel}\0authored`;
    let at = commitMemo.get(key);
    if (!at) {
      at = await firstCommitTime(ctx.root, `${state.dir}/${rel}`, true);
      if (at) commitMemo.set(key, at);
    }
    facts.authoredAt.set(rel, at);
  };
  for (const step of formula.steps) {
    const s = state.stepById.get(step.id);
    if (!s || !step.gate) continue;
    // A done checkpoint is verified (verifyHuman); other settled steps need nothing from git.
    if (SETTLED.has(s.status) && !(s.status === 'done' && step.gate.type === 'human')) continue;
    if (step.gate.type === 'human') {
      const id = checkpointId(step.id, s.attempt);
      const rel = checkpointPaths.request(id);
      const text = state.files.get(rel);
      if (text === undefined) continue;
      const decision = decisionIn(text);
      if (decision !== undefined && decision !== 'pending') await author(rel, text);
      const dir = `${checkpointPaths.approvalsDir(id)}/`;
      for (const [p, t] of state.files) if (p.startsWith(dir) && p.endsWith('.md')) await author(p, t);
      if ((step.gate as HumanGate).timeout && !s.facts['timed-out'] && s.status !== 'done')
        await committed(rel);
      // An approval by timeout is checked again from the times of the commits (verifyHuman).
      if (s.status === 'done' && s.facts.done?.by === 'timeout' && s.facts['timed-out']) {
        await authored(rel);
        await authored(timedOutPath(step.id, s.attempt));
      }
    } else if (step.gate.type === 'timer') {
      const rel = eventPathOf({ step: step.id, attempt: s.attempt, kind: 'waiting', extra: {} });
      if (state.files.has(rel)) await committed(rel);
    }
  }
  return facts;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers.

const SETTLED = new Set(['done', 'skipped', 'failed']);

export function trustConfigOf(config: GastownConfig): TrustConfig {
  return {
    users: config.users,
    agents: config.agents,
    teams: config.teams,
    engineEmail: config.engine.author_email,
  };
}

function write(molecule: string, path: string, content: string): WriteEffect {
  return { type: 'write', molecule, path, content };
}

/** The output file a step's assignee wrote for its current attempt, if any. */
function outputOf(state: MoleculeState, id: string): string | undefined {
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
function reopenWith(
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
function doersOf(state: MoleculeState, steps: readonly string[]): string[] {
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

// ---------------------------------------------------------------------------------------------
// Human gate: checkpoint files.

function planHuman(ctx: GatePlanContext): GatePlan | undefined {
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
  const effects: Effect[] = [];
  const who = gate.approvers.length > 0 ? gate.approvers.join(', ') : 'an approver';
  if (text === undefined) {
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
          gate,
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
      const by = [
        ...new Set(
          verdict.votes
            .filter((v) => v.counts && v.decision === 'approved')
            .map((v) => v.who ?? v.email ?? '?'),
        ),
      ].join(', ');
      effects.push(
        stepTransition(
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
        ),
      );
      return { holdReady: true, effects, volatile: true };
    }
    if (verdict.state === 'rejected' && verdict.rejection) {
      const r = verdict.rejection;
      effects.push(...rejectEffects(ctx, id, rel, r.reason || 'rejected', r.who ?? r.email));
      return { holdReady: true, effects, volatile: true };
    }
    notes.push(`checkpoint ${file}: ${verdict.summary}`);
  }

  const plan: GatePlan = { holdReady: true, effects, volatile: true };
  // A vote that cannot count whoever made it (its commit also rewrote who may approve) is
  // reported, not only noted: advance and status name the commit and the files.
  const refused = judged.verdict?.votes.find((v) => v.refused !== undefined);
  if (refused) plan.problem = { file: refused.source, message: refused.refused as string };
  if (gate.timeout) {
    if (s.facts['timed-out']) {
      if (gate.on_timeout === 'escalate')
        plan.blocked = `checkpoint ${id} of ${state.id} had no decision within ${gate.timeout}: escalated to ${who}`;
    } else {
      const d = evaluateDeadline(gate.timeout, gitFacts(env)?.committedAt.get(rel), env.now);
      if (d.overdue) effects.push(...timeoutEffects(ctx, id, rel));
      else {
        notes.push(d.summary);
        if (d.deadline) plan.recheckAt = d.deadline.getTime();
      }
    }
  }
  plan.note = notes.join('; ');
  return plan;
}

type CheckpointJudgement =
  | { error: string; problem: FileProblem }
  /** `verdict` is absent when no git facts were gathered (who decided is not known). */
  | { votes: number; verdict?: ApprovalVerdict; reason?: string };

/** The checkpoint's votes (its decision and every approvals file), judged by who made them. */
function judgeCheckpoint(ctx: GatePlanContext, id: string, rel: string, text: string): CheckpointJudgement {
  const { state, step, env } = ctx;
  const file = `${state.dir}/${rel}`;
  let votes: { file: ApprovalFile; rel: string }[];
  try {
    const cp = parseCheckpoint(file, text);
    votes =
      cp.decision === 'pending'
        ? []
        : [{ file: { file, decision: cp.decision, reason: cp.reason, note: cp.note }, rel }];
    const dir = `${checkpointPaths.approvalsDir(id)}/`;
    for (const [p, t] of state.files)
      if (p.startsWith(dir) && p.endsWith('.md'))
        votes.push({ file: parseApproval(`${state.dir}/${p}`, t), rel: p });
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
function verifyHuman(ctx: GatePlanContext): string | undefined {
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

const timedOutPath = (step: string, attempt: number) =>
  eventPathOf({ step, attempt, kind: 'timed-out', extra: {} });

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
  const d = evaluateDeadline(gate.timeout as string, requested, env.now);
  const factRel = timedOutPath(step.id, s.attempt);
  const decided = facts.authoredAt.get(factRel);
  const at = decided ?? env.now;
  if (!d.deadline || at.getTime() >= d.deadline.getTime()) return undefined;
  const when = decided
    ? `the commit that added ${state.dir}/${factRel} is from ${at.toISOString()}`
    : `it is ${at.toISOString()} now`;
  return `it was approved by timeout before its deadline: ${file} was committed at ${requested.toISOString()}, its ${gate.timeout} timeout ends at ${d.deadline.toISOString()}, and ${when}`;
}

/** A command gate recorded done stands when its report for that attempt says it passed. */
function verifyCommand(ctx: GatePlanContext): string | undefined {
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

// ---------------------------------------------------------------------------------------------
// Command gate: run once per attempt, report, pass → done, fail → on_fail re-opened.

function reportsOf(state: MoleculeState, stepId: string): { attempt: number; verdict: string }[] {
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

function planCommand(ctx: GatePlanContext): GatePlan | undefined {
  const { state, formula, step, stepState: s, needsMet } = ctx;
  const gate = step.gate as CommandGate;
  if (SETTLED.has(s.status) || !needsMet) return undefined;
  const rel = gateReportPath(step.id, s.attempt);
  const text = state.files.get(rel);
  const file = `${state.dir}/${rel}`;
  if (text === undefined) {
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
  let report: ReturnType<typeof readGateReport>;
  try {
    report = readGateReport(text);
  } catch (err) {
    const msg = `${file}: ${(err as Error).message}`;
    return { holdReady: true, blocked: msg, note: msg, problem: { file, message: (err as Error).message } };
  }
  const reasons = report.reasons;
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
          reason: report.verdict === 'pass' ? 'pass' : reasons.join('; ') || 'fail',
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
  const failures = reportsOf(state, step.id).filter((r) => r.verdict === 'fail').length;
  const why = reasons.join('; ') || 'the gate failed';
  if (failures >= gate.max_attempts) {
    return {
      holdReady: true,
      effects,
      blocked: `gate ${step.id} failed ${failures} time${failures === 1 ? '' : 's'} (max_attempts ${gate.max_attempts}): ${why}; see ${file}`,
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

function summaryOf(r: ReturnType<typeof readGateReport>): string {
  const parts: string[] = [];
  if (r.pass_rate !== undefined) parts.push(`pass rate ${r.pass_rate}%`);
  if (r.total !== undefined) parts.push(`${r.passed ?? 0}/${r.total} passed`);
  if (r.forbidden) parts.push(`${r.forbidden} forbidden pattern${r.forbidden === 1 ? '' : 's'}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

async function runCommand(
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

// ---------------------------------------------------------------------------------------------
// Timers and molecule waits.

function planTimer(ctx: GatePlanContext): GatePlan | undefined {
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

function planMoleculeWait(ctx: GatePlanContext): GatePlan | undefined {
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

// ---------------------------------------------------------------------------------------------
// Expressions: until loops and runtime conditions.

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

function planLoops(ctx: MoleculePlanContext): GatePlan | undefined {
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

function evaluateRuntimeCondition(expression: string, c: { state: MoleculeState }): boolean | undefined {
  try {
    return evaluateExpression(expression, exprContext(c.state)).holds;
  } catch (err) {
    if (err instanceof ExprError) return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// on_complete: spawn one molecule per item of a list in the step's output.

/** The molecules `on_complete` asks for, from the step's output: the planner and the runner agree. */
function spawnsOf(state: MoleculeState, stepId: string, oc: OnComplete, attempt: number) {
  const out = outputOf(state, stepId);
  return forEachSpawns(oc, state.id, stepId, out === undefined ? undefined : parseOutputFile(out), attempt);
}

function planOnComplete(ctx: MoleculePlanContext): GatePlan | undefined {
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

async function runBond(effect: RunEffect, ctx: RunContext): Promise<Effect[]> {
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

// ---------------------------------------------------------------------------------------------

/** Registers every gate kind of this folder with the engine: called by the composition root. */
export function registerBuiltInGates(): void {
  registerFactGatherer(GIT_FACTS, gatherGitFacts);
  registerGatePlanner('human', planHuman);
  registerGatePlanner('command', planCommand);
  registerGatePlanner('timer', planTimer);
  registerGatePlanner('molecule', planMoleculeWait);
  registerGateVerifier('human', verifyHuman);
  registerGateVerifier('command', verifyCommand);
  registerGateRunner('command', runCommand);
  registerGateRunner('bond', runBond);
  registerMoleculePlanner('loop', planLoops);
  registerMoleculePlanner('on_complete', planOnComplete);
  registerConditionEvaluator(evaluateRuntimeCondition);
}
