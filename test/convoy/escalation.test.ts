// Escalations through the CLI (run in this process): climbing after stale_after on the injected clock, stopping
// at max_reescalations and on an ack, two clones merging, and the engine's own escalations.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcess, treeHash } from '../engine/cli.js';
import { commitAll, gitIn, tempDir } from '../helpers/repo.js';
import { AT_COMMIT_TIME, convoyRepo, mailFiles } from './helpers.js';

// The CLI runs in this process (test/cli/inproc.test.ts holds it to the built one's output).
const { gt, gtJson, gtOk } = inProcess;

const ESCALATION_CONFIG = `
[escalation]
stale_after = "1h"
max_reescalations = 2

[escalation.routes]
low = ["log"]
medium = ["mail:@jgil"]
high = ["mail:@jgil", "log"]
critical = ["mail:@jgil"]
`;

/** The clock at `hhmm` on the test day, for gastown and for the commits it makes. */
function at(hhmm: string): Record<string, string> {
  const t = `2026-01-06T${hhmm}:00Z`;
  return { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: t, GIT_AUTHOR_DATE: t, GIT_COMMITTER_DATE: t };
}

interface EscalationJson {
  id: string;
  severity: string;
  level: number;
  state: string;
  source: string;
  acks: string[];
}

const levels = (cwd: string, id: string) =>
  readdirSync(join(cwd, '.beads/escalations', id))
    .filter((n) => n.startsWith('reescalated.'))
    .sort();

async function raise(cwd: string, what: string, severity = 'medium'): Promise<string> {
  const r = await gtJson<{ id: string }>(cwd, ['escalate', what, '--severity', severity], at('09:00'));
  return r.id;
}

