// Checkpoint files: `.beads/molecules/<mol>/checkpoints/<step>.md` (attempt 1) and
// `<step>.attempt-<n>.md` (attempt n ≥ 2). The engine writes one with `decision: pending` when a
// human-gated step becomes ready; a person edits `decision:` (or runs `gastown checkpoint
// approve|reject`). Render and parse are pure.
import { isDeepStrictEqual } from 'node:util';
import { CST, Parser } from 'yaml';
import { GastownError } from '../errors.js';
import type { HumanGate } from '../formula/model.js';
import { FrontMatterError, parseFrontMatter, renderFrontMatter } from './frontmatter.js';
import { splitFrontMatter } from './frontmatter-split.js';

export const DECISIONS = ['pending', 'approved', 'rejected'] as const;
export type Decision = (typeof DECISIONS)[number];
/** What an approval file (one per approver, for `min_approvals` > 1) may say. */
export const VOTES = ['approved', 'rejected'] as const;
export type Vote = (typeof VOTES)[number];

/** `analysis-checkpoint` for attempt 1, `analysis-checkpoint.attempt-2` after. */
export function checkpointId(step: string, attempt: number): string {
  return attempt <= 1 ? step : `${step}.attempt-${attempt}`;
}

/** The step and attempt a checkpoint id names (the inverse of checkpointId). */
export function parseCheckpointId(id: string): { step: string; attempt: number } {
  const m = /^(.*)\.attempt-(\d+)$/.exec(id);
  return m ? { step: m[1] as string, attempt: Number(m[2]) } : { step: id, attempt: 1 };
}

/** Paths inside the molecule folder. */
export const checkpointPaths = {
  request: (id: string) => `checkpoints/${id}.md`,
  approvalsDir: (id: string) => `checkpoints/${id}.approvals`,
  approval: (id: string, who: string) => `checkpoints/${id}.approvals/${who}.md`,
  feedbackDir: (step: string) => `feedback/${step}`,
  rejection: (step: string, attempt: number) => `feedback/${step}/${attempt}.rejected.md`,
  comment: (step: string, ulid: string) => `feedback/${step}/${ulid}.comment.md`,
};

export interface ReviewedOutput {
  step: string;
  attempt: number;
  /** Contents of outputs/<step>.md, or undefined when the assignee wrote none. */
  text?: string;
}

export interface CheckpointSpec {
  molecule: string;
  step: string;
  attempt: number;
  title: string;
  description?: string;
  gate: HumanGate;
  /** The steps under review (the checkpoint step's needs) and what their assignees produced. */
  reviewed: ReviewedOutput[];
}

export interface Checkpoint {
  file: string;
  id: string;
  molecule: string;
  step: string;
  attempt: number;
  reviews: string[];
  decision: Decision;
  /** Why it was rejected (required when rejecting). */
  reason: string;
  /** A note kept with an approval (`checkpoint approve --text`). */
  note: string;
  approvers: string[];
  min_approvals: number;
  prevent_self_approval: boolean;
  timeout?: string;
  on_timeout: HumanGate['on_timeout'];
  on_reject?: string;
  /** Keys a person added that we do not read, kept as they are. */
  extra: Record<string, unknown>;
  body: string;
}

const DECISION_HELP = 'pending | approved | rejected';

