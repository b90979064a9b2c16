// `gastown checkpoint list|show|approve|reject|comment`. A decision made here is the same edit a
// person makes by hand (the `decision:` line of the checkpoint file, or an approval file of
// their own when the request already carries someone's decision); who made it comes from git.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decisionAuthor, firstCommitTime, localIdentity } from '../../checkpoint/authors.js';
import {
  type Checkpoint,
  checkpointPaths,
  parseApproval,
  parseCheckpoint,
  parseCheckpointId,
  renderApproval,
  renderComment,
  setDecision,
  type Vote,
} from '../../checkpoint/file.js';
import { displayActor } from '../../checkpoint/trust.js';
import {
  advanceLocked,
  listMoleculeIds,
  type MoleculeState,
  moleculeStatus,
  statusOf,
  type Transition,
} from '../../engine/index.js';
import { judgeMolecule, type MoleculeVerdict } from '../../engine/verdict.js';
import { GastownError, isGastownError, UsageError } from '../../errors.js';
import { checkpointJudgement, judgeCheckpointVote, trustConfigOf } from '../../gates/engine.js';
import { evaluateDeadline } from '../../gates/waits.js';
import { createFileExclusive, readSmallFile, writeFileAtomic } from '../../store/atomic.js';
import { loadConfig } from '../../store/config.js';
import { assertMoleculeId, ulid } from '../../store/ids.js';
import { findRoot, moleculeDir, moleculeRel } from '../../store/layout.js';
import { checkBeadsPath } from '../../store/links.js';
import { withLock } from '../../store/lock.js';
import type { GastownConfig } from '../../store/types.js';
import type { CliContext } from '../context.js';

interface Located {
  root: string;
  molecule: string;
  /** Molecule-relative path of the request file. */
  rel: string;
  /** Repo-relative path. */
  file: string;
  text: string;
  id: string;
}

/** The request files of a molecule (not approval folders, not other files). */
function requestIds(root: string, molecule: string): string[] {
  const dir = join(moleculeDir(root, molecule), 'checkpoints');
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.md') && !e.name.startsWith('.'))
      .map((e) => e.name.slice(0, -3))
      .sort();
  } catch {
    return [];
  }
}

/** `plan-checkpoint` names the latest attempt of that step; `plan-checkpoint.attempt-2` exactly that file. */
function locate(ctx: CliContext, molecule: string, name: string): Located {
  const root = findRoot(ctx.cwd);
  assertMoleculeId(molecule);
  if (!existsSync(moleculeDir(root, molecule)))
    throw new GastownError('molecule.unknown', `no molecule ${molecule}`);
  const ids = requestIds(root, molecule);
  let id = ids.includes(name) && /\.attempt-\d+$/.test(name) ? name : undefined;
  if (!id) {
    const step = parseCheckpointId(name).step;
    const attempts = ids.map((i) => ({ i, ...parseCheckpointId(i) })).filter((c) => c.step === step);
    attempts.sort((a, b) => b.attempt - a.attempt);
    id = attempts[0]?.i;
  }
  if (!id) {
    const known = ids.length > 0 ? ids.join(', ') : 'none yet';
    throw new GastownError(
      'checkpoint.unknown',
      `molecule ${molecule} has no checkpoint ${JSON.stringify(name)} (checkpoints: ${known})`,
    );
  }
  const rel = checkpointPaths.request(id);
  const file = moleculeRel(molecule, rel);
  return { root, molecule, rel, file, text: readSmallFile(join(root, file)), id };
}

function emailSlug(email: string): string {
  return (
    email
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '') || 'someone'
  );
}

/** What the engine already recorded for a checkpoint's attempt; undefined while it is open. */
interface Recorded {
  outcome: 'approved' | 'rejected' | 'skipped' | 'superseded';
  by?: string;
  /** The step's current attempt. */
  attempt: number;
}

const by = (who: string | undefined) => (who ? { by: who } : {});

