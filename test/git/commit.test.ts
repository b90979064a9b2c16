// The git interface: committing exactly some paths (never the user's other staged work),
// refusing mid-merge, reading staged blobs byte-exactly.
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { commitFiles, writeCommitObject } from '../../src/git/commit.js';
import { readIndexFiles, repoPaths, stagedChanges } from '../../src/git/repo.js';
import { operationInProgress } from '../../src/git/states.js';
import { commitTransitions, engineCommitMessage } from '../../src/triggers/commit.js';
import { gitIn, IDENTITY, makeRepo } from '../helpers/repo.js';

const ENV = { ...IDENTITY, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
async function repo() {
  const r = await makeRepo();
  cleanups.push(r.cleanup);
  return r.path;
}
const engine = { commit: true, identity: { name: 'gastown', email: 'gastown@localhost' } };

describe('engine commits', () => {
  it('commit only the written paths; the user’s staged change stays staged and uncommitted', async () => {
    const cwd = await repo();
    writeFileSync(join(cwd, 'mine.txt'), 'work in progress\n');
    await gitIn(cwd, 'add', 'mine.txt');
    mkdirSync(join(cwd, '.beads/molecules/m1/events'), { recursive: true });
    const fact = '.beads/molecules/m1/events/design.1.ready.toml';
    writeFileSync(join(cwd, fact), 'step = "design"\n');
    const made = await commitTransitions(
      cwd,
      {
        transitions: [
          { molecule: 'm1', step: 'design', attempt: 1, kind: 'ready', summary: 'm1: design is ready' },
        ],
        written: [fact],
        problems: [],
      },
      engine,
      ENV,
    );
    expect(made.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await gitIn(cwd, 'show', '--name-only', '--format=%an|%s', 'HEAD')).toBe(
      `gastown|gastown: m1: design is ready\n\n${fact}`,
    );
    expect(await gitIn(cwd, 'status', '--porcelain')).toBe('A  mine.txt');
    expect(await gitIn(cwd, 'log', '-1', '--format=%(trailers:only)')).toBe(
      'Gastown-Molecule: m1\nGastown-Transition: m1/design ready\n',
    );
  });

  it('does nothing when disabled, when nothing was written, or during a merge', async () => {
    const cwd = await repo();
    const head = await gitIn(cwd, 'rev-parse', 'HEAD');
    writeFileSync(join(cwd, 'f.txt'), 'x\n');
    const out = { transitions: [], written: ['f.txt'], problems: [] };
    expect((await commitTransitions(cwd, out, { ...engine, commit: false })).skipped).toBe('disabled');
    expect((await commitTransitions(cwd, { ...out, written: [] }, engine)).skipped).toBe('nothing-written');
    writeFileSync(join(cwd, '.git/MERGE_HEAD'), `${head}\n`);
    expect(operationInProgress(join(cwd, '.git'))).toBe('merge');
    expect((await commitTransitions(cwd, out, engine)).skipped).toBe('operation-in-progress');
    await expect(
      commitFiles({
        root: cwd,
        gitDir: join(cwd, '.git'),
        paths: ['f.txt'],
        message: 'x',
        identity: engine.identity,
      }),
    ).rejects.toThrow(/merge is in progress/);
    expect(await gitIn(cwd, 'rev-parse', 'HEAD')).toBe(head);
  });

  it('never moves HEAD over a commit made since it was read, and never stages the engine’s files', async () => {
    const cwd = await repo();
    const [commit = '', tree = ''] = (await gitIn(cwd, 'rev-parse', 'HEAD', 'HEAD^{tree}')).split('\n');
    // The user commits between the engine reading HEAD and moving it.
    writeFileSync(join(cwd, 'user.txt'), 'mine\n');
    await gitIn(cwd, 'add', 'user.txt');
    await gitIn(cwd, 'commit', '-q', '-m', 'user work');
    const userHead = await gitIn(cwd, 'rev-parse', 'HEAD');
    mkdirSync(join(cwd, '.beads/molecules/m1/events'), { recursive: true });
    const fact = '.beads/molecules/m1/events/design.1.ready.toml';
    writeFileSync(join(cwd, fact), 'step = "design"\n');
    await expect(
      commitFiles({
        root: cwd,
        gitDir: join(cwd, '.git'),
        paths: [fact],
        message: 'gastown: design ready\n',
        identity: engine.identity,
        env: ENV,
        head: { commit, tree },
      }),
    ).rejects.toThrow(/HEAD/);
    expect(await gitIn(cwd, 'rev-parse', 'HEAD')).toBe(userHead);
    expect(await gitIn(cwd, 'status', '--porcelain', '--untracked-files=all')).toBe(`?? ${fact}`);
    expect(existsSync(join(cwd, '.git/gastown-commit'))).toBe(false);
  });

  describe('what an engine commit publishes of a molecule, with HEAD read or not', () => {
    const fact = '.beads/molecules/m1/events/design.1.done.toml';
    const mail = '.beads/mail/polecat-1/m1.design.1.step-ready.md';
    /** m1 committed (with one message about it), then a new fact as a run writes it. */
    async function molecule() {
      const cwd = await repo();
      mkdirSync(join(cwd, '.beads/molecules/m1/events'), { recursive: true });
      mkdirSync(join(cwd, '.beads/mail/polecat-1'), { recursive: true });
      writeFileSync(join(cwd, '.beads/molecules/m1/molecule.toml'), 'id = "m1"\n');
      writeFileSync(join(cwd, '.beads/molecules/m1/events/design.1.ready.toml'), 'step = "design"\n');
      writeFileSync(join(cwd, '.beads/mail/polecat-1/m1.old.1.step-ready.md'), 'old\n');
      writeFileSync(join(cwd, '.gitignore'), '*.swp\n');
      await gitIn(cwd, 'add', '-A');
      await gitIn(cwd, 'commit', '-q', '-m', 'm1');
      writeFileSync(join(cwd, fact), 'step = "design"\n');
      return cwd;
    }
    const run = async (cwd: string, withHead: boolean) => {
      const [commit = '', tree = ''] = (await gitIn(cwd, 'rev-parse', 'HEAD', 'HEAD^{tree}')).split('\n');
      const made = await commitTransitions(
        cwd,
        {
          transitions: [{ molecule: 'm1', step: 'design', kind: 'done', summary: '' }],
          written: [fact],
          problems: [],
        },
        engine,
        ENV,
        { molecules: ['m1'], ...(withHead ? { head: { commit, tree } } : {}) },
      );
      const files = made.commit
        ? (await gitIn(cwd, 'show', '--name-only', '--format=', 'HEAD')).split('\n')
        : [];
      return { files, held: (made.held ?? []).map((h) => h.reason) };
    };

    for (const withHead of [true, false]) {
      it(`takes the fact and the engine's untracked mail along (HEAD ${withHead ? 'given' : 'read'})`, async () => {
        const cwd = await molecule();
        writeFileSync(join(cwd, mail), 'design is done\n');
        // An ignored file is nobody's change.
        writeFileSync(join(cwd, '.beads/molecules/m1/.molecule.toml.swp'), 'x');
        expect(await run(cwd, withHead)).toEqual({ files: [mail, fact], held: [] });
        expect(await gitIn(cwd, 'status', '--porcelain')).toBe('');
      });

      it(`holds the molecule for an edit, a deletion, a mode change or a stray file (HEAD ${withHead ? 'given' : 'read'})`, async () => {
        const changes: [(cwd: string) => void | Promise<void>, string][] = [
          [
            (cwd) => writeFileSync(join(cwd, '.beads/molecules/m1/molecule.toml'), 'id = "m2"\n'),
            'molecule.toml (modified)',
          ],
          [
            (cwd) => rmSync(join(cwd, '.beads/molecules/m1/events/design.1.ready.toml')),
            'design.1.ready.toml (deleted)',
          ],
          [
            (cwd) => chmodSync(join(cwd, '.beads/molecules/m1/molecule.toml'), 0o755),
            'molecule.toml (modified)',
          ],
          [
            (cwd) => writeFileSync(join(cwd, '.beads/molecules/m1/notes.txt'), 'mine\n'),
            'notes.txt (untracked)',
          ],
        ];
        for (const [change, named] of changes) {
          const cwd = await molecule();
          await change(cwd);
          const head = await gitIn(cwd, 'rev-parse', 'HEAD');
          const r = await run(cwd, withHead);
          expect(r.files).toEqual([]);
          expect(r.held).toHaveLength(1);
          expect(r.held[0]).toContain(named);
          expect(await gitIn(cwd, 'rev-parse', 'HEAD')).toBe(head);
        }
      });
    }
  });

  it('makes no empty commit when the files already match HEAD', async () => {
    const cwd = await repo();
    writeFileSync(join(cwd, 'f.txt'), 'x\n');
    await gitIn(cwd, 'add', 'f.txt');
    await gitIn(cwd, 'commit', '-q', '-m', 'f');
    const r = await commitTransitions(cwd, { transitions: [], written: ['f.txt'], problems: [] }, engine);
    expect(r.skipped).toBe('unchanged');
  });

  it('writes a message whose subject stays short and whose trailers name every transition', () => {
    const ts = Array.from({ length: 12 }, (_, i) => ({
      molecule: 'day3',
      step: `step-${i}`,
      kind: 'ready',
      summary: '',
    }));
    const msg = engineCommitMessage(ts, []);
    const [subject, blank, ...trailers] = msg.trimEnd().split('\n');
    expect(subject).toBe('gastown: day3 step-0 ready; step-1 ready; step-2 ready and 9 more');
    expect(blank).toBe('');
    expect(trailers).toEqual([
      'Gastown-Molecule: day3',
      ...ts.map((t) => `Gastown-Transition: day3/${t.step} ready`),
    ]);
  });
});

describe('repository reads', () => {
  it('reads staged content (not the working tree) byte-exactly, including non-ASCII', async () => {
    const cwd = await repo();
    mkdirSync(join(cwd, '.beads'), { recursive: true });
    writeFileSync(join(cwd, '.beads/a.toml'), 'name = "Zoë ✓"\n');
    writeFileSync(join(cwd, '.beads/b.toml'), 'x = 1\n');
    await gitIn(cwd, 'add', '.beads');
    writeFileSync(join(cwd, '.beads/a.toml'), 'changed after staging\n');
    const paths = await repoPaths(join(cwd, '.beads'));
    expect(paths.root).toBe(cwd);
    const staged = await stagedChanges(cwd, '.beads');
    expect(staged).toEqual([
      { path: '.beads/a.toml', mode: '100644' },
      { path: '.beads/b.toml', mode: '100644' },
    ]);
    const texts = await readIndexFiles(
      cwd,
      staged.map((c) => c.path),
      1024,
    );
    expect(texts.get('.beads/a.toml')).toEqual({ text: 'name = "Zoë ✓"\n' });
    expect(texts.get('.beads/b.toml')).toEqual({ text: 'x = 1\n' });
  });

  it('names a staged blob over the limit and a staged symlink instead of reading them', async () => {
    const cwd = await repo();
    mkdirSync(join(cwd, '.beads/m'), { recursive: true });
    writeFileSync(join(cwd, '.beads/m/big.toml'), 'x'.repeat(3000));
    symlinkSync('/etc/passwd', join(cwd, '.beads/m/link.toml'));
    await gitIn(cwd, 'add', '.beads');
    const files = await readIndexFiles(cwd, ['.beads/m'], 2048);
    expect(files.get('.beads/m/big.toml')).toEqual({
      unreadable: 'file is 2.9 KiB; files gastown reads as state are limited to 2.0 KiB',
    });
    expect(files.get('.beads/m/link.toml')).toEqual({
      unreadable: expect.stringMatching(/^a symbolic link, not a regular file/),
    });
    expect(await stagedChanges(cwd, '.beads')).toEqual([
      { path: '.beads/m/big.toml', mode: '100644' },
      { path: '.beads/m/link.toml', mode: '120000' },
    ]);
  });

  it('writes the commit object git commit-tree makes, byte for byte, or leaves it to git', async () => {
    const cwd = await repo();
    const [parent = '', tree = ''] = (await gitIn(cwd, 'rev-parse', 'HEAD', 'HEAD^{tree}')).split('\n');
    const message = 'gastown: m1 design done\n\nGastown-Molecule: m1\n';
    const gitMakes = async (identity: { name: string; email: string }, dates: Record<string, string>) =>
      (
        await execa('git', ['commit-tree', tree, '-p', parent, '-F', '-'], {
          cwd,
          input: message,
          env: {
            ...ENV,
            ...dates,
            GIT_AUTHOR_NAME: identity.name,
            GIT_AUTHOR_EMAIL: identity.email,
            GIT_COMMITTER_NAME: identity.name,
            GIT_COMMITTER_EMAIL: identity.email,
          },
        })
      ).stdout.trim();
    const ours = (identity: { name: string; email: string }, dates: Record<string, string>) =>
      writeCommitObject({
        gitDir: join(cwd, '.git'),
        tree,
        parent,
        message,
        identity,
        env: { ...ENV, ...dates },
        algorithm: 'sha1',
      });
    const gastown = { name: 'gastown', email: 'gastown@localhost' };
    for (const dates of [
      // What git gives a hook (the commit's own author date), and what tests and people set.
      { GIT_AUTHOR_DATE: '@1767690000 +0000', GIT_COMMITTER_DATE: '@1767690000 -0700' },
      { GIT_AUTHOR_DATE: '2026-01-06T09:00:00Z', GIT_COMMITTER_DATE: '2026-01-06T09:00:00+05:30' },
      { GIT_AUTHOR_DATE: '2026-02-28 23:59:59-03:00', GIT_COMMITTER_DATE: '2026-01-06T09:00:00Z' },
    ])
      for (const identity of [gastown, { name: 'Zoë Engine', email: 'zoe@example.com' }])
        expect({ dates, identity, id: ours(identity, dates) }).toEqual({
          dates,
          identity,
          id: await gitMakes(identity, dates),
        });
    // Its object is whole: git reads it back.
    expect(await gitIn(cwd, 'cat-file', '-t', ours(gastown, { GIT_AUTHOR_DATE: '@1 +0000' }) ?? '')).toBe(
      'commit',
    );
    // What git would clean up or parse by its own rules stays git's.
    const z = { GIT_AUTHOR_DATE: '@1767690000 +0000', GIT_COMMITTER_DATE: '@1767690000 +0000' };
    expect(ours({ name: 'gastown.', email: 'gastown@localhost' }, z)).toBeUndefined();
    expect(ours({ name: 'a <b>', email: 'gastown@localhost' }, z)).toBeUndefined();
    expect(ours(gastown, { ...z, GIT_AUTHOR_DATE: 'Tue, 6 Jan 2026 09:00:00 +0000' })).toBeUndefined();
    expect(ours(gastown, { ...z, GIT_COMMITTER_DATE: '2026-02-30T09:00:00Z' })).toBeUndefined();
  });
});