/** The file the engine writes. Deterministic: same spec, same bytes (no clock, no host). */
export function renderCheckpoint(spec: CheckpointSpec): string {
  const id = checkpointId(spec.step, spec.attempt);
  const g = spec.gate;
  const fm = renderFrontMatter(
    {
      checkpoint: id,
      molecule: spec.molecule,
      step: spec.step,
      attempt: spec.attempt,
      reviews: spec.reviewed.map((r) => r.step),
      decision: 'pending',
      reason: '',
      approvers: g.approvers,
      min_approvals: g.min_approvals,
      prevent_self_approval: g.prevent_self_approval,
      timeout: g.timeout,
      on_timeout: g.on_timeout,
      on_reject: g.on_reject,
      allowed_decisions: [...DECISIONS],
    },
    { decision: DECISION_HELP, reason: 'required when rejecting' },
  );
  const lines: string[] = [`# Checkpoint: ${spec.title}`, ''];
  lines.push(`Molecule \`${spec.molecule}\`, step \`${spec.step}\`, attempt ${spec.attempt}.`, '');
  if (spec.description?.trim()) lines.push(spec.description.trim(), '');
  lines.push('## For review', '');
  if (spec.reviewed.length === 0) lines.push('Nothing was named for review (this step has no needs).', '');
  for (const r of spec.reviewed) {
    lines.push(`### ${r.step} (attempt ${r.attempt})`, '');
    if (r.text === undefined || r.text.trim() === '')
      lines.push(`The assignee wrote no output (outputs/${r.step}.md).`, '');
    else lines.push(reviewText(r.text), '');
  }
  lines.push('## How to respond', '');
  lines.push(
    `Edit \`decision:\` above to \`approved\` or \`rejected\` (a rejection needs \`reason:\`) and commit, or run:`,
    '',
  );
  lines.push('```sh');
  lines.push(`gastown checkpoint approve ${spec.molecule} ${id} [--text "..."]`);
  lines.push(`gastown checkpoint reject ${spec.molecule} ${id} --reason "..."`);
  lines.push(`gastown checkpoint comment ${spec.molecule} ${id} --text "..."`);
  lines.push('```', '');
  // Matches judgeVote: with no approvers named, only people listed under [users] count.
  const who =
    g.approvers.length > 0
      ? g.approvers.join(', ')
      : 'any person listed under [users] in .beads/config.toml (an email not listed there never counts)';
  lines.push(
    `Who may decide: ${who}${g.min_approvals > 1 ? ` (${g.min_approvals} approvals needed)` : ''}${g.prevent_self_approval ? '; not the agent that did the work' : ''}.`,
  );
  if (g.on_reject) lines.push(`On rejection: \`${g.on_reject}\` is re-opened with the reason.`);
  if (g.timeout) lines.push(`Deadline: ${g.timeout} after this request is committed; then: ${g.on_timeout}.`);
  return `${fm}${lines.join('\n')}\n`;
}

/** An output's front matter (machine fields such as confidence) as a YAML block, then its prose. */
function reviewText(text: string): string {
  const split = splitFrontMatter(text);
  if (!('yaml' in split)) return demoteHeadings(text.replace(/\r\n/g, '\n').trim());
  const fields = split.yaml.trim();
  const body = split.body.trim();
  return [fields ? `\`\`\`yaml\n${fields}\n\`\`\`` : '', demoteHeadings(body)]
    .filter((s) => s !== '')
    .join('\n\n');
}

/** The reviewed output sits under a level-3 heading: push its headings below it. */
function demoteHeadings(text: string): string {
  let fence = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) fence = !fence;
      if (fence) return line;
      const m = /^(#{1,6})(\s.*)$/.exec(line);
      return m ? `${'#'.repeat(Math.min(6, (m[1] as string).length + 3))}${m[2]}` : line;
    })
    .join('\n');
}

function invalid(file: string, message: string, path?: string, line?: number): GastownError {
  return new GastownError('checkpoint.invalid', message, {
    location: { file, ...(path ? { path } : {}), ...(line !== undefined ? { line } : {}) },
  });
}

