// `gastown verify`: a pull request's history of .beads/ judged in CI, on real repositories with
// real commits (and real SSH signatures made with ssh-keygen keys).
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { expectShortcutAsFullPath } from '../helpers/chunks.js';
import { gastownInProcess as gastown } from '../helpers/inproc.js';
import { gastown as gastownSpawned, gitIn, JGIL, person, tempDir, testEnv } from '../helpers/repo.js';
import { CONFIG, type Day3Repo, day3Repo, MOL, NOW } from './fixture.js';

interface VerifyJson {
  ok: boolean;
  findings: { rule: string; file: string; commit?: string; message: string }[];
}

const verifyJson = async (cwd: string, args: string[] = []) => {
  const r = await gastown(['verify', ...args, '--json'], cwd, NOW);
  return { exitCode: r.exitCode, json: JSON.parse(String(r.stdout)) as VerifyJson, stderr: String(r.stderr) };
};

const MALLORY = person('Mallory', 'mallory@example.com');

describe('verify: who approved', () => {
  let repo: Day3Repo | undefined;
  afterEach(() => repo?.cleanup());

  it('an approval committed by someone who is not an approver exits 1 naming commit, file and rule', async () => {
    repo = await day3Repo();
    await repo.done('analysis');
    await repo.commit('analysis');
    repo.approveFile('analysis-checkpoint');
    await repo.commit('approve analysis', MALLORY);
    const sha = (await gitIn(repo.path, 'rev-parse', 'HEAD')).trim();
    const r = await gastown(['verify'], repo.path, NOW);
    expect(r.exitCode).toBe(1);
    const file = `${MOL}/checkpoints/analysis-checkpoint.md`;
    expect(r.stdout).toContain(`approver: ${file} (commit ${sha.slice(0, 12)})`);
    expect(r.stdout).toContain('mallory@example.com');
    const { json } = await verifyJson(repo.path);
    expect(json.findings).toContainEqual(expect.objectContaining({ rule: 'approver', file, commit: sha }));
  });

  it('the same approvals by the approver exit 0, and --base checks only the range', async () => {
    repo = await day3Repo(CONFIG, 'planned');
    const r = await gastown(['verify'], repo.path, NOW);
    expect(r.stderr + r.stdout).toContain('verify: ok');
    expect(r.exitCode).toBe(0);
    // A pull request on top: the agent's own approval in the range is found, history before is not re-judged.
    await gitIn(repo.path, 'branch', 'base');
    await repo.gt(['step', 'done', 'day3', 'do-infrastructure', '--as', 'polecat-1']);
    await repo.commit('infra');
    const ranged = await verifyJson(repo.path, ['--base', 'base']);
    expect(ranged.json).toMatchObject({ ok: true });
    const bad = await gastown(['verify', '--base', 'no-such-ref'], repo.path, NOW);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--base no-such-ref');
  });
});

describe('verify: git processes', () => {
  let repo: Day3Repo | undefined;
  const bin = tempDir('gastown-git-count-');
  afterEach(() => repo?.cleanup());

  it('starts as many git processes for a range of many commits as for one, finding the same', async () => {
    repo = await day3Repo();
    await repo.done('analysis');
    await repo.commit('analysis');
    repo.approveFile('analysis-checkpoint');
    await repo.commit('approve analysis', MALLORY);
    const plain = await verifyJson(repo.path);
    expect(plain.exitCode).toBe(1);
    // The same runs with every git process they start written down.
    const count = join(bin.path, 'count');
    const realGit = (await gitIn(repo.path, '--exec-path')).trim();
    writeFileSync(join(bin.path, 'git'), `#!/bin/sh\necho "$*" >> '${count}'\nexec '${realGit}/git' "$@"\n`);
    chmodSync(join(bin.path, 'git'), 0o755);
    const counted = async (args: string[]) => {
      writeFileSync(count, '');
      // The built CLI: its git processes are counted through PATH.
      const r = await gastownSpawned(['verify', ...args, '--json'], repo?.path as string, {
        ...NOW,
        PATH: `${bin.path}:${testEnv().PATH}`,
      });
      return {
        exitCode: r.exitCode,
        json: JSON.parse(String(r.stdout)) as VerifyJson,
        git: readFileSync(count, 'utf8').split('\n').filter(Boolean),
      };
    };
    const all = await counted([]);
    expect({ exitCode: all.exitCode, json: all.json }).toEqual({ exitCode: 1, json: plain.json });
    const last = await counted(['--base', 'HEAD~1']);
    expect(last.json.findings).toEqual(plain.json.findings);
    const commits = (await gitIn(repo.path, 'rev-list', '--count', 'HEAD', '--', '.beads/molecules')).trim();
    expect(Number(commits)).toBeGreaterThan(2);
    // One more for --base (its merge-base); none for each further commit.
    expect(all.git.length).toBe(last.git.length - 1);
    expect(all.git.join('\n')).not.toContain('ls-tree');
  });

  it('answers before the command table loads, as the full path does', async () => {
    repo = await day3Repo();
    await repo.done('analysis');
    await repo.commit('analysis');
    repo.approveFile('analysis-checkpoint');
    await repo.commit('approve analysis', MALLORY);
    for (const args of [['verify'], ['verify', '--base', 'HEAD~1', '--json']]) {
      // The built CLI: which of its chunks load is what is checked.
      const quick = await gastownSpawned(args, repo.path, { ...NOW, NODE_DEBUG: 'module' });
      // A global option first takes the full path through commander.
      const full = await gastownSpawned(['-C', repo.path, ...args], '/', NOW);
      expectShortcutAsFullPath(quick, full);
    }
  });
});

