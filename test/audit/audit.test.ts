// `gastown audit`: a Day 3 molecule's timeline from its files and git history.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gastownInProcess as gastown } from '../helpers/inproc.js';
import { gitIn, JGIL, tempDir, testEnv } from '../helpers/repo.js';
import { CONFIG, type Day3Repo, day3Repo, MOL, NOW } from './fixture.js';

interface Entry {
  kind: string;
  sha: string;
  file: string;
  checkpoint?: string;
  decision?: string;
  author: { name: string; email: string; who?: string };
  signature: { status: string; word: string };
  body?: string;
  saw?: string;
  transition?: string;
  step?: string;
  verdict?: string;
  shallowEdge?: boolean;
}

describe('audit of a Day 3 molecule', () => {
  let repo: Day3Repo;
  const keys = tempDir('gastown-keys-');
  beforeAll(async () => {
    // @jgil signs the last decision with an SSH key the config lists.
    const key = join(keys.path, 'jgil');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'jgil', '-f', key]);
    const pub = readFileSync(`${key}.pub`, 'utf8').trim();
    repo = await day3Repo(`${CONFIG}\n[verify.keys.jgil]\nssh = ["${pub}"]\n`, 'planned');
    await repo.gt([
      'mail',
      'send',
      '--as',
      'polecat-1',
      '--to',
      '@jgil',
      '--subject',
      'Plan approved, starting',
      '--molecule',
      'day3',
      '--body',
      'ok',
    ]);
    await repo.gt([
      'mail',
      'send',
      '--as',
      'polecat-1',
      '--to',
      '@jgil',
      '--subject',
      'About something else',
      '--body',
      'ok',
    ]);
    await repo.commit('mail');
    for (const s of ['do-infrastructure', 'do-red', 'do-green', 'do-refactor']) await repo.done(s);
    await repo.gt(['advance', '--commit']);
    await repo.gt(
      ['checkpoint', 'reject', 'day3', 'test-validation-checkpoint', '--reason', 'Add a degraded-mode test'],
      JGIL,
    );
    await gitIn(repo.path, 'add', '-A');
    await execa(
      'git',
      [
        '-c',
        'gpg.format=ssh',
        '-c',
        `user.signingkey=${key}`,
        'commit',
        '-q',
        '-S',
        '-m',
        'reject test results',
      ],
      { cwd: repo.path, env: testEnv(JGIL), extendEnv: false },
    );
  }, 120_000);
  afterAll(() => {
    repo.cleanup();
    keys.cleanup();
  });

  it('--json lists every checkpoint decision with the approver, the commit sha and the signature status', async () => {
    const r = await gastown(['audit', 'day3', '--json'], repo.path, NOW);
    expect(r.exitCode).toBe(0);
    const t = JSON.parse(String(r.stdout)) as { molecule: string; entries: Entry[] };
    const decisions = t.entries.filter((e) => e.kind === 'decision');
    const log = (await gitIn(repo.path, 'log', '--format=%H %s')).split('\n');
    const shaOf = (subject: string) => log.find((l) => l.slice(41) === subject)?.slice(0, 40);
    expect(decisions.map((d) => [d.checkpoint, d.decision, d.author.who, d.sha, d.signature.status])).toEqual(
      [
        ['analysis-checkpoint', 'approved', '@jgil', shaOf('approve analysis'), 'N'],
        ['plan-checkpoint', 'approved', '@jgil', shaOf('approve plan'), 'N'],
        ['test-validation-checkpoint', 'rejected', '@jgil', shaOf('reject test results'), 'G'],
      ],
    );
    // What the approver saw: the checkpoint as decided, and the commit it was decided on.
    const first = decisions[0] as Entry;
    expect(first.body).toMatch(/^decision: approved/m);
    expect(first.saw).toBe(shaOf('analysis'));
    expect(first.file).toBe(`${MOL}/checkpoints/analysis-checkpoint.md`);
    // Transitions and the gate report are on the same timeline, made by the engine's commit.
    const report = t.entries.find((e) => e.kind === 'gate-report');
    expect(report).toMatchObject({ step: 'test-validation', verdict: 'pass', author: { name: 'gastown' } });
    expect(t.entries).toContainEqual(
      expect.objectContaining({ kind: 'transition', step: 'analysis', transition: 'done' }),
    );
    // Mail naming the molecule is on it, the engine's typed mail too.
    const mail = t.entries.filter((e) => e.kind === 'mail') as (Entry & { summary: string })[];
    const sent = mail.filter((e) => e.summary === 'mail to @jgil: Plan approved, starting');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.sha).toBe(shaOf('mail'));
    expect(mail.map((e) => e.summary)).toContain(
      'mail to @jgil: Approval required: day3/analysis-checkpoint: Approve the analysis',
    );
    expect(mail.every((e) => /day3|Plan approved/.test(e.summary))).toBe(true);
  });

  it('--markdown is a table with one row per entry; --csv has a header and the same rows', async () => {
    const json = JSON.parse(String((await gastown(['audit', 'day3', '--json'], repo.path, NOW)).stdout)) as {
      entries: Entry[];
    };
    const md = String((await gastown(['audit', 'day3', '--markdown'], repo.path, NOW)).stdout);
    const rows = md.split('\n').filter((l) => l.startsWith('| '));
    expect(rows[0]).toBe('| date | commit | author | committer | signature | event | file |');
    expect(rows).toHaveLength(json.entries.length + 1);
    expect(md).toMatch(
      /\| @jgil <jgil@example\.com> \| .* \| unsigned \| checkpoint analysis-checkpoint approved \|/,
    );
    const csv = String((await gastown(['audit', 'day3', '--csv'], repo.path, NOW)).stdout);
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(json.entries.length + 1);
    const none = await gastown(['audit', 'day3', '--since', '2030-01-01', '--json'], repo.path, NOW);
    expect(JSON.parse(String(none.stdout)).entries).toEqual([]);
    const bad = await gastown(['audit', 'day3', '--since', 'yesterday-ish'], repo.path, NOW);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--since yesterday-ish');
    const unknown = await gastown(['audit', 'nope'], repo.path, NOW);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('no molecule or convoy nope');
  });

  it('evidence --out writes a markdown and JSON pack: who decided, when, on what, in which commit, which key', async () => {
    const out = tempDir();
    try {
      const r = await gastown(['evidence', 'day3', '--out', out.path], repo.path, NOW);
      expect(r.exitCode).toBe(0);
      const pack = JSON.parse(readFileSync(join(out.path, 'day3.evidence.json'), 'utf8')) as {
        decisions: (Entry & { by: Entry['author']; when: string; commit: string; content: string })[];
        reports: { step: string; verdict: string; content: string; by: { name: string } }[];
      };
      expect(pack.decisions.map((d) => [d.checkpoint, d.by.who, d.signature.status])).toEqual([
        ['analysis-checkpoint', '@jgil', 'N'],
        ['plan-checkpoint', '@jgil', 'N'],
        ['test-validation-checkpoint', '@jgil', 'G'],
      ]);
      const last = pack.decisions[2];
      expect(last?.content).toContain('Add a degraded-mode test');
      expect(last?.when).toBe('2026-01-06T09:00:00+00:00');
      expect(pack.reports).toEqual([
        expect.objectContaining({
          step: 'test-validation',
          verdict: 'pass',
          by: expect.objectContaining({ name: 'gastown' }),
        }),
      ]);
      expect(pack.reports[0]?.content).toContain('35 tests, 35 passed');
      const md = readFileSync(join(out.path, 'day3.evidence.md'), 'utf8');
      expect(md).toContain('| checkpoint | decision | by | when | commit | signature |');
      expect(md).toMatch(
        /\| test-validation-checkpoint \| rejected \| @jgil \(J Gil <jgil@example\.com>\) \| .* \| good, key SHA256:/,
      );
      expect(md).toContain('### test-validation attempt 1: pass');
      // A file where the folder should be: a usage error naming --out, nothing written.
      const bad = await gastown(
        ['evidence', 'day3', '--out', join(out.path, 'day3.evidence.md')],
        repo.path,
        NOW,
      );
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toContain('--out');
    } finally {
      out.cleanup();
    }
  });

  it('in a shallow clone it says what it cannot see instead of failing', async () => {
    const dir = tempDir();
    try {
      await execa('git', ['clone', '-q', '--depth', '2', `file://${repo.path}`, 'c'], {
        cwd: dir.path,
        env: testEnv(),
        extendEnv: false,
      });
      const r = await gastown(['audit', 'day3', '--json'], `${dir.path}/c`, NOW);
      expect(r.exitCode).toBe(0);
      const t = JSON.parse(String(r.stdout)) as { notes: string[]; entries: Entry[] };
      expect(t.notes.join(' ')).toContain('shallow clone');
      expect(t.entries.some((e) => e.shallowEdge)).toBe(true);
    } finally {
      dir.cleanup();
    }
  });
});