function recordedOutcome(state: MoleculeState, cp: Checkpoint, id: string): Recorded | undefined {
  const s = state.stepById.get(cp.step);
  if (!s || s.attempt < cp.attempt) return undefined;
  const facts = s.attempt === cp.attempt ? s.facts : (s.history[cp.attempt] ?? {});
  const at = { attempt: s.attempt };
  if (facts.done) return { outcome: 'approved', ...by(facts.done.by), ...at };
  if (facts.failed) return { outcome: 'rejected', ...by(facts.failed.by), ...at };
  if (facts.skipped) return { outcome: 'skipped', ...at };
  if (s.attempt === cp.attempt) return undefined;
  // A rejection re-opens `on_reject` with this request as the cause.
  const rel = checkpointPaths.request(id);
  for (const other of state.steps)
    for (const f of [other.facts, ...Object.values(other.history)])
      if (f.reopened?.cause === rel) return { outcome: 'rejected', ...by(f.reopened.by), ...at };
  return { outcome: 'superseded', ...at };
}

/** Why a decision on a recorded checkpoint cannot be made, and what to do instead. */
function recordedError(
  molecule: string,
  cp: Checkpoint,
  id: string,
  file: string,
  r: Recorded,
): GastownError {
  const who = r.by ? ` by ${r.by}` : '';
  const reopen = `gastown step reopen ${molecule} ${cp.step} --reason "..."`;
  const message =
    r.outcome === 'superseded'
      ? `checkpoint ${id} of ${molecule} belongs to attempt ${cp.attempt} of ${cp.step}, which was re-opened (now attempt ${r.attempt}); nothing was changed. Its new checkpoint opens when the steps under review are done again (gastown checkpoint list --pending)`
      : r.outcome === 'skipped'
        ? `step ${cp.step} of ${molecule} was skipped; checkpoint ${id} has nothing to decide`
        : r.outcome === 'approved' && r.attempt > cp.attempt
          ? `checkpoint ${id} of ${molecule} is already approved and recorded${who}, and ${cp.step} was re-opened since (now attempt ${r.attempt}); nothing was changed. Its new checkpoint opens when the steps under review are done again (gastown checkpoint list --pending)`
          : r.outcome === 'approved'
            ? `checkpoint ${id} of ${molecule} is already approved and recorded (step ${cp.step} is done${who}); nothing was changed. To revisit it, re-open the step: ${reopen}`
            : r.attempt > cp.attempt
              ? `checkpoint ${id} of ${molecule} is already rejected and recorded${who}: the work under review was re-opened, and ${cp.step} gets a new checkpoint when it is done again (gastown checkpoint list --pending); nothing was changed`
              : `checkpoint ${id} of ${molecule} is already rejected and recorded (step ${cp.step} failed${who}); nothing was changed. To revisit it, re-open the step: ${reopen}`;
  return new GastownError('checkpoint.decided', message, { location: { file } });
}

