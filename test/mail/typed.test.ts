// The typed messages the engine will write from transitions: who gets them (routes, roles, team
// fan-out), deterministic names and bytes, and that writing them twice writes nothing twice.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_MAIL_BODY_BYTES, parseMessageFast } from '../../src/mail/message.js';
import { writeMailFiles } from '../../src/mail/send.js';
import { planTransitionMail, type TransitionFacts, typedMessageId } from '../../src/mail/typed.js';
import { tempDir } from '../helpers/repo.js';
import { mailConfig } from './helpers.js';

const config = mailConfig();

const analysisDone: TransitionFacts = {
  type: 'CHECKPOINT_READY',
  molecule: 'day3',
  step: 'review-analysis',
  attempt: 1,
  title: 'Review the analysis',
  approvers: ['@jgil'],
  assignee: 'polecat-1',
  checkpoint: '.beads/molecules/day3/checkpoints/review-analysis.md',
  output: { path: '.beads/molecules/day3/outputs/analysis.md', text: '# Analysis\n\nThree flaky tests.\n' },
};

describe('planTransitionMail', () => {
  it('sends CHECKPOINT_READY to the approvers only, holding the output under review', () => {
    const { files, problems } = planTransitionMail(analysisDone, config);
    expect(problems).toEqual([]);
    expect(files.map((f) => f.path)).toEqual([
      '.beads/mail/@jgil/day3.review-analysis.1.checkpoint-ready.md',
    ]);
    const parsed = parseMessageFast(files[0]?.content ?? '');
    expect(parsed?.header).toMatchObject({
      from: 'gastown',
      to: ['@jgil'],
      type: 'CHECKPOINT_READY',
      thread: 'day3',
      molecule: 'day3',
      step: 'review-analysis',
      attempt: 1,
      priority: 'high',
    });
    expect(parsed?.body).toContain('Three flaky tests.');
    expect(parsed?.body).toContain('gastown checkpoint approve day3 review-analysis');
  });

  it('names and writes the same bytes however often and wherever it runs', () => {
    const first = planTransitionMail(analysisDone, config);
    const again = planTransitionMail({ ...analysisDone }, mailConfig());
    expect(again).toEqual(first);
    // Two clones writing the same transition produce byte-identical trees.
    const a = tempDir();
    const b = tempDir();
    try {
      for (const root of [a.path, b.path]) {
        expect(writeMailFiles(root, config, first.files).map((w) => w.outcome)).toEqual(['written']);
        // Reconciling again writes nothing new.
        expect(writeMailFiles(root, config, first.files).map((w) => w.outcome)).toEqual(['same']);
      }
      const file = '.beads/mail/@jgil/day3.review-analysis.1.checkpoint-ready.md';
      expect(readFileSync(join(a.path, file), 'utf8')).toBe(readFileSync(join(b.path, file), 'utf8'));
      expect(readdirSync(join(a.path, '.beads/mail/@jgil'))).toEqual([
        'day3.review-analysis.1.checkpoint-ready.md',
      ]);
    } finally {
      a.cleanup();
      b.cleanup();
    }
  });

  it('gives every attempt, type and step its own name', () => {
    const ids = new Set([
      typedMessageId(analysisDone),
      typedMessageId({ ...analysisDone, attempt: 2 }),
      typedMessageId({ ...analysisDone, type: 'CHECKPOINT_DECIDED' }),
      typedMessageId({ ...analysisDone, step: 'plan' }),
      typedMessageId({ type: 'MOLECULE_DONE', molecule: 'day3' }),
      typedMessageId({ type: 'BLOCKED', molecule: 'day3', reason: 'waiting for molecule day2' }),
      typedMessageId({ type: 'BLOCKED', molecule: 'day3', reason: 'waiting for molecule day1' }),
    ]);
    expect(ids.size).toBe(7);
    expect(typedMessageId({ type: 'MOLECULE_DONE', molecule: 'day3' })).toBe('day3.molecule-done');
  });

  it('fans a team out to one copy per member and sends each mailbox one copy', () => {
    const { files } = planTransitionMail({ ...analysisDone, approvers: ['team:leads', '@jgil'] }, config);
    expect(files.map((f) => f.mailbox)).toEqual(['@ana', '@jgil']);
    expect(new Set(files.map((f) => f.content)).size).toBe(1);
    expect(parseMessageFast(files[0]?.content ?? '')?.header.to).toEqual(['team:leads', '@jgil']);
  });

  it('sends to every configured person when a checkpoint names no approvers', () => {
    const { files } = planTransitionMail({ ...analysisDone, approvers: [] }, config);
    expect(files.map((f) => f.mailbox)).toEqual(['@ana', '@jgil']);
  });

  it('routes each type as [mail.routes] says, and sends nothing for an empty route', () => {
    const routed = mailConfig(`
[mail.routes]
checkpoint_decided = ["assignee", "team:leads"]
step_ready = []
molecule_done = ["queue:triage"]
`);
    const decided = planTransitionMail(
      {
        type: 'CHECKPOINT_DECIDED',
        molecule: 'day3',
        step: 'review-plan',
        attempt: 1,
        decision: 'rejected',
        by: '@jgil',
        reason: 'Split the plan per package.',
        assignee: 'polecat-1',
      },
      routed,
    );
    expect(decided.files.map((f) => f.mailbox)).toEqual(['@ana', '@jgil', 'polecat-1']);
    expect(decided.files[0]?.content).toContain('Split the plan per package.');
    expect(
      planTransitionMail(
        { type: 'STEP_READY', molecule: 'day3', step: 'plan', assignee: 'polecat-1' },
        routed,
      ).files,
    ).toEqual([]);
    expect(
      planTransitionMail({ type: 'MOLECULE_DONE', molecule: 'day3' }, routed).files.map((f) => f.path),
    ).toEqual(['.beads/mail/queue%3Atriage/day3.molecule-done.md']);
  });

  it('by default tells the assignee a step is ready and the owner the molecule is done', () => {
    expect(
      planTransitionMail(
        { type: 'STEP_READY', molecule: 'm1', step: 'plan', attempt: 2, assignee: 'polecat-2' },
        config,
      ).files.map((f) => f.path),
    ).toEqual(['.beads/mail/polecat-2/m1.plan.2.step-ready.md']);
    expect(
      planTransitionMail({ type: 'MOLECULE_DONE', molecule: 'm1', owner: 'jgil' }, config).files.map(
        (f) => f.path,
      ),
    ).toEqual(['.beads/mail/@jgil/m1.molecule-done.md']);
    expect(
      planTransitionMail(
        {
          type: 'GATE_FAILED',
          molecule: 'm1',
          step: 'test',
          assignee: 'polecat-1',
          report: { path: 'r.md', summary: '2 tests failed' },
        },
        config,
      ).files[0]?.content,
    ).toContain('2 tests failed');
  });

  it('reports a recipient the config does not know instead of writing to it', () => {
    const { files, problems } = planTransitionMail(
      { type: 'STEP_READY', molecule: 'm1', step: 'plan', assignee: 'polecat-9' },
      config,
    );
    expect(files).toEqual([]);
    expect(problems).toEqual(['STEP_READY for m1: no mailbox for polecat-9 in .beads/config.toml']);
  });

  it('cuts a large output to fit the message limit and points to the file', () => {
    const text = 'é'.repeat(MAX_MAIL_BODY_BYTES);
    const { files } = planTransitionMail({ ...analysisDone, output: { path: 'out.md', text } }, config);
    const body = parseMessageFast(files[0]?.content ?? '')?.body ?? '';
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_MAIL_BODY_BYTES);
    expect(body).toContain('read the whole file at `out.md`');
    expect(body).not.toContain('\uFFFD');
  });
});
