// Two clones send mail to the same inbox, read some of it, claim one queue message each, and merge
// through a bare remote with the git binary: no conflict, every message, every reader's marks.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitIn, tempDir } from '../helpers/repo.js';
import { gtOkInProcess as gtOk, mailRepo } from './helpers.js';

interface Item {
  id: string;
  subject: string;
  read: boolean;
  claimed_by?: string;
  claimers?: string[];
}

const inbox = async (cwd: string, who: string, ...flags: string[]) =>
  (JSON.parse(await gtOk(cwd, ['mail', 'inbox', '--for', who, '--json', ...flags])) as Item[]).map((i) => ({
    subject: i.subject,
    read: i.read,
    ...(i.claimed_by ? { claimed_by: i.claimed_by } : {}),
    ...(i.claimers ? { claimers: i.claimers } : {}),
  }));

const send = async (cwd: string, ...args: string[]) =>
  (JSON.parse(await gtOk(cwd, ['mail', 'send', '--json', ...args])) as { id: string }).id;

async function commit(cwd: string, message: string) {
  await gitIn(cwd, 'add', '-A');
  await gitIn(cwd, 'commit', '-q', '-m', message);
}

describe('mail across clones', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('two clones mail one inbox and read some of it; the merge has no conflict and keeps every mark', async () => {
    const origin = await mailRepo();
    cleanups.push(origin.cleanup);
    const shared = await send(
      origin.path,
      '--as',
      '@jgil',
      '--to',
      'polecat-1',
      '--subject',
      'kick-off',
      '--body',
      'hi',
    );
    const queued = await send(
      origin.path,
      '--as',
      '@jgil',
      '--to',
      'queue:triage',
      '--subject',
      'triage me',
      '--body',
      'q',
    );
    await commit(origin.path, 'mail');
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const bare = join(dir.path, 'remote.git');
    await gitIn(dir.path, 'clone', '-q', '--bare', origin.path, bare);
    const a = join(dir.path, 'a');
    const b = join(dir.path, 'b');
    await gitIn(dir.path, 'clone', '-q', bare, a);
    await gitIn(dir.path, 'clone', '-q', bare, b);

    // Clone a: polecat-1 reads the shared message; @ana sends one more; polecat-1 claims the queue message.
    await gtOk(a, ['mail', 'read', shared, '--for', 'polecat-1']);
    await send(a, '--as', '@ana', '--to', 'polecat-1', '--subject', 'from a', '--body', 'a');
    await gtOk(a, ['mail', 'read', queued, '--for', 'polecat-2']);
    // Clone b: polecat-1 reads the shared message too, and the one sent on b; it claims the queue
    // message, so two clones claimed it for different readers.
    await gtOk(b, ['mail', 'read', shared, '--for', 'polecat-1']);
    const fromB = await send(b, '--as', '@jgil', '--to', 'polecat-1', '--subject', 'from b', '--body', 'b');
    await gtOk(b, ['mail', 'read', fromB, '--for', 'polecat-1']);
    await gtOk(b, ['mail', 'read', queued, '--for', 'polecat-1']);

    await commit(a, 'a: mail');
    await gitIn(a, 'push', '-q', 'origin', 'main');
    await commit(b, 'b: mail');
    await gitIn(b, 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main');
    expect(await gitIn(b, 'ls-files', '-u')).toBe('');
    expect(await gitIn(b, 'status', '--porcelain')).toBe('');
    await gitIn(b, 'push', '-q', 'origin', 'main');
    await gitIn(a, 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main');

    for (const clone of [a, b]) {
      // Every message, in id (time) order, each with the read marks made on either clone.
      expect(await inbox(clone, 'polecat-1')).toEqual([
        { subject: 'kick-off', read: true },
        { subject: 'triage me', read: true, claimed_by: 'polecat-1', claimers: ['polecat-1', 'polecat-2'] },
        { subject: 'from a', read: false },
        { subject: 'from b', read: true },
      ]);
      // Both clones claimed the queue message; both agree who holds it (first by name), and the
      // other reader's own read mark is still there.
      expect(await inbox(clone, 'polecat-2')).toEqual([]);
      expect(await inbox(clone, 'polecat-2', '--all')).toEqual([
        { subject: 'triage me', read: true, claimed_by: 'polecat-1', claimers: ['polecat-1', 'polecat-2'] },
      ]);
    }
    expect(await gitIn(a, 'rev-parse', 'HEAD')).toBe(await gitIn(b, 'rev-parse', 'HEAD'));
  });
});
