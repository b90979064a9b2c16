// Convoys through the built CLI: the brief's soc2-audit-trail of eight chained days.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcess, treeHash } from '../engine/cli.js';
import { commitAll, gitIn, tempDir } from '../helpers/repo.js';
import { AT_COMMIT_TIME, completeDay, convoyRepo, LATER, mailFiles } from './helpers.js';

// Rules and output only: the CLI runs in this worker (test/helpers/inproc.ts).
const { gt, gtJson, gtOk } = inProcess;

interface ConvoyJson {
  id: string;
  name: string;
  owner: string;
  state: string;
  progress: { done: number; total: number; percent: number };
  molecules: { id: string; state: string; blocked_by: string[]; checkpoint?: { path: string } }[];
  next_checkpoint?: { molecule: string; step: string; path: string };
}

const DAYS = ['day1', 'day2', 'day3', 'day4', 'day5', 'day6', 'day7', 'day8'];
const LANDED_MAIL = '@jgil/soc2-audit-trail.convoy-landed.md';

describe('convoy soc2-audit-trail', () => {
  let repo: Awaited<ReturnType<typeof convoyRepo>>;
  let clone: { path: string; cleanup(): void };
  beforeAll(async () => {
    repo = await convoyRepo();
    clone = tempDir();
  });
  afterAll(() => {
    repo.cleanup();
    clone.cleanup();
  });

  it('shows 3/8 and 37.5% after three days, and day4 becomes ready only then', async () => {
    const cwd = repo.path;
    await gtOk(cwd, [
      'convoy',
      'create',
      'soc2-audit-trail',
      '--name',
      'SOC2 audit trail',
      '--owner',
      '@jgil',
      '--teams',
      'platform,security',
    ]);
    for (const [i, day] of DAYS.entries()) {
      const after = i > 0 ? ['--after', DAYS[i - 1] as string] : [];
      await gtOk(
        cwd,
        ['molecule', 'create', '--formula', 'day', '--name', day, '--convoy', 'soc2-audit-trail', ...after],
        AT_COMMIT_TIME,
      );
    }
    await commitAll(cwd, 'eight days');
    for (const day of ['day1', 'day2']) await completeDay(cwd, day);
    let v = await gtJson<ConvoyJson>(cwd, ['convoy', 'show', 'soc2-audit-trail'], AT_COMMIT_TIME);
    const day4 = () => v.molecules.find((m) => m.id === 'day4');
    expect(v.progress).toEqual({ done: 2, total: 8, percent: 25 });
    expect(day4()).toMatchObject({ state: 'blocked', blocked_by: ['day3'] });
    expect((await gt(cwd, ['step', 'start', 'day4', 'work'], AT_COMMIT_TIME)).exitCode).not.toBe(0);

    await completeDay(cwd, 'day3');
    v = await gtJson<ConvoyJson>(cwd, ['convoy', 'show', 'soc2-audit-trail'], AT_COMMIT_TIME);
    expect(v).toMatchObject({
      id: 'soc2-audit-trail',
      name: 'SOC2 audit trail',
      owner: '@jgil',
      state: 'open',
    });
    expect(v.progress).toEqual({ done: 3, total: 8, percent: 37.5 });
    expect(v.molecules.map((m) => m.id)).toEqual(DAYS);
    expect(day4()).toMatchObject({ state: 'active', blocked_by: [] });
    expect(v.molecules.find((m) => m.id === 'day5')).toMatchObject({ blocked_by: ['day4'] });

    // day4's work done: its sign-off waits, and the text view names it with its file.
    await gtOk(cwd, ['step', 'done', 'day4', 'work'], AT_COMMIT_TIME);
    const text = await gtOk(cwd, ['convoy', 'show', 'soc2-audit-trail'], AT_COMMIT_TIME);
    expect(text.stdout).toContain('progress 3/8 (37.5%) [########............]');
    expect(text.stdout).toContain('teams platform, security');
    expect(text.stdout).toContain(
      'next checkpoint day4/signoff: .beads/molecules/day4/checkpoints/signoff.md',
    );
    expect(existsSync(join(cwd, '.beads/molecules/day4/checkpoints/signoff.md'))).toBe(true);
    await commitAll(cwd, 'day4 work done');
    const list = await gtJson<{ id: string; progress: { done: number } }[]>(cwd, ['convoy', 'list']);
    expect(list).toEqual([
      expect.objectContaining({
        id: 'soc2-audit-trail',
        state: 'open',
        progress: { done: 3, total: 8, percent: 37.5 },
      }),
    ]);
  });

  it('bad input is a clear error and writes nothing', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['convoy', 'create', 'other', '--name', 'Other', '--owner', '@jgil']);
    await commitAll(cwd, 'other convoy');
    const before = await treeHash(cwd);
    const unknown = await gt(cwd, ['convoy', 'show', 'nope']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('no convoy nope (looked for .beads/convoys/nope/convoy.toml)');
    expect((await gt(cwd, ['convoy', 'add', 'nope', 'day1'])).stderr).toContain('no convoy nope');
    const twice = await gt(cwd, ['convoy', 'add', 'other', 'day1']);
    expect(twice.exitCode).toBe(1);
    expect(twice.stderr).toContain('molecule day1 is already in convoy soc2-audit-trail');
    const cycle = await gt(cwd, ['convoy', 'add', 'soc2-audit-trail', 'day1', '--after', 'day3']);
    expect(cycle.exitCode).toBe(1);
    expect(cycle.stderr).toContain('--after day3 makes a cycle: day1 -> day3 -> day2 -> day1');
    const owner = await gt(cwd, ['convoy', 'create', 'x', '--name', 'X', '--owner', '@nobody']);
    expect(owner.exitCode).not.toBe(0);
    expect(owner.stderr).toContain('@nobody');
    expect(await treeHash(cwd)).toBe(before);
  });

  it('lands once: one summary to the owner, when advance runs twice and from two clones that merge', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['advance', '--commit'], LATER);
    for (const day of ['day5', 'day6', 'day7']) await completeDay(cwd, day);
    expect(mailFiles(cwd)).not.toContain(LANDED_MAIL);
    await gitIn(clone.path, 'clone', '-q', cwd, 'b');
    const other = join(clone.path, 'b');
    // Both clones finish day8 and land the convoy on their own.
    await completeDay(cwd, 'day8');
    await completeDay(other, 'day8');
    for (const dir of [cwd, other]) {
      expect(mailFiles(dir).filter((f) => f.includes('convoy-landed'))).toEqual([LANDED_MAIL]);
      expect(existsSync(join(dir, '.beads/convoys/soc2-audit-trail/landed.toml'))).toBe(true);
    }
    // Running advance again sends nothing more.
    const again = await gtJson<{ written: string[]; convoys_landed?: string[] }>(cwd, [
      'advance',
      '--commit',
    ]);
    expect(again.convoys_landed).toBeUndefined();
    expect(again.written).toEqual([]);
    // The clones merge cleanly: the same facts under the same names with the same bytes.
    await gitIn(cwd, 'pull', '-q', '--no-rebase', '--no-edit', other, 'main');
    expect(mailFiles(cwd).filter((f) => f.includes('convoy-landed'))).toEqual([LANDED_MAIL]);
    const mail = readFileSync(join(cwd, '.beads/mail', LANDED_MAIL), 'utf8');
    expect(mail).toContain('subject: "Convoy landed: SOC2 audit trail"');
    expect(mail).toContain('8/8 molecules completed');
    const v = await gtJson<ConvoyJson>(cwd, ['convoy', 'show', 'soc2-audit-trail']);
    expect(v).toMatchObject({ state: 'landed', progress: { done: 8, total: 8, percent: 100 } });
    expect((await gtJson<{ written: string[] }>(cwd, ['advance', '--commit'])).written).toEqual([]);
    await gtOk(cwd, ['convoy', 'close', 'soc2-audit-trail']);
    expect((await gtJson<ConvoyJson>(cwd, ['convoy', 'show', 'soc2-audit-trail'])).state).toBe('closed');
  });

  it('a cancelled predecessor blocks its successor with the reason', async () => {
    const cwd = repo.path;
    await gtOk(cwd, ['molecule', 'create', '--formula', 'day', '--name', 'first'], AT_COMMIT_TIME);
    await gtOk(
      cwd,
      ['molecule', 'create', '--formula', 'day', '--name', 'second', '--after', 'first'],
      AT_COMMIT_TIME,
    );
    await gtOk(cwd, ['molecule', 'cancel', 'first', '--reason', 'dropped']);
    const s = await gtJson<{ state: string; blocked_reason: string }>(cwd, ['molecule', 'status', 'second']);
    expect(s.state).toBe('blocked');
    expect(s.blocked_reason).toBe(
      'waiting for molecule first (it is cancelled: this molecule starts only once that one completes with every gate passed)',
    );
  });
});
