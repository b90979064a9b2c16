// `gastown checkpoint list|show|approve|reject|comment`. A decision made here is the same edit a
// person makes by hand (the `decision:` line of the checkpoint file, or an approval file of
// their own when the request already carries someone's decision); who made it comes from git.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkpointDeadline, requestCommittedAt } from '../../checkpoint/deadline.js';
import { decideCheckpoint, locate, recordedOutcome, requestIds } from '../../checkpoint/decide.js';
import {
  type Checkpoint,
  checkpointPaths,
  parseCheckpoint,
  parseCheckpointId,
  renderComment,
  type Vote,
} from '../../checkpoint/file.js';
import { displayActor } from '../../checkpoint/trust.js';
import { listMoleculeIds, statusOf, type Transition } from '../../engine/index.js';
import type { StepState } from '../../engine/types.js';
import { judgeMolecule, type MoleculeVerdict } from '../../engine/verdict.js';
import { isGastownError, UsageError } from '../../errors.js';
import { checkpointJudgement } from '../../gates/human.js';
import { trustConfigOf } from '../../gates/shared.js';
import { createFileExclusive, readSmallFile } from '../../store/atomic.js';
import { loadConfig } from '../../store/config.js';
import { ulid } from '../../store/ids.js';
import { findRoot, moleculeDir, moleculeRel } from '../../store/layout.js';
import { checkBeadsPath } from '../../store/links.js';
import type { GastownConfig } from '../../store/types.js';
import type { CliContext } from '../context.js';

async function decide(
  ctx: CliContext,
  molecule: string,
  name: string,
  decision: Vote,
  reason: string,
  json: boolean | undefined,
): Promise<number> {
  const made = await decideCheckpoint({ cwd: ctx.cwd, molecule, name, decision, reason, now: ctx.now() });
  if ('unchanged' in made) {
    if (json)
      ctx.io.json({ checkpoint: made.checkpoint, molecule, decision, file: null, unchanged: made.unchanged });
    else ctx.io.out(`${made.unchanged}; nothing written`);
    return 0;
  }
  const { result } = made;
  const cp = parseCheckpointId(made.checkpoint);
  const status = statusOf(made.status.state, made.status.plan);
  const step = status.steps.find((s) => s.id === cp.step);
  const pendingNote =
    step && step.state !== 'done' && step.attempt === cp.attempt ? step.notes?.join('; ') : undefined;
  if (json) {
    ctx.io.json({
      checkpoint: made.checkpoint,
      molecule,
      decision,
      file: made.file,
      transitions: result.transitions,
      step: step ?? null,
      problems: result.problems,
    });
  } else {
    ctx.io.out(`${decision} ${made.checkpoint} of ${molecule} (${made.file})`);
    printTransitions(ctx, result.transitions);
    if (pendingNote) ctx.io.out(`  ${ctx.io.color.yellow('!')} ${pendingNote}`);
    for (const p of result.problems) ctx.io.warn(p.message, p.file ? { file: p.file } : undefined);
  }
  return 0;
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
  const at = locate(ctx.cwd, molecule, name);
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
  if (recordedDecision(entry, facts)) return entry;
  const judgement = checkpointJudgement(state, step, config, judged.env.facts);
  if (judgement && 'error' in judgement) return invalid(judgement.error);
  const notes = voteNotes(entry, judgement, trustConfigOf(config));
  if (entry.decision === 'pending' && cp.timeout && !entry.timed_out) {
    const d = checkpointDeadline(cp.timeout, await requestCommittedAt(root, file), now);
    if (d.deadline) entry.deadline = d.deadline.toISOString();
    entry.overdue = d.overdue;
  }
  if (notes.length > 0) entry.note = notes.join('; ');
  return entry;
}

/** The outcome the engine recorded for the attempt (approved, rejected, skipped) set on `entry`. */
function recordedDecision(entry: ListEntry, facts: StepState['facts'] | undefined): boolean {
  if (facts?.done) {
    entry.decision = 'approved';
    entry.note = `approved by ${facts.done.by ?? 'someone'}`;
    return true;
  }
  if (facts?.failed) {
    entry.decision = 'rejected';
    entry.note = `rejected by ${facts.failed.by ?? 'someone'}${facts.failed.reason ? `: ${facts.failed.reason}` : ''}`;
    return true;
  }
  if (facts?.skipped) {
    entry.decision = 'skipped';
    return true;
  }
  return false;
}

/** The votes cast so far on `entry`, its decision when they settle it, and notes on the rest. */
function voteNotes(
  entry: ListEntry,
  judgement: Exclude<ReturnType<typeof checkpointJudgement>, { error: string }>,
  trust: ReturnType<typeof trustConfigOf>,
): string[] {
  const verdict = judgement?.verdict;
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
  return notes;
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
  const at = locate(ctx.cwd, molecule, name);
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
