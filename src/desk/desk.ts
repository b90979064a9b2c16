// The agent's desk (docs/agents.md): which steps are the agent's, from the same summaries and
// judgement as `molecule current` (engine/views.ts), and the step on its hook with its
// instructions, kept like a status while nothing it was judged from changed
// (engine/status-cache.ts). Folding and planning (desk/view.ts, the engine) load only for a
// molecule judged in full or a view not kept.
import { keepableName, keepOutput, keptOutput, summariesStat } from '../engine/kept-output.js';
import { beforeJudging, keptAnswer } from '../engine/status-cache.js';
import { MOVABLE } from '../engine/summaries.js';
import type { StepState } from '../engine/types.js';
import { lookAtMolecules } from '../engine/views.js';
import { stampWindow } from '../store/cache.js';
import { syncJournal } from '../store/journal.js';
import type { GastownConfig } from '../store/types.js';
import type { StepView } from './render.js';

/**
 * The view of step `step` of molecule `id` as loadView and stepView give it, kept while nothing it
 * was judged from changed (engine/status-cache.ts): `prime` of an unchanged desk folds nothing.
 */
async function keptStepView(
  root: string,
  id: string,
  step: string,
  config: GastownConfig,
  now: Date,
): Promise<StepView> {
  const kind = `step.${step}` as const;
  const kept = keptAnswer<StepView>(root, id, kind, now);
  if (kept) return kept;
  const keeper = beforeJudging<StepView>(root, id, kind);
  const { loadView, stepView } = await import('./view.js');
  const { state, plan } = await loadView(root, id, config, now, keeper?.moleculeStatus);
  const view = stepView(state, plan, step);
  if (keeper && !plan.volatile) keeper.keep(view, plan.recheckAt);
  return view;
}

export interface DeskStep {
  molecule: string;
  step: string;
  title: string;
  state: string;
  attempt: number;
}

export interface Desk {
  /** The step on the agent's hook (in progress, else the first ready one) with its instructions. */
  hook?: StepView;
  /** The other steps ready for the agent. */
  ready: DeskStep[];
}

/**
 * The steps for `me` across molecules that can move (not completed, cancelled, invalid or in
 * conflict): in progress first, then ready, in molecule order. Each molecule is looked at as
 * `molecule current` looks at it (engine/views.ts): from its summary while nothing it was computed
 * from changed, else read and judged, and that recorded. Gated steps are left out: a person or
 * the engine finishes them. Only the step on the hook is read in full, for its instructions, and
 * that view is kept while nothing it was judged from changed.
 */
export async function deskOf(root: string, config: GastownConfig, me: string, now: Date): Promise<Desk> {
  const bare = (n: string) => n.replace(/^@/, '');
  const mine = (a: string | undefined) => a !== undefined && bare(a) === bare(me);
  const inProgress: { view: () => Promise<StepView>; step: DeskStep }[] = [];
  const ready: { view: () => Promise<StepView>; step: DeskStep }[] = [];
  const add = (entry: { view: () => Promise<StepView>; step: DeskStep }) =>
    (entry.step.state === 'in_progress' ? inProgress : ready).push(entry);
  // As `molecule current` looks: one that cannot move needs no more than its state from its summary.
  const journal = await syncJournal(root);
  // Which steps are mine, as a run that took every molecule from its summary found them
  // (engine/kept-output.ts); an agent name that cannot be part of a file name is never kept.
  const kind = keepableName(me) ? `desk.for-${me}` : undefined;
  const kept = kind && keptDesk(keptOutput(root, kind, journal, now.getTime(), () => false));
  if (kept) {
    const [first, ...rest] = kept;
    return {
      ...(first ? { hook: await keptStepView(root, first.molecule, first.step, config, now) } : {}),
      ready: rest,
    };
  }
  const runStartMs = Date.now();
  const before = summariesStat(root);
  let judged = 0;
  const looks = lookAtMolecules(root, now, (state) => !MOVABLE.has(state), undefined, journal);
  for (const next of looks) {
    const look = next instanceof Promise ? await next : next;
    const id = look.id;
    if (look.judged) judged++;
    if (!look.judged) {
      if (!MOVABLE.has(look.state)) continue;
      for (const w of look.view?.work ?? []) {
        if (w.gate === 'human' || w.gate === 'command' || !mine(w.assignee)) continue;
        const step = {
          molecule: id,
          step: w.step,
          title: w.title || w.step,
          state: w.state,
          attempt: w.attempt,
        };
        add({ view: () => keptStepView(root, id, w.step, config, now), step });
      }
      continue;
    }
    const { state, plan } = look.judged;
    if (!MOVABLE.has(plan.status) || !state.formula) continue;
    const { shownState, stepView } = await import('./view.js');
    for (const step of state.formula.steps) {
      const s = state.stepById.get(step.id) as StepState;
      const shown = shownState(plan, s);
      if (shown !== 'ready' && shown !== 'in_progress') continue;
      if (step.gate?.type === 'human' || step.gate?.type === 'command') continue;
      const planned = plan.effects.find(
        (e) => e.type === 'transition' && e.fact.step === step.id && e.fact.kind === 'ready',
      );
      const who = s.assignee ?? (planned?.type === 'transition' ? planned.fact.assignee : undefined);
      if (!mine(who)) continue;
      add({
        view: async () => stepView(state, plan, step.id),
        step: { molecule: id, step: step.id, title: step.title || step.id, state: shown, attempt: s.attempt },
      });
    }
  }
  const all = [...inProgress, ...ready];
  if (kind && judged === 0)
    keepOutput(
      root,
      kind,
      journal,
      before,
      runStartMs,
      stampWindow(),
      JSON.stringify(all.map((e) => e.step)),
      undefined,
    );
  const first = all[0];
  return {
    ...(first ? { hook: await first.view() } : {}),
    ready: all.slice(1).map((e) => e.step),
  };
}

/** The steps a kept desk lists, when its text is such a list. */
function keptDesk(text: string | undefined): DeskStep[] | undefined {
  if (text === undefined) return undefined;
  try {
    const steps = JSON.parse(text) as DeskStep[];
    const ok = (s: DeskStep) =>
      typeof s?.molecule === 'string' &&
      typeof s.step === 'string' &&
      typeof s.title === 'string' &&
      typeof s.state === 'string' &&
      typeof s.attempt === 'number';
    return Array.isArray(steps) && steps.every(ok) ? steps : undefined;
  } catch {
    return undefined;
  }
}
