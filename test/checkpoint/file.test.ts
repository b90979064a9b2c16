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
      'decision: rejected',
      'reason: "Cover degraded mode: \\"fallback\\" workflows"',
    ]);
    expect(parseCheckpoint(FILE, after)).toMatchObject({
      decision: 'rejected',
      reason: 'Cover degraded mode: "fallback" workflows',
    });
  });

  it('approval files allow approved or rejected only', () => {
    expect(parseApproval('a.md', '---\ndecision: approved\n---\n')).toEqual({
      file: 'a.md',
      decision: 'approved',
      reason: '',
    });
    expect(errorOf(() => parseApproval('a.md', '---\ndecision: pending\n---\n')).toString()).toBe(
      'a.md:2: decision: decision "pending" is not allowed: use one of approved, rejected',
    );
  });
});