/** Parses and validates a checkpoint file; errors name the file, the field and the allowed values. */
export function parseCheckpoint(file: string, text: string): Checkpoint {
  const fm = checkpointFrontMatter(file, text);
  const f = fieldReader(file, fm);
  const d = fm.data;
  const { decision, reason } = decisionOf(f);
  const step = f.str('step', true) as string;
  const attempt = d.attempt;
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1)
    throw invalid(
      file,
      `\`attempt\` must be a whole number ≥ 1, found ${JSON.stringify(attempt)}`,
      'attempt',
      f.at('attempt'),
    );
  const rules = approvalRules(f);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) if (!CHECKPOINT_KEYS.has(k)) extra[k] = v;
  const out: Checkpoint = {
    file,
    id: f.str('checkpoint', false) ?? checkpointId(step, attempt),
    molecule: f.str('molecule', false) ?? '',
    step,
    attempt,
    reviews: f.list('reviews'),
    decision,
    reason,
    note: (f.str('note', false) ?? '').trim(),
    approvers: f.list('approvers'),
    ...rules,
    extra,
    body: fm.body,
  };
  const timeout = f.str('timeout', false);
  if (timeout) out.timeout = timeout;
  const onReject = f.str('on_reject', false);
  if (onReject) out.on_reject = onReject;
  return out;
}

const CHECKPOINT_KEYS = new Set([
  'checkpoint',
  'molecule',
  'step',
  'attempt',
  'reviews',
  'decision',
  'reason',
  'note',
  'approvers',
  'min_approvals',
  'prevent_self_approval',
  'timeout',
  'on_timeout',
  'on_reject',
  'allowed_decisions',
]);

type FrontMatter = ReturnType<typeof parseFrontMatter>;

function checkpointFrontMatter(file: string, text: string): FrontMatter {
  try {
    return parseFrontMatter(text);
  } catch (err) {
    if (err instanceof FrontMatterError) {
      throw invalid(
        file,
        `${err.message}; a checkpoint's front matter needs \`decision: ${DECISION_HELP}\``,
        undefined,
        err.line,
      );
    }
    throw err;
  }
}

/** Typed reads of front-matter fields; a wrong one throws naming the file, field and line. */
interface FieldReader {
  file: string;
  data: FrontMatter['data'];
  at(key: string): number | undefined;
  str(key: string, required: boolean): string | undefined;
  list(key: string): string[];
}