async function decide(
  ctx: CliContext,
  molecule: string,
  name: string,
  decision: Vote,
  reason: string,
  json: boolean | undefined,
): Promise<number> {
  const root = findRoot(ctx.cwd);
  assertMoleculeId(molecule);
  // Under the lock from the first read: nothing is written when another process holds it, and
  // no engine run changes the molecule between the checks below and the write.
  return withLock(root, undefined, async () => {
    const at = locate(ctx, molecule, name);
    const cp = parseCheckpoint(at.file, at.text);
    const unchanged = (why: string) => {
      if (json) ctx.io.json({ checkpoint: at.id, molecule, decision, file: null, unchanged: why });
      else ctx.io.out(`${why}; nothing written`);
      return 0;
    };
    const config = loadConfig(at.root);
    const { state, plan } = await judgeMolecule(molecule, { root: at.root, config, now: ctx.now() });
    let recorded = recordedOutcome(state, cp, at.id);
    // A recorded approval that no counted vote backs (it was committed by someone else: a shared
    // working tree, a squash merge) stops the molecule; an approver's own vote is the way back.
    const done = `/events/${cp.step}.${cp.attempt}.done.toml`;
    if (
      recorded?.outcome === 'approved' &&
      decision === 'approved' &&
      recorded.attempt === cp.attempt &&
      plan.status === 'invalid' &&
      plan.problems?.some((p) => p.file?.endsWith(done))
    )
      recorded = undefined;
    if (recorded?.outcome === decision)
      return unchanged(
        `checkpoint ${at.id} of ${molecule} is already ${decision} and recorded${recorded.by ? ` (by ${recorded.by})` : ''}`,
      );
    if (recorded) throw recordedError(molecule, cp, at.id, at.file, recorded);
    // A vote the engine would not count is refused before anything is written: it would leave a
    // file that reads `approved` while the checkpoint stays pending.
    const me = await localIdentity(at.root);
    if (!me.email)
      throw new GastownError(
        'checkpoint.identity',
        'no git identity here: set user.email so your decision can be attributed',
      );
    const mine = judgeCheckpointVote(state, cp.step, config, {
      decision,
      source: at.file,
      committed: false,
      email: me.email,
    });
    if (mine && !mine.counts)
      throw new GastownError(
        'checkpoint.not-counted',
        `your ${decision === 'approved' ? 'approval' : 'rejection'} would not count: ${mine.why}; nothing was written (an allowed approver decides, as their own git identity)`,
        { location: { file: at.file } },
      );
    let written: string;
    if (cp.decision === 'pending') {
      writeFileAtomic(
        checkBeadsPath(at.root, join(at.root, at.file)),
        setDecision(at.text, decision, reason, at.file),
      );
      written = at.file;
    } else {
      // The request already carries a decision (someone else's, or one that did not count): a
      // person adds their own approval file instead of rewriting another's decision.
      const rel = checkpointPaths.approval(at.id, emailSlug(me.email));
      const path = checkBeadsPath(at.root, join(moleculeDir(at.root, molecule), rel));
      written = moleculeRel(molecule, rel);
      const mine = existsSync(path) ? readSmallFile(path) : undefined;
      // The same vote by the same person again would only add a file that counts for nothing.
      if (mine !== undefined) {
        if (sameVote(written, mine, decision))
          return unchanged(`you (${me.email}) already ${decision} ${at.id} of ${molecule} in ${written}`);
      } else if (cp.decision === decision) {
        // An uncommitted decision counts as the local identity's, as the engine judges it.
        const author = await decisionAuthor(at.root, at.file, at.text);
        if (!author.committed)
          return unchanged(
            `${at.file} already says ${decision} and is not committed, so it counts as yours (${me.email}); commit it as whoever decided before another person approves`,
          );
        if (author.email?.toLowerCase() === me.email.toLowerCase())
          return unchanged(
            `you (${me.email}) already ${decision} ${at.id} of ${molecule} in ${at.file}${author.commit ? ` (commit ${author.commit.slice(0, 12)})` : ''}`,
          );
      }
      mkdirSync(dirname(path), { recursive: true });
      const content = renderApproval({ checkpoint: at.id, decision, text: reason });
      if (mine !== undefined) writeFileAtomic(path, content);
      else createFileExclusive(path, content);
    }
    const result = await advanceLocked({ root: at.root, now: ctx.now(), molecules: [molecule] });
    const status = await moleculeStatus(at.root, molecule, ctx.now());
    const step = status.steps.find((s) => s.id === cp.step);
    const pendingNote =
      step && step.state !== 'done' && step.attempt === cp.attempt ? step.notes?.join('; ') : undefined;
    if (json) {
      ctx.io.json({
        checkpoint: at.id,
        molecule,
        decision,
        file: written,
        transitions: result.transitions,
        step: step ?? null,
        problems: result.problems,
      });
    } else {
      ctx.io.out(`${decision} ${at.id} of ${molecule} (${written})`);
      printTransitions(ctx, result.transitions);
      if (pendingNote) ctx.io.out(`  ${ctx.io.color.yellow('!')} ${pendingNote}`);
      for (const p of result.problems) ctx.io.warn(p.message, p.file ? { file: p.file } : undefined);
    }
    return 0;
  });
}

