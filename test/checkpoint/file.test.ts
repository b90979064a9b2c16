import { describe, expect, it } from 'vitest';
import {
  type CheckpointSpec,
  checkpointId,
  parseApproval,
  parseCheckpoint,
  parseCheckpointId,
  renderCheckpoint,
  setDecision,
} from '../../src/checkpoint/file.js';
import { GastownError } from '../../src/errors.js';

const spec: CheckpointSpec = {
  molecule: 'day3-workflow-refs',
  step: 'analysis-checkpoint',
  attempt: 1,
  title: 'Analysis checkpoint',
  description: 'Review the analysis before planning.',
  gate: {
    type: 'human',
    approvers: ['@jgil', 'team:leads'],
    min_approvals: 1,
    prevent_self_approval: true,
    timeout: '2h',
    on_timeout: 'escalate',
    on_reject: 'analysis',
  },
  reviewed: [
    {
      step: 'analysis',
      attempt: 1,
      text: '---\nconfidence: 85\n---\n# Summary\nBR-AUDIT-005.\n\n## Questions\n1. Both events?\n',
    },
  ],
};
const FILE = '.beads/molecules/day3-workflow-refs/checkpoints/analysis-checkpoint.md';

function errorOf(fn: () => unknown): GastownError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GastownError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('checkpoint files', () => {
  it('names attempts deterministically', () => {
    expect(checkpointId('plan-checkpoint', 1)).toBe('plan-checkpoint');
    expect(checkpointId('plan-checkpoint', 2)).toBe('plan-checkpoint.attempt-2');
    expect(parseCheckpointId('plan-checkpoint.attempt-2')).toEqual({ step: 'plan-checkpoint', attempt: 2 });
  });

  it('renders a pending request with the work under review and how to respond; same spec, same bytes', () => {
    const text = renderCheckpoint(spec);
    expect(text).toBe(renderCheckpoint(structuredClone(spec)));
    expect(
      text.startsWith(
        '---\ncheckpoint: analysis-checkpoint\nmolecule: day3-workflow-refs\nstep: analysis-checkpoint\nattempt: 1\n',
      ),
    ).toBe(true);
    expect(text).toContain('decision: pending # pending | approved | rejected\n');
    expect(text).toContain('approvers:\n  - "@jgil"\n  - team:leads\n');
    expect(text).toContain('```yaml\nconfidence: 85\n```');
    expect(text).toContain('#### Summary'); // the output's headings sit below the review heading
    expect(text).toContain('gastown checkpoint reject day3-workflow-refs analysis-checkpoint --reason "..."');
    const parsed = parseCheckpoint(FILE, text);
    expect(parsed).toMatchObject({
      id: 'analysis-checkpoint',
      step: 'analysis-checkpoint',
      attempt: 1,
      decision: 'pending',
      reviews: ['analysis'],
      approvers: ['@jgil', 'team:leads'],
      timeout: '2h',
      on_reject: 'analysis',
    });
  });

  it('says who may decide as the trust rule does: with no approvers, only people under [users]', () => {
    expect(renderCheckpoint(spec)).toContain(
      'Who may decide: @jgil, team:leads; not the agent that did the work.',
    );
    const open = renderCheckpoint({ ...spec, gate: { ...spec.gate, approvers: [] } });
    expect(open).toContain(
      'Who may decide: any person listed under [users] in .beads/config.toml (an email not listed there never counts); not the agent that did the work.',
    );
  });

  it('`decision: maybe` is an error naming the file, the field, its line and the allowed values', () => {
    const text = renderCheckpoint(spec).replace('decision: pending', 'decision: maybe');
    const err = errorOf(() => parseCheckpoint(FILE, text));
    expect(err.toString()).toBe(
      `${FILE}:8: decision: decision "maybe" is not allowed: use one of pending, approved, rejected`,
    );
  });

  it('broken front matter is an error naming the file and the allowed decisions', () => {
    const broken = renderCheckpoint(spec).replace('reason: ""', 'reason: "unterminated');
    expect(errorOf(() => parseCheckpoint(FILE, broken)).toString()).toMatch(
      new RegExp(
        `^${FILE}:\\d+: front matter is not valid YAML: .*decision: pending \\| approved \\| rejected`,
      ),
    );
    expect(errorOf(() => parseCheckpoint(FILE, 'decision: approved\n')).toString()).toMatch(
      /missing front matter/,
    );
    expect(errorOf(() => parseCheckpoint(FILE, '---\ndecision: approved\n')).toString()).toMatch(
      /not closed/,
    );
  });

  it('a rejection needs a reason', () => {
    const text = setDecision(renderCheckpoint(spec), 'rejected', '');
    expect(errorOf(() => parseCheckpoint(FILE, text)).message).toBe(
      'a rejection needs a reason: set `reason:` to what must change',
    );
  });

  it('setDecision changes only the decision and reason lines', () => {
    const before = renderCheckpoint(spec);
    const after = setDecision(before, 'rejected', 'Cover degraded mode: "fallback" workflows');
    const changed = after.split('\n').filter((l, i) => l !== before.split('\n')[i]);
    expect(changed).toEqual([
      'decision: rejected # pending | approved | rejected',
      'reason: "Cover degraded mode: \\"fallback\\" workflows" # required when rejecting',
    ]);
    expect(parseCheckpoint(FILE, after)).toMatchObject({
      decision: 'rejected',
      reason: 'Cover degraded mode: "fallback" workflows',
    });
    // Approving with no text leaves the empty reason as it is: only the decision changes.
    expect(setDecision(before, 'approved', '')).toBe(
      before.replace('decision: pending #', 'decision: approved #'),
    );
  });

  it('setDecision keeps every other byte: comments, CRLF, a BOM, quoted values with #, the body', () => {
    const text =
      "\uFEFF---\r\ncheckpoint: review\r\nstep: review\r\nattempt: 1\r\n# a person's note\r\n" +
      'decision:   "pending"   # say it here\r\nreason: \'not # a comment\'  # why\r\n' +
      'extra: [a, b] # kept\r\n---\r\nBody with decision: pending\r\n';
    expect(setDecision(text, 'rejected', 'needs work')).toBe(
      text
        .replace('"pending"   # say', 'rejected   # say')
        .replace("'not # a comment'  # why", '"needs work"  # why'),
    );
    // A reason over several lines is replaced whole; a missing one is added after the decision.
    const multi =
      '---\nstep: s\nattempt: 1\ndecision: pending\nreason: |\n  line one\n  line two\nz: 1\n---\n';
    expect(setDecision(multi, 'rejected', 'no')).toBe(
      '---\nstep: s\nattempt: 1\ndecision: rejected\nreason: "no"\nz: 1\n---\n',
    );
    const bare = '---\nstep: s\nattempt: 1\ndecision: pending\n---\n';
    expect(setDecision(bare, 'approved', '')).toBe(bare.replace('pending', 'approved'));
    expect(setDecision(bare, 'approved', 'fine')).toBe(
      '---\nstep: s\nattempt: 1\ndecision: approved\nnote: "fine"\n---\n',
    );
  });

  it('setDecision edits any spelling of the key YAML allows, keeping the rest', () => {
    const quoted = '---\nstep: s\n"decision": pending # here\n\'reason\': >-\n  folded\n  text\n---\nbody\n';
    expect(setDecision(quoted, 'rejected', 'redo')).toBe(
      '---\nstep: s\n"decision": rejected # here\n\'reason\': "redo"\n---\nbody\n',
    );
  });

  it('approval files allow approved or rejected only', () => {
    expect(parseApproval('a.md', '---\ndecision: approved\n---\n')).toEqual({
      file: 'a.md',
      decision: 'approved',
      reason: '',
      note: '',
    });
    expect(errorOf(() => parseApproval('a.md', '---\ndecision: pending\n---\n')).toString()).toBe(
      'a.md:2: decision: decision "pending" is not allowed: use one of approved, rejected',
    );
  });
});
