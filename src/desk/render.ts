// The text of a step view, as `step show` and `prime` print it. Without the YAML parser: only a
// view with feedback or comments needs their front matter taken off, and `prime` loads it then.
export interface NeedView {
  step: string;
  state: string;
  /** Repo-relative path of the output its current attempt stored, when it stored one. */
  output?: string;
}

export interface FeedbackView {
  /** Repo-relative path. */
  file: string;
  /** `rejected`, `gate-failed` or `comment`. */
  kind: string;
  text: string;
}

export interface StepView {
  molecule: string;
  step: string;
  title: string;
  state: string;
  attempt: number;
  assignee?: string;
  /** The step's description with the molecule's vars filled in. */
  description: string;
  acceptance?: string;
  gate?: string;
  needs: NeedView[];
  /** Why this attempt exists: the rejection or gate failure that re-opened it. */
  feedback: FeedbackView[];
  /** Comments people left on a checkpoint for whoever does this step, oldest first. */
  comments: FeedbackView[];
  /** The checkpoint request a person decides, for a checkpoint step. */
  checkpoint?: string;
  /** What finishes it, in the order to use them. */
  commands: string[];
  /** The commit trailer that records it done. */
  trailer?: string;
}

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
  const { parseFrontMatter } = await import('../checkpoint/frontmatter.js');
  return renderStepViewWith(v, stripWith(parseFrontMatter), opts);
}

/** The markdown of a feedback file without its front matter (all of it when that cannot be read). */
export function stripWith(parse: (text: string) => { body: string }): (text: string) => string {
  return (text) => {
    try {
      return parse(text).body.trim();
    } catch {
      return text.trim();
    }
  };
}