/** Whether an approval file already says `decision` (a broken one is replaced). */
function sameVote(file: string, text: string, decision: Vote): boolean {
  try {
    return parseApproval(file, text).decision === decision;
  } catch (err) {
    if (isGastownError(err)) return false;
    throw err;
  }
}

function printTransitions(ctx: CliContext, transitions: Transition[]): void {
  for (const t of transitions) ctx.io.out(`  ${ctx.io.color.green('→')} ${t.molecule}: ${t.summary}`);
}

export async function approve(
  ctx: CliContext,
  molecule: string,
  name: string,
  opts: { text?: string; json?: boolean },
): Promise<number> {
  return decide(ctx, molecule, name, 'approved', opts.text ?? '', opts.json);
}

export async function reject(
  ctx: CliContext,
  molecule: string,
  name: string,
  opts: { reason: string; json?: boolean },
): Promise<number> {
  if (opts.reason.trim() === '') throw new UsageError('--reason must say what has to change');
  return decide(ctx, molecule, name, 'rejected', opts.reason, opts.json);
}

export async function comment(
  ctx: CliContext,
  molecule: string,
  name: string,
  opts: { text: string; json?: boolean },
): Promise<number> {
  if (opts.text.trim() === '') throw new UsageError('--text must not be empty');
  const at = locate(ctx, molecule, name);
  const cp = parseCheckpoint(at.file, at.text);
  // The comment is for whoever does the step under review (where a rejection would send it).
  const target = cp.on_reject ?? cp.reviews[0] ?? cp.step;
  const rel = checkpointPaths.comment(target, ulid(ctx.now().getTime()));
  const path = checkBeadsPath(at.root, join(moleculeDir(at.root, molecule), rel));
  mkdirSync(dirname(path), { recursive: true });
  createFileExclusive(
    path,
    renderComment({ checkpoint: at.id, step: target, attempt: cp.attempt, text: opts.text }),
  );
  const file = moleculeRel(molecule, rel);
  if (opts.json) ctx.io.json({ checkpoint: at.id, molecule, step: target, file });
  else
    ctx.io.out(
      `comment for ${target} on ${at.id} of ${molecule}: ${file} (the checkpoint stays ${cp.decision})`,
    );
  return 0;
}

interface ListEntry {
  molecule: string;
  checkpoint: string;
  step: string;
  attempt: number;
  /**
   * The engine's verdict, never the file's `decision:` field: `pending` until a vote that counts
   * decides it, `approved`/`rejected` once one does, `skipped`, `superseded` (an earlier attempt
   * nothing decided), or `invalid` (the file cannot be read, or a recorded approval no counted
   * vote backs).
   */
  decision: string;
  /** Why, in words: uncounted votes, who decided, what makes it invalid and the way back. */
  note?: string;
  /** Every vote in the request and its approval files, judged by who made it. */
  votes: { decision: string; by: string; counts: boolean; why: string; file: string }[];
  file: string;
  approvers: string[];
  timeout?: string;
  deadline?: string;
  overdue?: boolean;
  timed_out: boolean;
  /** The engine recorded the step's outcome (done, failed, skipped). */
  decided: boolean;
  superseded: boolean;
  error?: string;
}