describe('audit of a convoy', () => {
  it("joins the convoy's own files and every member's timeline; verify accepts convoy add", async () => {
    const repo = await day3Repo();
    try {
      await repo.gt(['convoy', 'create', 'soc2', '--name', 'SOC2 audit trail', '--owner', '@jgil']);
      await repo.gt(['convoy', 'add', 'soc2', 'day3']);
      await repo.commit('convoy');
      await repo.done('analysis');
      await repo.commit('analysis');
      const r = await gastown(['audit', 'soc2', '--json'], repo.path, NOW);
      expect(r.exitCode).toBe(0);
      const t = JSON.parse(String(r.stdout)) as {
        molecule: string;
        entries: (Entry & { molecule?: string; summary: string })[];
      };
      expect(t.molecule).toBe('soc2');
      expect(t.entries).toContainEqual(
        expect.objectContaining({ kind: 'convoy', summary: 'convoy soc2 created' }),
      );
      expect(t.entries).toContainEqual(
        expect.objectContaining({
          kind: 'transition',
          molecule: 'day3',
          step: 'analysis',
          transition: 'done',
        }),
      );
      // convoy add rewrote molecule.toml with only convoy set: not a rewritten fact.
      const v = await gastown(['verify'], repo.path, NOW);
      expect(v.stdout).toContain('verify: ok');
      expect(v.exitCode).toBe(0);
    } finally {
      repo.cleanup();
    }
  });
});