function fieldReader(file: string, fm: FrontMatter): FieldReader {
  const d = fm.data;
  const at = (key: string) => fm.lines[key];
  return {
    file,
    data: d,
    at,
    str: (key, required) => {
      const v = d[key];
      if (v === undefined || v === null) {
        if (required) throw invalid(file, `missing field \`${key}\``, key);
        return undefined;
      }
      if (typeof v !== 'string')
        throw invalid(file, `\`${key}\` must be text, found ${JSON.stringify(v)}`, key, at(key));
      return v;
    },
    list: (key) => {
      const v = d[key] ?? [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
        throw invalid(file, `\`${key}\` must be a list of text`, key, at(key));
      return v as string[];
    },
  };
}

/** The decision, one of the allowed words, and its reason (required for a rejection). */
function decisionOf(f: FieldReader): { decision: Decision; reason: string } {
  const { file, at } = f;
  const decisionRaw = f.data.decision;
  if (decisionRaw === undefined)
    throw invalid(file, `missing field \`decision\`: allowed values are ${DECISIONS.join(', ')}`, 'decision');
  if (typeof decisionRaw !== 'string' || !(DECISIONS as readonly string[]).includes(decisionRaw.trim())) {
    throw invalid(
      file,
      `decision ${JSON.stringify(decisionRaw)} is not allowed: use one of ${DECISIONS.join(', ')}`,
      'decision',
      at('decision'),
    );
  }
  const decision = decisionRaw.trim() as Decision;
  const reason = (f.str('reason', false) ?? '').trim();
  if (decision === 'rejected' && reason === '')
    throw invalid(
      file,
      'a rejection needs a reason: set `reason:` to what must change',
      'reason',
      at('reason') ?? at('decision'),
    );
  return { decision, reason };
}

/** How many approvals count, whether the author may approve, and what a timeout does. */
function approvalRules(
  f: FieldReader,
): Pick<Checkpoint, 'min_approvals' | 'prevent_self_approval' | 'on_timeout'> {
  const { file, at, data: d } = f;
  const minApprovals = d.min_approvals ?? 1;
  if (typeof minApprovals !== 'number' || !Number.isInteger(minApprovals) || minApprovals < 1)
    throw invalid(file, '`min_approvals` must be a whole number ≥ 1', 'min_approvals', at('min_approvals'));
  const psa = d.prevent_self_approval ?? true;
  if (typeof psa !== 'boolean')
    throw invalid(
      file,
      '`prevent_self_approval` must be true or false',
      'prevent_self_approval',
      at('prevent_self_approval'),
    );
  const onTimeout = d.on_timeout ?? 'escalate';
  if (onTimeout !== 'escalate' && onTimeout !== 'reject' && onTimeout !== 'approve')
    throw invalid(
      file,
      `on_timeout ${JSON.stringify(onTimeout)} is not allowed: use one of escalate, reject, approve`,
      'on_timeout',
      at('on_timeout'),
    );
  return { min_approvals: minApprovals, prevent_self_approval: psa, on_timeout: onTimeout };
}

export interface ApprovalFile {
  file: string;
  decision: Vote;
  reason: string;
  /** A note kept with an approval. */
  note: string;
}

/** An approval file: `decision: approved|rejected` and a reason (required when rejecting). */
export function parseApproval(file: string, text: string): ApprovalFile {
  let fm: ReturnType<typeof parseFrontMatter>;
  try {
    fm = parseFrontMatter(text);
  } catch (err) {
    if (err instanceof FrontMatterError)
      throw invalid(
        file,
        `${err.message}; an approval needs \`decision: approved | rejected\``,
        undefined,
        err.line,
      );
    throw err;
  }
  const v = fm.data.decision;
  if (typeof v !== 'string' || !(VOTES as readonly string[]).includes(v.trim())) {
    throw invalid(
      file,
      `decision ${JSON.stringify(v ?? null)} is not allowed: use one of ${VOTES.join(', ')}`,
      'decision',
      fm.lines.decision,
    );
  }
  const reason = typeof fm.data.reason === 'string' ? fm.data.reason.trim() : '';
  if (v.trim() === 'rejected' && reason === '')
    throw invalid(
      file,
      'a rejection needs a reason: set `reason:`',
      'reason',
      fm.lines.reason ?? fm.lines.decision,
    );
  const note = typeof fm.data.note === 'string' ? fm.data.note.trim() : '';
  return { file, decision: v.trim() as Vote, reason, note };
}

/** An approval file; `text` is the reason of a rejection or the note of an approval. */
export function renderApproval(fields: { checkpoint: string; decision: Vote; text?: string }): string {
  const text = fields.text ?? '';
  return renderFrontMatter(
    {
      checkpoint: fields.checkpoint,
      decision: fields.decision,
      reason: fields.decision === 'rejected' ? text : '',
      ...(fields.decision === 'approved' && text !== '' ? { note: text } : {}),
    },
    { decision: 'approved | rejected' },
  );
}

/** What a vote says in words: a rejection's reason, an approval's note (older files kept it in `reason:`). */
export function voteText(v: { decision: string; reason: string; note: string }): string {
  return v.decision === 'approved' ? v.note || v.reason : v.reason;
}

/**
 * Sets `decision:` and the words that go with it in a checkpoint's text, and changes nothing
 * else: `reason:` for a rejection, `note:` for an approval (`text` empty: left as it is).
 * Comments after the values, other fields, line endings and the body keep their bytes (what a
 * person editing the file would do), so the diff in a pull request is exactly the decision.
 */
export function setDecision(text: string, decision: Vote, words: string, file = 'checkpoint'): string {
  const cannot = (why: string) =>
    new GastownError('checkpoint.invalid', `cannot set the decision: ${why}; edit \`decision:\` by hand`, {
      location: { file },
    });
  let before: ReturnType<typeof parseFrontMatter>;
  try {
    before = parseFrontMatter(text);
  } catch (err) {
    if (err instanceof FrontMatterError) throw cannot(err.message);
    throw err;
  }
  const want: Record<string, unknown> = { ...before.data, decision };
  // Every candidate must read back as exactly the intended fields and the same body.
  const reads = (candidate: string) => {
    try {
      const after = parseFrontMatter(candidate);
      return after.body === before.body && isDeepStrictEqual(after.data, want);
    } catch {
      return false;
    }
  };
  const unchangeable = () =>
    cannot(`the file's \`${Object.keys(want).join('`, `')}\` cannot be set line by line`);
  let out = setScalar(text, 'decision', decision, 'PLAIN');
  if (out === undefined) throw cannot('it has no `decision:` line');
  if (!reads(out)) throw unchangeable();
  const key = decision === 'rejected' ? 'reason' : 'note';
  if (words !== '' && before.data[key] !== words) {
    want[key] = words;
    let next = setScalar(out, key, words, 'QUOTE_DOUBLE');
    if (next === undefined) {
      // A new field goes after `reason:` when there is one, else after `decision:`.
      const lines = out.split('\n');
      let at = key === 'note' ? lines.findIndex((l) => /^reason[ \t]*:/.test(l)) : -1;
      if (at < 0) at = lines.findIndex((l) => /^decision[ \t]*:/.test(l));
      const cr = lines[at]?.endsWith('\r') ? '\r' : '';
      next = [
        ...lines.slice(0, at + 1),
        `${key}: ${JSON.stringify(words)}${cr}`,
        ...lines.slice(at + 1),
      ].join('\n');
    }
    if (!reads(next)) throw unchangeable();
    out = next;
  }
  return out;
}

/**
 * `text` with the value of the front matter's top-level `key` set to `value`, edited in the YAML
 * parser's concrete syntax tree: every other byte (comments, quoting, line endings, the body)
 * stays. Undefined when the key is not there or has no value to replace.
 */
function setScalar(
  text: string,
  key: string,
  value: string,
  type: 'PLAIN' | 'QUOTE_DOUBLE',
): string | undefined {
  const lines = text.split('\n');
  const close = lines.findIndex((l, i) => i > 0 && /^---[ \t]*\r?$/.test(l));
  if (close < 1) return undefined;
  const tokens = [...new Parser().parse(`${lines.slice(1, close).join('\n')}\n`)];
  let found = false;
  for (const token of tokens) {
    if (found || token.type !== 'document' || token.value?.type !== 'block-map') continue;
    for (const item of token.value.items) {
      if (!item.key || !item.value || CST.resolveAsScalar(item.key)?.value !== key) continue;
      CST.setScalarValue(item.value, value, { type });
      found = true;
      break;
    }
  }
  if (!found) return undefined;
  return [lines[0], `${tokens.map((t) => CST.stringify(t)).join('')}${lines.slice(close).join('\n')}`].join(
    '\n',
  );
}

/** Feedback for the assignee when a checkpoint rejected their work (engine-made, deterministic). */
export function renderRejectionFeedback(f: {
  checkpoint: string;
  step: string;
  attempt: number;
  reason: string;
  by?: string;
}): string {
  const fm = renderFrontMatter({
    kind: 'rejection',
    checkpoint: f.checkpoint,
    step: f.step,
    attempt: f.attempt,
    by: f.by,
  });
  return `${fm}# ${f.checkpoint} was rejected\n\n${f.reason.trim()}\n\nThis is attempt ${f.attempt} of \`${f.step}\`: address the reason above, then mark the step done again.\n`;
}

/** A comment for the assignee, written by `gastown checkpoint comment` (one file per comment). */
export function renderComment(f: {
  checkpoint: string;
  step: string;
  attempt: number;
  text: string;
}): string {
  const fm = renderFrontMatter({
    kind: 'comment',
    checkpoint: f.checkpoint,
    step: f.step,
    attempt: f.attempt,
  });
  return `${fm}${f.text.trim()}\n`;
}