/** A checkpoint as the engine judges it, from the molecule's verdict (engine/verdict.ts). */
async function describe(
  root: string,
  molecule: string,
  id: string,
  judged: MoleculeVerdict,
  config: GastownConfig,
  now: Date,
): Promise<ListEntry> {
  const { state, plan } = judged;
  const rel = checkpointPaths.request(id);
  const file = moleculeRel(molecule, rel);
  const { step, attempt } = parseCheckpointId(id);
  const s = state.stepById.get(step);
  const facts = s && s.attempt === attempt ? s.facts : s?.history[attempt];
  const entry: ListEntry = {
    molecule,
    checkpoint: id,
    step,
    attempt,
    decision: 'pending',
    votes: [],
    file,
    approvers: [],
    timed_out: facts?.['timed-out'] !== undefined,
    decided: Boolean(facts?.done || facts?.failed || facts?.skipped),
    superseded: s !== undefined && s.attempt > attempt,
  };
  const invalid = (why: string) => {
    entry.decision = 'invalid';
    entry.note = why;
    return entry;
  };
  let cp: Checkpoint;
  try {
    cp = parseCheckpoint(file, readSmallFile(join(root, file)));
  } catch (err) {
    if (!isGastownError(err)) throw err;
    entry.error = err.toString();
    return invalid(entry.error);
  }
  entry.approvers = cp.approvers;
  if (cp.timeout) entry.timeout = cp.timeout;
  if (entry.superseded) {
    const r = recordedOutcome(state, cp, id);
    entry.decision = r?.outcome ?? 'superseded';
    if (r?.by) entry.note = `${r.outcome} by ${r.by}`;
    return entry;
  }
  // A recorded approval the audit does not accept makes the checkpoint invalid, with the way back.
  const done = `/events/${step}.${attempt}.done.toml`;
  const unbacked = plan.problems?.find((p) => p.file?.endsWith(done));
  if (unbacked) return invalid(unbacked.message);
  if (facts?.done) {
    entry.decision = 'approved';
    entry.note = `approved by ${facts.done.by ?? 'someone'}`;
    return entry;
  }
  if (facts?.failed) {
    entry.decision = 'rejected';
    entry.note = `rejected by ${facts.failed.by ?? 'someone'}${facts.failed.reason ? `: ${facts.failed.reason}` : ''}`;
    return entry;
  }
  if (facts?.skipped) {
    entry.decision = 'skipped';
    return entry;
  }
  const judgement = checkpointJudgement(state, step, config, judged.env.facts);
  if (judgement && 'error' in judgement) return invalid(judgement.error);
  const verdict = judgement?.verdict;
  const trust = trustConfigOf(config);
  const notes: string[] = [];
  if (verdict) {
    entry.votes = verdict.votes.map((v) => ({
      decision: v.decision,
      by: displayActor(trust, v.email),
      counts: v.counts,
      why: v.why,
      file: v.source,
    }));
    if (verdict.state !== 'pending') {
      entry.decision = verdict.state;
      notes.push(`${verdict.summary}; \`gastown advance\` records it`);
    }
    for (const v of verdict.votes.filter((x) => !x.counts))
      notes.push(
        `an uncounted ${v.decision === 'approved' ? 'approval' : 'rejection'} by ${displayActor(trust, v.email)} (${v.why})`,
      );
  } else if (judgement && judgement.votes > 0)
    notes.push('its decision is not checked yet (who made it is read from git)');
  if (entry.decision === 'pending' && cp.timeout && !entry.timed_out) {
    const d = evaluateDeadline(cp.timeout, await firstCommitTime(root, file), now);
    if (d.deadline) entry.deadline = d.deadline.toISOString();
    entry.overdue = d.overdue;
  }
  if (notes.length > 0) entry.note = notes.join('; ');
  return entry;
}

