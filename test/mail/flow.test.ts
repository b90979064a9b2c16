// Typed mail over a whole molecule of the built-in shiny formula: each step's STEP_READY to its
// own assignee with the vars filled in, MOLECULE_DONE once to the owner, BLOCKED once per reason
// when a step fails. The CLI (run in the test worker) in a real git repository.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gtOkInProcess as gtOk, mailRepo } from './helpers.js';

interface InboxEntry {
  id: string;
  type: string;
  subject: string;
}

describe('typed mail over a molecule', () => {
  let repo: { path: string; cleanup(): void };
  const gt = (args: string[]) => gtOk(repo.path, args);
  const inbox = async (who: string) =>
    JSON.parse(await gt(['mail', 'inbox', '--for', who, '--all', '--json'])) as InboxEntry[];
  const types = async (who: string) => (await inbox(who)).map((m) => m.id);

  beforeAll(async () => {
    repo = await mailRepo();
    await gt([
      'molecule',
      'create',
      '--formula',
      'shiny',
      '--name',
      'm1',
      '--var',
      'feature=login',
      '--var',
      'reviewer=polecat-2',
      '--assignee',
      'polecat-1',
      '--owner',
      '@jgil',
    ]);
  });
  afterAll(() => repo.cleanup());

  it('prime and molecule current show the description with the vars filled in', async () => {
    const prime = await gt(['prime', '--for', 'polecat-1']);
    expect(prime).toContain('On your hook: m1/design: Design login');
    expect(prime).toContain('Decide how login fits the existing code before changing it');
    expect(prime).toContain(
      'alternatives you rejected and why, the edge cases, and the files you expect to touch.',
    );
    expect(prime).not.toContain('{{feature}}');
    const current = await gt(['molecule', 'current', 'm1']);
    expect(current).toContain('m1/design  ready  polecat-1  Design login');
    expect(current).toContain('    Decide how login fits the existing code before changing it');
    const json = JSON.parse(await gt(['molecule', 'current', 'm1', '--json'])) as { description: string }[];
    expect(json[0]?.description).toContain('the files you expect to touch.');
  });

  it('done --continue prints the next step instructions; each step is mailed to its assignee', async () => {
    await gt(['step', 'start', 'm1', 'design', '--as', 'polecat-1']);
    const out = await gt(['step', 'done', 'm1', 'design', '--as', 'polecat-1', '--continue']);
    expect(out).toContain('next: m1/implement: Implement login');
    expect(out).toContain('Build what the design describes, and no more. Commit as you go.');
    await gt(['step', 'done', 'm1', 'implement', '--as', 'polecat-1']);
    expect(await types('polecat-2')).toEqual(['m1.review.1.step-ready']);
    expect(await types('polecat-1')).toEqual(['m1.design.1.step-ready', 'm1.implement.1.step-ready']);
    expect(await types('@jgil')).toEqual([]);
  });

  it('the last step done sends MOLECULE_DONE to the owner once', async () => {
    await gt(['step', 'done', 'm1', 'review', '--as', 'polecat-2']);
    await gt(['step', 'done', 'm1', 'test', '--as', 'polecat-1']);
    expect(await types('@jgil')).toEqual([]);
    await gt(['step', 'done', 'm1', 'submit', '--as', 'polecat-1']);
    await gt(['advance']);
    expect(await types('@jgil')).toEqual(['m1.molecule-done']);
  });

  it('a failed step sends BLOCKED with the reason to the assignee and the owner, once', async () => {
    await gt([
      'molecule',
      'create',
      '--formula',
      'shiny',
      '--name',
      'm2',
      '--var',
      'feature=x',
      '--assignee',
      'polecat-1',
      '--owner',
      '@ana',
    ]);
    await gt(['step', 'fail', 'm2', 'design', '--as', 'polecat-1', '--reason', 'no access to the repo']);
    await gt(['advance']);
    await gt(['advance']);
    const blocked = (await inbox('@ana')).filter((m) => m.type === 'BLOCKED');
    expect(blocked).toHaveLength(1);
    const body = await gt(['mail', 'read', blocked[0]?.id as string, '--for', '@ana']);
    expect(body).toContain('step design (attempt 1) failed');
    expect((await inbox('polecat-1')).filter((m) => m.type === 'BLOCKED')).toHaveLength(1);
  });
});
