import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { decisionAuthor, firstCommitTime } from '../../src/checkpoint/authors.js';
import { judgeApprovals, type TrustConfig, type VoteFact } from '../../src/checkpoint/trust.js';
import { gitIn, makeRepo, testEnv } from '../helpers/repo.js';

const config: TrustConfig = {
  users: {
    jgil: { emails: ['jgil@example.com'] },
    ana: { emails: ['ana@example.com'] },
    bob: { emails: ['bob@example.com'] },
  },
  agents: { 'polecat-1': { emails: ['polecat-1@agents.example.com'] } },
  teams: { leads: ['@jgil', '@ana'] },
  engineEmail: 'gastown@localhost',
};
const policy = { approvers: ['@jgil', 'team:leads'], min_approvals: 1, prevent_self_approval: true };
const vote = (
  email: string | undefined,
  decision: VoteFact['decision'] = 'approved',
  extra: Partial<VoteFact> = {},
): VoteFact => ({
  decision,
  source: 'checkpoints/analysis-checkpoint.md',
  committed: true,
  commit: 'abcdef1234567890',
  ...(email ? { email } : {}),
  ...extra,
});

describe('approval trust', () => {
  it('counts an approval by an allowed approver (directly or through a team)', () => {
    expect(
      judgeApprovals({ policy, config, votes: [vote('JGil@Example.com')], doers: ['polecat-1'] }),
    ).toMatchObject({ state: 'approved', approvals: 1 });
    expect(
      judgeApprovals({ policy, config, votes: [vote('ana@example.com')], doers: ['polecat-1'] }).state,
    ).toBe('approved');
  });

  it('an approval by the agent that did the step does not count, and says why', () => {
    const v = judgeApprovals({
      policy: { ...policy, approvers: [] },
      config,
      votes: [vote('polecat-1@agents.example.com')],
      doers: ['polecat-1'],
      reviewed: ['analysis'],
    });
    expect(v.state).toBe('pending');
    expect(v.votes[0]?.why).toBe(
      'made by polecat-1@agents.example.com (commit abcdef123456), which is polecat-1, the agent that did analysis; prevent_self_approval is on',
    );
    expect(v.summary).toContain(
      'not counted: approved in checkpoints/analysis-checkpoint.md: made by polecat-1@agents.example.com',
    );
  });

  it('with no approvers named, any configured person counts but an unknown email does not', () => {
    const open = { ...policy, approvers: [] };
    expect(
      judgeApprovals({ policy: open, config, votes: [vote('bob@example.com')], doers: ['polecat-1'] }).state,
    ).toBe('approved');
    const v = judgeApprovals({
      policy: open,
      config,
      votes: [vote('stranger@example.net')],
      doers: ['polecat-1'],
    });
    expect(v.state).toBe('pending');
    expect(v.votes[0]?.why).toContain('no user in .beads/config.toml');
  });

  it('does not count people outside the approvers, unknown emails, the engine or unknown authors', () => {
    const v = judgeApprovals({
      policy,
      config,
      votes: [vote('bob@example.com'), vote('stranger@x.org'), vote('gastown@localhost'), vote(undefined)],
      doers: [],
    });
    expect(v.state).toBe('pending');
    expect(v.votes.map((x) => x.why)).toEqual([
      'made by @bob (commit abcdef123456), who is not an approver here (allowed: @jgil, team:leads)',
      'made by stranger@x.org (commit abcdef123456), which is no user in .beads/config.toml (allowed: @jgil, team:leads)',
      "made by the engine's identity (gastown@localhost), not a person",
      'the author of checkpoints/analysis-checkpoint.md cannot be told (this clone is shallow: the commit that set it is at or past the edge of its history)',
    ]);
  });

  it('min_approvals counts distinct people; a counted rejection wins', () => {
    const two = { ...policy, min_approvals: 2 };
    expect(
      judgeApprovals({
        policy: two,
        config,
        votes: [vote('jgil@example.com'), vote('jgil@example.com', 'approved', { source: 'b' })],
        doers: [],
      }),
    ).toMatchObject({ state: 'pending', approvals: 1, needed: 2 });
    expect(
      judgeApprovals({
        policy: two,
        config,
        votes: [vote('jgil@example.com'), vote('ana@example.com', 'approved', { source: 'b' })],
        doers: [],
      }).state,
    ).toBe('approved');
    const r = judgeApprovals({
      policy: two,
      config,
      votes: [vote('jgil@example.com'), vote('ana@example.com', 'rejected', { reason: 'no' })],
      doers: [],
    });
    expect(r).toMatchObject({ state: 'rejected', summary: 'rejected by @ana: no' });
  });
});

describe('who made a decision (git)', () => {
  it('is the author of the commit that changed the decision, or the local identity for an uncommitted edit', async () => {
    const repo = await makeRepo();
    try {
      const rel = 'checkpoints/cp.md';
      mkdirSync(join(repo.path, 'checkpoints'));
      writeFileSync(join(repo.path, rel), '---\ndecision: pending\nreason: ""\n---\nbody\n');
      await gitIn(repo.path, 'add', '.');
      await gitIn(repo.path, 'commit', '-q', '-m', 'engine opens checkpoint');
      expect(await firstCommitTime(repo.path, rel)).toEqual(new Date('2026-01-06T09:00:00Z'));

      // jgil approves in a commit of their own; a later commit by someone else touches only the body.
      const approved = readFileSync(join(repo.path, rel), 'utf8').replace(
        'decision: pending',
        'decision: approved',
      );
      writeFileSync(join(repo.path, rel), approved);
      const as = (name: string, email: string) => ({
        env: testEnv({ GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email }),
        extendEnv: false,
      });
      await execa('git', ['commit', '-qam', 'approve'], {
        cwd: repo.path,
        ...as('J Gil', 'jgil@example.com'),
      });
      writeFileSync(join(repo.path, rel), `${approved}more notes\n`);
      await execa('git', ['commit', '-qam', 'typo'], {
        cwd: repo.path,
        ...as('Polecat', 'polecat-1@agents.example.com'),
      });
      const committed = await decisionAuthor(repo.path, rel, readFileSync(join(repo.path, rel), 'utf8'));
      expect(committed).toMatchObject({ committed: true, email: 'jgil@example.com' });

      // An uncommitted change of the decision belongs to whoever is working here.
      const edited = readFileSync(join(repo.path, rel), 'utf8').replace(
        'decision: approved',
        'decision: rejected',
      );
      writeFileSync(join(repo.path, rel), edited);
      const saved = process.env.GIT_AUTHOR_EMAIL;
      process.env.GIT_AUTHOR_EMAIL = 'watcher-user@example.com';
      try {
        expect(await decisionAuthor(repo.path, rel, edited)).toMatchObject({
          committed: false,
          email: 'watcher-user@example.com',
        });
      } finally {
        if (saved === undefined) delete process.env.GIT_AUTHOR_EMAIL;
        else process.env.GIT_AUTHOR_EMAIL = saved;
      }
      expect(await firstCommitTime(repo.path, 'checkpoints/none.md')).toBeUndefined();
    } finally {
      repo.cleanup();
    }
  });
});
