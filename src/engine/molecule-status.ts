// Reading molecules: one molecule's status, the problems pre-commit reports, the list. The engine
// (fold, plan, the verdict) is imported where a molecule is judged, so a reader answered from the
// caches never loads it (scripts/build.mjs, `readers`).
import { dueAgain } from '../clock.js';
import { GastownError } from '../errors.js';
import { loadConfig } from '../store/config.js';
import { assertMoleculeId } from '../store/ids.js';
import { type JournalAnswer, syncJournal } from '../store/journal.js';
import { findRoot } from '../store/layout.js';
import type { GastownConfig } from '../store/types.js';
import type { Problem } from './apply.js';
import { moleculeExists, moleculeRelDir } from './io.js';
import { beforeJudging, keptAnswer } from './status-cache.js';
import { MOVABLE } from './summaries.js';
import type { MoleculeState, MoleculeStatus, PlanResult, StepState } from './types.js';
import { lookAtMolecules } from './views.js';

export interface StepStatusJson {
  id: string;
  title: string;
  state: StepState['status'];
  attempt: number;
  assignee?: string;
  needs: string[];
  gate?: string;
  notes?: string[];
}

export interface StatusJson {
  id: string;
  formula: string;
  formula_version?: string | number;
  state: MoleculeStatus;
  blocked_reason?: string;
  progress: { done: number; total: number };
  steps: StepStatusJson[];
  /** Steps ready to start (recorded, or that the next reconcile will record). */
  ready: string[];
  /** Steps in progress. */
  current: string[];
  convoy?: string;
  after?: string;
  assignee?: string;
  vars: Record<string, string>;
  conflicts: { file: string; message: string }[];
  problems: { file?: string; path?: string; message: string }[];
  /** Effects a reconcile would apply now (0 when up to date). */
  pending_effects: number;
  /** Set when the molecule was cancelled (`molecule cancel`). */
  cancelled?: { by?: string; reason?: string };
}

export function statusOf(state: MoleculeState, plan: PlanResult): StatusJson {
  const willBeReady = new Set(
    plan.effects.flatMap((e) =>
      e.type === 'transition' && e.fact.kind === 'ready' && e.fact.step ? [e.fact.step] : [],
    ),
  );
  const steps: StepStatusJson[] = (state.formula?.steps ?? []).map((step) => {
    const s = state.stepById.get(step.id) as StepState;
    const status = s.status === 'pending' && willBeReady.has(step.id) ? 'ready' : s.status;
    const out: StepStatusJson = {
      id: step.id,
      title: step.title,
      state: status,
      attempt: s.attempt,
      needs: step.needs,
    };
    const assignee =
      s.assignee ??
      (
        plan.effects.find(
          (e) => e.type === 'transition' && e.fact.step === step.id && e.fact.kind === 'ready',
        ) as { fact?: { assignee?: string } } | undefined
      )?.fact?.assignee;
    if (assignee !== undefined) out.assignee = assignee;
    if (step.gate) out.gate = step.gate.type;
    const notes = plan.notes[step.id];
    if (notes?.length) out.notes = notes;
    return out;
  });
  const meta = state.meta;
  const json: StatusJson = {
    id: state.id,
    formula: meta?.formula ?? state.formula?.formula ?? '',
    state: plan.status,
    progress: {
      done: steps.filter((s) => s.state === 'done' || s.state === 'skipped').length,
      total: steps.length,
    },
    steps,
    // Nothing can be worked on in a molecule that is invalid, in conflict or over.
    ready: MOVABLE.has(plan.status) ? steps.filter((s) => s.state === 'ready').map((s) => s.id) : [],
    current: steps.filter((s) => s.state === 'in_progress').map((s) => s.id),
    vars: meta?.vars ?? {},
    conflicts: state.conflicts.map((c) => ({ file: c.file, message: c.message })),
    problems: [...state.errors, ...(plan.problems ?? [])].map((e) => ({
      file: e.file,
      ...(e.path ? { path: e.path } : {}),
      message: e.message,
    })),
    pending_effects: plan.effects.length,
  };
  const version = meta?.formula_version ?? state.formula?.version;
  if (version !== undefined) json.formula_version = version;
  if (plan.blockedReason) json.blocked_reason = plan.blockedReason;
  if (meta?.convoy) json.convoy = meta.convoy;
  if (meta?.after) json.after = meta.after;
  if (meta?.assignee) json.assignee = meta.assignee;
  const cancelled = state.facts.cancelled;
  if (cancelled)
    json.cancelled = {
      ...(cancelled.by !== undefined ? { by: cancelled.by } : {}),
      ...(cancelled.reason !== undefined ? { reason: cancelled.reason } : {}),
    };
  return json;
}