describe('verify: require_signed', () => {
  let repo: Day3Repo | undefined;
  const keys = tempDir('gastown-keys-');
  afterEach(() => repo?.cleanup());

  const keygen = async (name: string) => {
    const file = join(keys.path, name);
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
    return { file, pub: readFileSync(`${file}.pub`, 'utf8').trim() };
  };
  const signedCommit = async (cwd: string, key: string | undefined, message: string) => {
    await gitIn(cwd, 'add', '-A');
    const sign = key ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key}`] : [];
    await execa('git', [...sign, 'commit', '-q', ...(key ? ['-S'] : []), '-m', message], {
      cwd,
      env: testEnv(JGIL),
      extendEnv: false,
    });
  };
  const setup = async () => {
    const jgil = await keygen(`jgil-${Math.random().toString(36).slice(2)}`);
    const other = await keygen(`other-${Math.random().toString(36).slice(2)}`);
    repo = await day3Repo(
      `${CONFIG}\n[verify]\nrequire_signed = true\n\n[verify.keys.jgil]\nssh = ["${jgil.pub}"]\n`,
    );
    await repo.done('analysis');
    await repo.commit('analysis');
    repo.approveFile('analysis-checkpoint');
    return { jgil, other, repo };
  };

  it("an unsigned approval with the approver's name and email exits 1", async () => {
    const { repo } = await setup();
    await signedCommit(repo.path, undefined, 'approve analysis');
    const { exitCode, json } = await verifyJson(repo.path);
    expect(exitCode).toBe(1);
    expect(json.findings).toEqual([
      expect.objectContaining({
        rule: 'signed-decision',
        file: `${MOL}/checkpoints/analysis-checkpoint.md`,
        message: expect.stringContaining('not signed'),
      }),
    ]);
  });

  it("an approval signed by another key exits 1; signed by the approver's key exits 0", async () => {
    const { repo, other, jgil } = await setup();
    await signedCommit(repo.path, other.file, 'approve analysis');
    const forged = await verifyJson(repo.path);
    expect(forged.exitCode).toBe(1);
    expect(forged.json.findings).toEqual([
      expect.objectContaining({ rule: 'signed-decision', message: expect.stringContaining("not @jgil's") }),
    ]);
    await gitIn(repo.path, 'reset', '-q', '--soft', 'HEAD^');
    await signedCommit(repo.path, jgil.file, 'approve analysis');
    const good = await verifyJson(repo.path);
    expect(good.json.findings).toEqual([]);
    expect(good.exitCode).toBe(0);
  });
});

describe('verify: facts only the engine makes', () => {
  let repo: Day3Repo | undefined;
  afterEach(() => repo?.cleanup());

  it('a hand-added test-validation pass with a hand-written passing report exits 1 (engine-commit)', async () => {
    repo = await day3Repo(CONFIG, 'planned');
    for (const s of ['do-infrastructure', 'do-red', 'do-green']) await repo.done(s);
    await repo.commit('work');
    // The agent writes what the gate would have: the refactor done, the gate ready, done, a report.
    const ev = (name: string, body: string) => writeFileSync(join(repo!.path, MOL, 'events', name), body);
    ev('do-refactor.1.done.toml', 'step = "do-refactor"\nattempt = 1\nkind = "done"\nby = "polecat-1"\n');
    ev(
      'test-validation.1.ready.toml',
      'step = "test-validation"\nattempt = 1\nkind = "ready"\nassignee = "polecat-1"\n',
    );
    ev(
      'test-validation.1.done.toml',
      'step = "test-validation"\nattempt = 1\nkind = "done"\nby = "gastown"\n',
    );
    const report = join(repo.path, MOL, 'reports', 'test-validation.1.md');
    await execa('mkdir', ['-p', join(repo.path, MOL, 'reports')]);
    writeFileSync(
      report,
      '---\nmolecule: day3\nstep: test-validation\nattempt: 1\nverdict: pass\ntotal: 35\npassed: 35\nfailed: 0\nskipped: 0\npass_rate: 100\nmin_pass_rate: 100\nforbidden: 0\n---\n# Gate report: test-validation (attempt 1)\n\n**Verdict: PASS**\n',
    );
    await repo.commit('refactor; tests pass');
    const sha = (await gitIn(repo.path, 'rev-parse', 'HEAD')).trim();
    // The engine's own verdict does not see it: the report says pass.
    const status = JSON.parse(
      String((await gastown(['molecule', 'status', 'day3', '--json'], repo.path, NOW)).stdout),
    );
    expect(status.state).toBe('active');
    const { exitCode, json } = await verifyJson(repo.path);
    expect(exitCode).toBe(1);
    expect(json.findings).toContainEqual(
      expect.objectContaining({
        rule: 'engine-commit',
        file: `${MOL}/reports/test-validation.1.md`,
        commit: sha,
      }),
    );
  });

  it('the gate run by the engine and committed by it passes; a rewritten fact does not', async () => {
    repo = await day3Repo(CONFIG, 'planned');
    for (const s of ['do-infrastructure', 'do-red', 'do-green', 'do-refactor']) await repo.done(s);
    await repo.gt(['advance', '--commit']);
    expect(readFileSync(join(repo.path, MOL, 'reports', 'test-validation.1.md'), 'utf8')).toContain('PASS');
    const ok = await verifyJson(repo.path);
    expect(ok.json.findings).toEqual([]);
    const fact = join(repo.path, MOL, 'events', 'do-red.1.done.toml');
    writeFileSync(fact, readFileSync(fact, 'utf8').replace('polecat-1', 'someone-else'));
    await repo.commit('tidy');
    const { exitCode, json } = await verifyJson(repo.path);
    expect(exitCode).toBe(1);
    expect(json.findings).toContainEqual(
      expect.objectContaining({ rule: 'immutable-file', file: `${MOL}/events/do-red.1.done.toml` }),
    );
  });
});