describe('escalation', () => {
  let repo: Awaited<ReturnType<typeof convoyRepo>>;
  let clones: { path: string; cleanup(): void };
  beforeAll(async () => {
    repo = await convoyRepo(ESCALATION_CONFIG);
    clones = tempDir();
  });
  afterAll(() => {
    repo.cleanup();
    clones.cleanup();
  });

  it('an unacknowledged medium escalation becomes high after stale_after, at most max_reescalations times', async () => {
    const cwd = repo.path;
    const id = await raise(cwd, 'payments API returns 500');
    expect(mailFiles(cwd)).toContain(`@jgil/${id}.escalation.0.md`);
    await gtOk(cwd, ['patrol'], at('09:59'));
    expect(levels(cwd, id)).toEqual([]);
    const first = await gtJson<{ reescalated: { id: string; severity: string }[] }>(
      cwd,
      ['patrol'],
      at('10:00'),
    );
    expect(first.reescalated).toEqual([{ id, level: 1, severity: 'high' }]);
    expect(mailFiles(cwd)).toContain(`@jgil/${id}.escalation.1.md`);
    // The next level counts from the commit that recorded this one (10:00), not from the raise.
    await gtOk(cwd, ['patrol'], at('10:59'));
    expect(levels(cwd, id)).toEqual(['reescalated.1.toml']);
    await gtOk(cwd, ['patrol'], at('11:00'));
    await gtOk(cwd, ['patrol'], at('15:00'));
    expect(levels(cwd, id)).toEqual(['reescalated.1.toml', 'reescalated.2.toml']);
    const shown = await gtJson<EscalationJson>(cwd, ['escalate', 'show', id]);
    expect(shown).toMatchObject({ severity: 'critical', level: 2, state: 'open' });
    expect(await gitIn(cwd, 'log', '--format=%s')).toContain('gastown: patrol: 1 re-escalated');
  });

  it('an ack stops it; two clones acking and re-escalating at once merge without a second re-escalation', async () => {
    const cwd = repo.path;
    const acked = await raise(cwd, 'nightly build broken');
    await gtOk(cwd, ['escalate', 'ack', acked, '--as', '@jgil'], at('09:30'));
    await gtOk(cwd, ['patrol'], at('12:00'));
    expect(levels(cwd, acked)).toEqual([]);
    expect((await gtJson<EscalationJson>(cwd, ['escalate', 'show', acked])).state).toBe('acknowledged');

    const id = await raise(cwd, 'disk almost full');
    const b = join(clones.path, 'b');
    const c = join(clones.path, 'c');
    await gitIn(clones.path, 'clone', '-q', cwd, 'b');
    await gitIn(clones.path, 'clone', '-q', cwd, 'c');
    // At 10:30: one clone acknowledges while two others, not knowing, re-escalate it.
    await gtOk(cwd, ['escalate', 'ack', id, '--as', '@jgil'], at('10:30'));
    await gtOk(b, ['patrol'], at('10:30'));
    await gtOk(c, ['patrol'], at('10:30'));
    expect(levels(b, id)).toEqual(['reescalated.1.toml']);
    for (const other of [b, c]) await gitIn(cwd, 'pull', '-q', '--no-rebase', '--no-edit', other, 'main');
    expect(await gitIn(cwd, 'status', '--porcelain')).toBe('');
    expect(levels(cwd, id)).toEqual(['reescalated.1.toml']);
    expect(mailFiles(cwd).filter((f) => f.startsWith(`@jgil/${id}.`))).toEqual([
      `@jgil/${id}.escalation.0.md`,
      `@jgil/${id}.escalation.1.md`,
    ]);
    await gtOk(cwd, ['patrol'], at('18:00'));
    expect(levels(cwd, id)).toEqual(['reescalated.1.toml']);
    expect(await gtJson<EscalationJson>(cwd, ['escalate', 'show', id])).toMatchObject({
      state: 'acknowledged',
      severity: 'high',
      acks: ['@jgil'],
    });
  });

  it('an unknown severity is a clear error and writes nothing', async () => {
    const cwd = repo.path;
    await commitAll(cwd, 'settle').catch(() => undefined);
    const before = await treeHash(cwd);
    const r = await gt(cwd, ['escalate', 'db down', '--severity', 'urgent'], AT_COMMIT_TIME);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--severity must be one of low, medium, high, critical, not "urgent"');
    expect(await treeHash(cwd)).toBe(before);
    const noMolecule = await gt(cwd, ['escalate', 'db down', '--severity', 'high', '--molecule', 'nope']);
    expect(noMolecule.exitCode).toBe(1);
    expect(noMolecule.stderr).toContain('--molecule names molecule nope, which does not exist');
    const unknown = await gt(cwd, ['escalate', 'ack', 'NOPE', '--as', '@jgil']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain(
      'no escalation NOPE (looked for .beads/escalations/NOPE/escalation.toml)',
    );
    expect(await treeHash(cwd)).toBe(before);
  });
});

const GATED = `formula = "gated"
version = 1

[[steps]]
id = "work"

[[steps]]
id = "signoff"
needs = ["work"]

[steps.gate]
type = "human"
approvers = ["@jgil"]
timeout = "1h"
on_timeout = "escalate"

[[steps]]
id = "check"
needs = ["work"]

[steps.gate]
type = "command"
run = [["false"]]
max_attempts = 1
`;

describe('the engine escalates by itself', () => {
  let repo: Awaited<ReturnType<typeof convoyRepo>>;
  beforeAll(async () => {
    repo = await convoyRepo(ESCALATION_CONFIG);
    writeFileSync(join(repo.path, '.beads/formulas/gated.formula.toml'), GATED);
    await commitAll(repo.path, 'gated formula');
  });
  afterAll(() => repo.cleanup());

  it('an overdue checkpoint escalates once; a gate at max_attempts escalates once', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['molecule', 'create', '--formula', 'gated', '--name', 'g1'], at('09:00'));
    await gtOk(cwd, ['step', 'done', 'g1', 'work'], at('09:00'));
    await commitAll(cwd, 'g1 work done');
    const first = await gtJson<{ escalations_raised: string[] }>(cwd, ['patrol'], at('10:30'));
    expect(first.escalations_raised.sort()).toEqual([
      'g1.check.gate-exhausted-1',
      'g1.signoff.checkpoint-overdue',
    ]);
    for (const hhmm of ['10:45', '11:00']) {
      const again = await gtJson<{ escalations_raised: string[] }>(cwd, ['patrol'], at(hhmm));
      expect(again.escalations_raised).toEqual([]);
    }
    const list = await gtJson<EscalationJson[]>(cwd, ['escalate', 'list', '--all']);
    expect(list.map((e) => [e.id, e.source, e.severity])).toEqual([
      ['g1.check.gate-exhausted-1', 'gate', 'high'],
      ['g1.signoff.checkpoint-overdue', 'checkpoint', 'medium'],
    ]);
    expect(existsSync(join(cwd, '.beads/mail/@jgil/g1.signoff.checkpoint-overdue.escalation.0.md'))).toBe(
      true,
    );
  });
});