export async function moleculeStatus(
  rootOrCwd: string,
  id: string,
  now: Date = new Date(),
): Promise<StatusJson> {
  const root = findRoot(rootOrCwd);
  assertMoleculeId(id);
  if (!moleculeExists(root, id))
    throw new GastownError('molecule.unknown', `no molecule ${id} (looked in ${moleculeRelDir(id)})`);
  const kept = keptAnswer<StatusJson>(root, id, 'status', now);
  // The time left to a deadline is said as of now.
  for (const step of kept?.steps ?? []) if (step.notes) step.notes = step.notes.map((n) => dueAgain(n, now));
  if (kept) return kept;
  // Before the molecule, the config or git is read: a change after this is seen next time.
  const keeper = beforeJudging<StatusJson>(root, id, 'status');
  const { judgeMolecule } = await import('./verdict.js');
  const { state, plan } = await judgeMolecule(id, {
    root,
    config: loadConfig(root),
    now,
    ...(keeper ? { moleculeStatus: keeper.moleculeStatus } : {}),
  });
  const status = statusOf(state, plan);
  if (keeper && !plan.volatile) keeper.keep(status, plan.recheckAt);
  return status;
}

/**
 * What `molecule status` would say is wrong with a molecule made of `files` (pre-commit hands
 * the staged ones): the problems when its verdict is invalid or conflict, none otherwise.
 */
export async function verdictProblems(
  root: string,
  id: string,
  files: Map<string, string>,
  config: GastownConfig,
  now: Date,
): Promise<Problem[]> {
  const [{ planLoaded }, { stateProblems }] = await Promise.all([
    import('./molecule-load.js'),
    import('./reconcile.js'),
  ]);
  const { state, plan } = await planLoaded(root, id, files, config, now);
  const { state: verdict } = statusOf(state, plan);
  return verdict === 'invalid' || verdict === 'conflict' ? stateProblems(state, plan) : [];
}

export interface MoleculeListEntry {
  id: string;
  formula: string;
  state: MoleculeStatus;
  progress: { done: number; total: number };
  blocked_reason?: string;
  /** Why an `invalid` or `conflict` molecule is so: its first problem, with the way back. */
  problem?: string;
  convoy?: string;
}

/**
 * `synced`: the change journal's answer to a sync the caller made before any stat (else this asks);
 * `tally.judged` counts the molecules judged in full rather than taken from their summaries.
 */
export async function listMolecules(
  rootOrCwd: string,
  now: Date = new Date(),
  synced?: { journal: JournalAnswer | undefined },
  tally?: { judged: number },
): Promise<MoleculeListEntry[]> {
  const out: MoleculeListEntry[] = [];
  const journal = synced ? synced.journal : await syncJournal(findRoot(rootOrCwd));
  for (const next of lookAtMolecules(rootOrCwd, now, undefined, undefined, journal)) {
    // Only a molecule judged in full is awaited: a warm list awaits nothing.
    const look = next instanceof Promise ? await next : next;
    if (tally && look.judged) tally.judged++;
    if (look.view) {
      const v = look.view;
      out.push({
        id: look.id,
        formula: v.formula,
        state: look.state,
        progress: { done: look.done, total: look.total },
        ...(v.blocked ? { blocked_reason: v.blocked } : {}),
        ...(v.convoy ? { convoy: v.convoy } : {}),
      });
      continue;
    }
    if (!look.judged) continue; // only `current` accepts a summary without a view
    const s = statusOf(look.judged.state, look.judged.plan);
    const problem = s.problems[0] ?? s.conflicts[0];
    out.push({
      id: look.id,
      formula: s.formula,
      state: s.state,
      progress: s.progress,
      ...(s.blocked_reason ? { blocked_reason: s.blocked_reason } : {}),
      ...(problem ? { problem: problem.file ? `${problem.file}: ${problem.message}` : problem.message } : {}),
      ...(s.convoy ? { convoy: s.convoy } : {}),
    });
  }
  return out;
}
