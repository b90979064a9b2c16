// The text of a step view, as `step show` and `prime` print it. Without the YAML parser: only a
// view with feedback or comments needs their front matter taken off, and `prime` loads it then.
import type { StepView } from './view.js';

/** renderStepView with the given reader of a feedback file's markdown body. */
export function renderStepViewWith(
  v: StepView,
  body: (text: string) => string,
  opts: { heading?: boolean } = {},
): string[] {
  const lines: string[] = [];
  if (opts.heading !== false) lines.push(`${v.molecule}/${v.step}: ${v.title}`);
  const who = v.assignee ? `, for ${v.assignee}` : '';
  const gate = v.gate ? `, gate: ${v.gate}` : '';
  lines.push(`state: ${v.state.replace('_', ' ')}, attempt ${v.attempt}${who}${gate}`);
  if (v.description) lines.push('', v.description);
  if (v.acceptance) lines.push('', `Done when: ${v.acceptance}`);
  if (v.needs.length > 0) {
    lines.push('', 'Needs:');
    for (const n of v.needs) lines.push(`  ${n.step} (${n.state})${n.output ? `: ${n.output}` : ''}`);
  }
  for (const f of v.feedback) {
    lines.push('', `Feedback for attempt ${v.attempt} (${f.kind}, ${f.file}):`, '', body(f.text));
  }
  for (const c of v.comments) lines.push('', `Comment (${c.file}):`, '', body(c.text));
  if (v.checkpoint) lines.push('', `Checkpoint: ${v.checkpoint}`);
  if (v.commands.length > 0) {
    lines.push('', 'To finish it:');
    for (const c of v.commands) lines.push(`  ${c}`);
  }
  return lines;
}

/** renderStepView, loading the front matter reader only when the view has feedback or comments. */
export async function renderStepViewLazily(v: StepView, opts: { heading?: boolean } = {}): Promise<string[]> {
  if (v.feedback.length === 0 && v.comments.length === 0) return renderStepViewWith(v, (text) => text, opts);
  const { renderStepView } = await import('./view.js');
  return renderStepView(v, opts);
}