export async function list(ctx: CliContext, opts: { pending?: boolean; json?: boolean }): Promise<number> {
  const root = findRoot(ctx.cwd);
  const now = ctx.now();
  const config = loadConfig(root);
  const out: ListEntry[] = [];
  for (const molecule of listMoleculeIds(root)) {
    const ids = requestIds(root, molecule);
    if (ids.length === 0) continue;
    const judged = await judgeMolecule(molecule, { root, config, now });
    for (const id of ids) {
      const entry = await describe(root, molecule, id, judged, config, now);
      // Waiting for a reviewer: nothing counted decides it yet, or what was recorded does not stand.
      const open = entry.decision === 'pending' || entry.decision === 'invalid';
      if (!opts.pending || open) out.push(entry);
    }
  }
  if (opts.json) {
    ctx.io.json(out);
    return 0;
  }
  if (out.length === 0) {
    ctx.io.out(opts.pending ? 'no pending checkpoints' : 'no checkpoints');
    return 0;
  }
  for (const e of out) {
    const state = e.decision === 'invalid' ? ctx.io.color.red('invalid') : e.decision;
    const when = e.deadline
      ? e.overdue
        ? ctx.io.color.red(` overdue since ${e.deadline}`)
        : ` due ${e.deadline}`
      : e.timeout && e.decision === 'pending'
        ? ` (${e.timeout} from commit)`
        : '';
    const extra = [e.timed_out ? 'timed out' : '', e.superseded ? 'superseded' : '']
      .filter(Boolean)
      .join(', ');
    ctx.io.out(
      `${e.molecule}  ${e.checkpoint}  ${state}${when}${extra ? ` [${extra}]` : ''}  ${e.approvers.join(' ')}  ${e.file}`,
    );
    if (e.note) ctx.io.out(`  ${e.note}`);
  }
  return 0;
}

export async function show(
  ctx: CliContext,
  molecule: string,
  name: string,
  opts: { json?: boolean },
): Promise<number> {
  const at = locate(ctx, molecule, name);
  const cp = parseCheckpoint(at.file, at.text);
  const now = ctx.now();
  const config = loadConfig(at.root);
  const judged = await judgeMolecule(molecule, { root: at.root, config, now });
  const verdict = await describe(at.root, molecule, at.id, judged, config, now);
  const status = statusOf(judged.state, judged.plan);
  const step = status.steps.find((s) => s.id === cp.step);
  const feedbackDir = join(moleculeDir(at.root, molecule), 'feedback');
  const comments: { file: string; text: string }[] = [];
  for (const target of new Set([cp.on_reject, ...cp.reviews].filter((x): x is string => Boolean(x)))) {
    const dir = join(feedbackDir, target);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.md')) continue;
      comments.push({
        file: moleculeRel(molecule, `feedback/${target}/${f}`),
        text: readSmallFile(join(dir, f)),
      });
    }
  }
  const json = {
    checkpoint: at.id,
    molecule,
    file: at.file,
    step: cp.step,
    attempt: cp.attempt,
    // The engine's verdict (as `checkpoint list` gives it), not the file's field.
    decision: verdict.decision,
    ...(verdict.note ? { note: verdict.note } : {}),
    votes: verdict.votes,
    reason: cp.reason,
    ...(cp.note ? { approval_note: cp.note } : {}),
    approvers: cp.approvers,
    step_state: step?.attempt === cp.attempt ? step.state : 'superseded',
    notes: step?.attempt === cp.attempt ? (step.notes ?? []) : [],
    feedback: comments.map((c) => c.file),
  };
  if (opts.json) {
    ctx.io.json(json);
    return 0;
  }
  const words = [cp.reason, cp.note].filter((w) => w !== '').join('; ');
  ctx.io.out(
    `${at.id} of ${molecule}: ${verdict.decision}${words ? ` (${words})` : ''}; step ${cp.step} is ${json.step_state}`,
  );
  if (verdict.note) ctx.io.out(`  ${verdict.note}`);
  ctx.io.out(`file: ${at.file}`);
  for (const n of json.notes) ctx.io.out(`  ${n}`);
  for (const c of comments) ctx.io.out(`feedback: ${c.file}`);
  return 0;
}
