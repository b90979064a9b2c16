// The agent's desk (docs/agents.md): one step as the agent who does it needs to read it, and
// what `prime` shows at the start of a session. A step's instructions, its attempt and its
// feedback are all in the molecule's files; which steps are the agent's comes from the same
// summaries and judgement as `molecule current` (engine/views.ts), and the step on the hook is
// kept like a status (engine/status-cache.ts).
import { checkpointId, checkpointPaths } from '../checkpoint/file.js';
import { parseFrontMatter } from '../checkpoint/frontmatter.js';
import { fileMoleculeStatus, readMoleculeFiles } from '../engine/io.js';
import { stepAssignee } from '../engine/plan.js';
import { foldFiles, planState } from '../engine/reconcile.js';
import { formatTrailer } from '../engine/trailers.js';
import type { MoleculeState, MoleculeStatus, PlanResult, StepState } from '../engine/types.js';
import { GastownError } from '../errors.js';
import type { HumanGate } from '../formula/model.js';
import { substituteVars as substitute } from '../formula/vars.js';
import { assertPathSegment } from '../store/ids.js';
import { outputPath } from '../store/layout.js';
import type { GastownConfig } from '../store/types.js';
import { renderStepViewWith, type StepView, stripWith } from './render.js';

export type { FeedbackView, NeedView, StepView } from './render.js';

const SATISFIED = new Set(['done', 'skipped']);

/** Folds and plans a molecule from its files alone (no git): what `step show` and `prime` read. */
export async function loadView(
  root: string,
  id: string,
  config: GastownConfig,
  now: Date,
  moleculeStatus: (id: string) => MoleculeStatus | undefined = fileMoleculeStatus(root),
): Promise<{ state: MoleculeState; plan: PlanResult }> {
  const state = foldFiles(id, readMoleculeFiles(root, id));
  const plan = await planState(state, { config, now, moleculeStatus });
  return { state, plan };
}

/** A step's state as `status` shows it: a pending step the next reconcile makes ready is ready. */
export function shownState(plan: PlanResult, s: StepState): string {
  if (s.status !== 'pending') return s.status;
  const ready = plan.effects.some(
    (e) => e.type === 'transition' && e.fact.step === s.id && e.fact.kind === 'ready',
  );
  return ready ? 'ready' : 'pending';
}

function outputOf(state: MoleculeState, id: string): string | undefined {
  const s = state.stepById.get(id);
  if (!s) return undefined;
  for (const rel of [s.facts.done?.output, outputPath(id, s.attempt), `outputs/${id}.md`])
    if (rel !== undefined && state.files.has(rel)) return `${state.dir}/${rel}`;
  return undefined;
}

/** The view of one step; throws naming the steps when it has none by that id. */
export function stepView(state: MoleculeState, plan: PlanResult, stepId: string): StepView {
  const formula = state.formula;
  const step = formula?.steps.find((s) => s.id === stepId);
  const s = state.stepById.get(stepId);
  if (!formula || !step || !s) {
    assertPathSegment(stepId, 'step id');
    throw new GastownError(
      'step.unknown',
      `molecule ${state.id} has no step ${JSON.stringify(stepId)} (steps: ${(formula?.steps ?? []).map((x) => x.id).join(', ')})`,
    );
  }
  const vars = state.meta?.vars ?? {};
  const assignee = s.assignee ?? stepAssignee(step, state);
  const view: StepView = {
    molecule: state.id,
    step: step.id,
    title: step.title || step.id,
    state: shownState(plan, s),
    attempt: s.attempt,
    ...(assignee !== undefined ? { assignee } : {}),
    description: substitute(step.description ?? '', vars).trimEnd(),
    ...(step.acceptance ? { acceptance: substitute(step.acceptance, vars).trimEnd() } : {}),
    ...(step.gate ? { gate: step.gate.type } : {}),
    needs: step.needs.map((n) => {
      const ns = state.stepById.get(n);
      const output = outputOf(state, n);
      return { step: n, state: ns ? shownState(plan, ns) : 'pending', ...(output ? { output } : {}) };
    }),
    feedback: [],
    comments: [],
    commands: [],
  };
  const dir = `${checkpointPaths.feedbackDir(step.id)}/`;
  for (const [rel, text] of [...state.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!rel.startsWith(dir)) continue;
    const name = rel.slice(dir.length);
    const file = `${state.dir}/${rel}`;
    const m = /^(\d+)\.(rejected|gate-failed)\.md$/.exec(name);
    if (m) {
      if (Number(m[1]) === s.attempt) view.feedback.push({ file, kind: m[2] as string, text });
    } else if (name.endsWith('.comment.md')) view.comments.push({ file, kind: 'comment', text });
  }
  const m = state.id;
  if (step.gate?.type === 'human') {
    view.checkpoint = `${state.dir}/${checkpointPaths.request(checkpointId(step.id, s.attempt))}`;
    const who = (step.gate as HumanGate).approvers;
    view.commands.push(
      `an approver${who.length > 0 ? ` (${who.join(', ')})` : ''} decides: gastown checkpoint approve ${m} ${step.id}`,
      `or: gastown checkpoint reject ${m} ${step.id} --reason "..."`,
    );
  } else if (step.gate?.type === 'command') {
    view.commands.push('the engine runs its gate once the steps it needs are done (gastown advance)');
  } else if (!SATISFIED.has(s.status)) {
    if (s.status !== 'in_progress') view.commands.push(`gastown step start ${m} ${step.id}`);
    view.commands.push(
      `gastown step done ${m} ${step.id} --output FILE   (FILE: what you produced, kept as its output)`,
      `or commit with the trailer: ${formatTrailer({ kind: 'done', molecule: m, step: step.id })}`,
    );
    view.trailer = formatTrailer({ kind: 'done', molecule: m, step: step.id });
  }
  return view;
}

/** The text of a step view, as `step show` and `prime` print it. */
export function renderStepView(v: StepView, opts: { heading?: boolean } = {}): string[] {
  return renderStepViewWith(v, stripWith(parseFrontMatter), opts);
}
