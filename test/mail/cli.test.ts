// `gastown mail …` as a user runs it, in a real repository: the CLI runs in this worker
// (test/helpers/inproc.ts), the built one where a body comes on stdin.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_MAIL_BODY_BYTES } from '../../src/mail/message.js';
import { composeMessage } from '../../src/mail/send.js';
import { gastownInProcess as gastown } from '../helpers/inproc.js';
import { person } from '../helpers/repo.js';
import { gtOkInProcess as gtOk, mailConfig, mailRepo } from './helpers.js';

interface Item {
  id: string;
  mailbox: string;
  from: string;
  subject: string;
  read: boolean;
  acked: boolean;
  archived: boolean;
  claimed_by?: string;
  path: string;
}

async function inbox(cwd: string, who: string, ...flags: string[]): Promise<Item[]> {
  return JSON.parse(await gtOk(cwd, ['mail', 'inbox', '--for', who, '--json', ...flags])) as Item[];
}

async function send(cwd: string, args: string[]): Promise<string> {
  const out = JSON.parse(await gtOk(cwd, ['mail', 'send', '--json', ...args])) as { id: string };
  return out.id;
}

describe('mail', () => {
  let repo: Awaited<ReturnType<typeof mailRepo>> | undefined;
  afterEach(() => repo?.cleanup());

  it('delivers a message to an inbox; reading it marks it read for that reader only', async () => {
    repo = await mailRepo();
    const cwd = repo.path;
    const id = await send(cwd, [
      '--as',
      '@jgil',
      '--to',
      'polecat-1',
      '--subject',
      'Day 3 analysis',
      '--body',
      'Look at **this**',
    ]);
    expect(readFileSync(join(cwd, `.beads/mail/polecat-1/${id}.md`), 'utf8')).toBe(
      '---\nfrom: "@jgil"\nto: polecat-1\nsubject: "Day 3 analysis"\ntype: message\n---\n\nLook at **this**\n',
    );
    expect((await gastown(['mail', 'check', '--for', 'polecat-1'], cwd)).exitCode).toBe(0);
    expect((await gastown(['mail', 'check', '--for', 'polecat-2'], cwd)).exitCode).toBe(1);
    const before = await inbox(cwd, 'polecat-1');
    expect(before).toMatchObject([{ id, from: '@jgil', subject: 'Day 3 analysis', read: false }]);

    const shown = await gtOk(cwd, ['mail', 'read', id.slice(0, 10), '--for', 'polecat-1']);
    expect(shown).toContain('subject:  Day 3 analysis');
    expect(shown).toContain('Look at **this**');
    expect(readdirSync(join(cwd, '.beads/mail/polecat-1/.state/polecat-1'))).toEqual([`${id}.read`]);
    expect((await inbox(cwd, 'polecat-1'))[0]?.read).toBe(true);
    expect(await inbox(cwd, 'polecat-1', '--unread')).toEqual([]);
    const check = await gastown(['mail', 'check', '--for', 'polecat-1'], cwd);
    expect(check.exitCode).toBe(1);
    expect(String(check.stdout)).toBe('');
  });

  it('knows who you are from $GASTOWN_AGENT or your git email, and says so when it cannot', async () => {
    repo = await mailRepo();
    const cwd = repo.path;
    const id = await send(cwd, ['--to', 'polecat-1', '--subject', 's', '--as', 'polecat-2']);
    expect(id).toMatch(/^[0-9A-Z]{26}$/);
    const asAgent = await gastown(['mail', 'inbox', '--json'], cwd, { GASTOWN_AGENT: 'polecat-1' });
    expect(JSON.parse(String(asAgent.stdout))).toMatchObject([{ id, from: 'polecat-2' }]);
    await gtOk(cwd, ['mail', 'send', '--to', '@jgil', '--subject', 'hi', '--body', 'x'], {
      GASTOWN_AGENT: 'polecat-1',
    });
    const asGitUser = await gastown(['mail', 'inbox', '--json'], cwd, person('J Gil', 'JGil@example.com'));
    expect(JSON.parse(String(asGitUser.stdout))).toMatchObject([{ from: 'polecat-1', subject: 'hi' }]);
    const stranger = await gastown(['mail', 'inbox'], cwd, person('Nobody', 'nobody@example.com'));
    expect(stranger.exitCode).toBe(2);
    expect(String(stranger.stderr)).toContain('who are you? pass --for/--as ADDRESS or set GASTOWN_AGENT');
    expect(String(stranger.stderr)).toContain('<nobody@example.com>');
  });

  it('refuses an unknown address, listing the known ones, and writes nothing', async () => {
    repo = await mailRepo();
    const r = await gastown(
      ['mail', 'send', '--as', '@jgil', '--to', 'polecat-9', '--subject', 's', '--body', 'b'],
      repo.path,
    );
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr).trim()).toBe(
      'error: unknown recipient "polecat-9"; known addresses in .beads/config.toml: polecat-1, polecat-2, @ana, @jgil, team:leads, queue:triage',
    );
    expect(existsSync(join(repo.path, '.beads/mail'))).toBe(false);
    const who = await gastown(['mail', 'inbox', '--for', 'team:leads'], repo.path);
    expect(who.exitCode).toBe(2);
    expect(String(who.stderr)).toContain('--for must be an agent or a person (@handle), not team:leads');
  });

  it('refuses a body over the size limit from a file, standard input or the command line', async () => {
    repo = await mailRepo();
    const cwd = repo.path;
    const big = join(cwd, 'big.md');
    writeFileSync(big, 'x'.repeat(MAX_MAIL_BODY_BYTES + 1));
    const base = ['mail', 'send', '--as', '@jgil', '--to', 'polecat-1', '--subject', 'big'];
    const fromFile = await gastown([...base, '--body-file', big], cwd);
    expect(fromFile.exitCode).toBe(1);
    expect(String(fromFile.stderr)).toContain(
      'big.md is more than 256.0 KiB; a message body is limited to 256.0 KiB',
    );
    const { execa } = await import('execa');
    const fromStdin = await execa(
      process.execPath,
      [join(import.meta.dirname, '../../dist/gastown.cjs'), ...base, '-'],
      {
        cwd,
        reject: false,
        inputFile: big,
        env: { NO_COLOR: '1' },
      },
    );
    expect(fromStdin.exitCode).toBe(1);
    expect(String(fromStdin.stderr)).toContain('standard input is more than 256.0 KiB');
    // --body TEXT cannot carry that much (the kernel caps one argument at 128 KiB); the same check
    // refuses it when the text comes from a caller in-process.
    expect(() =>
      composeMessage(mailConfig(), {
        from: '@jgil',
        to: ['polecat-1'],
        subject: 'big',
        body: 'é'.repeat(MAX_MAIL_BODY_BYTES / 2 + 1),
      }),
    ).toThrow('message body is 256.0 KiB; a message body is limited to 256.0 KiB');
    expect(existsSync(join(cwd, '.beads/mail'))).toBe(false);
    // At the limit it goes.
    writeFileSync(big, 'x'.repeat(MAX_MAIL_BODY_BYTES));
    expect((await gastown([...base, '--body-file', big], cwd)).exitCode).toBe(0);
  });

  it('warns about a malformed message file, naming it, and lists the rest', async () => {
    repo = await mailRepo();
    const cwd = repo.path;
    const good = await send(cwd, ['--as', '@jgil', '--to', 'polecat-1', '--subject', 'fine', '--body', 'ok']);
    const dir = join(cwd, '.beads/mail/polecat-1');
    writeFileSync(
      join(dir, '01BROKEN0000000000000000AA.md'),
      '---\nfrom: "@jgil"\nsubject: no recipient\n---\nx\n',
    );
    writeFileSync(join(dir, '01BROKEN0000000000000000AB.md'), 'not a message at all\n');
    const r = await gastown(['mail', 'inbox', '--for', 'polecat-1'], cwd);
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toContain(`${good}  new       @jgil  fine`);
    expect(String(r.stderr)).toContain(
      'warning: .beads/mail/polecat-1/01BROKEN0000000000000000AA.md: to: missing field `to`',
    );
    expect(String(r.stderr)).toContain(
      'warning: .beads/mail/polecat-1/01BROKEN0000000000000000AB.md: line 1: missing front matter',
    );
    // Fixed in place, it is listed on the next run (a file that failed is never cached).
    writeFileSync(
      join(dir, '01BROKEN0000000000000000AB.md'),
      '---\nfrom: "@ana"\nto: polecat-1\nsubject: fixed\n---\n',
    );
    expect((await inbox(cwd, 'polecat-1')).map((i) => i.subject)).toEqual(['fixed', 'fine']);
  });

  it('fans team mail out to each member; replies and the thread keep together', async () => {
    repo = await mailRepo();
    const cwd = repo.path;
    const id = await send(cwd, [
      '--as',
      'polecat-1',
      '--to',
      'team:leads',
      '--subject',
      'Approval required',
      '--body',
      'Day 3',
    ]);
    expect(readdirSync(join(cwd, '.beads/mail')).sort()).toEqual(['@ana', '@jgil']);
    const reply = JSON.parse(
      await gtOk(cwd, ['mail', 'reply', id, '--as', '@jgil', '--all', '--body', 'Approved.', '--json']),
    ) as { id: string; files: string[] };
    // To the sender, copied to the rest of the team; the replier gets no copy of their own.
    expect(reply.files).toEqual([`.beads/mail/@ana/${reply.id}.md`, `.beads/mail/polecat-1/${reply.id}.md`]);
    const again = JSON.parse(
      await gtOk(cwd, ['mail', 'reply', reply.id, '--as', 'polecat-1', '--body', 'Thanks', '--json']),
    ) as { id: string };
    const thread = JSON.parse(await gtOk(cwd, ['mail', 'thread', again.id, '--json'])) as {
      id: string;
      subject: string;
      body: string;
    }[];
    expect(thread.map((m) => [m.id, m.subject, m.body])).toEqual([
      [id, 'Approval required', 'Day 3\n'],
      [reply.id, 'Re: Approval required', 'Approved.\n'],
      [again.id, 'Re: Approval required', 'Thanks\n'],
    ]);
  });

  it('acknowledges and archives: archived mail leaves the inbox but stays in git', async () => {
    repo = await mailRepo();
    const cwd = repo.path;
    const a = await send(cwd, ['--as', '@jgil', '--to', 'polecat-1', '--subject', 'one', '--body', '1']);
    const b = await send(cwd, ['--as', '@jgil', '--to', 'polecat-1', '--subject', 'two', '--body', '2']);
    await gtOk(cwd, ['mail', 'ack', a, '--for', 'polecat-1']);
    await gtOk(cwd, ['mail', 'archive', b, '--for', 'polecat-1']);
    expect(await inbox(cwd, 'polecat-1')).toMatchObject([
      { id: a, read: true, acked: true, archived: false },
    ]);
    expect((await inbox(cwd, 'polecat-1', '--all')).map((i) => [i.id, i.archived])).toEqual([
      [a, false],
      [b, true],
    ]);
    expect(existsSync(join(cwd, `.beads/mail/polecat-1/${b}.md`))).toBe(true);
    const missing = await gastown(['mail', 'read', 'NOSUCHMESSAGE', '--for', 'polecat-1'], cwd);
    expect(missing.exitCode).toBe(2);
    expect(String(missing.stderr)).toContain('no message "NOSUCHMESSAGE" in the mail of polecat-1');
  });

  it('lets one reader claim a queue message; the others no longer see it', async () => {
    repo = await mailRepo();
    const cwd = repo.path;
    const id = await send(cwd, [
      '--as',
      '@jgil',
      '--to',
      'queue:triage',
      '--subject',
      'flaky test',
      '--body',
      'who takes it?',
    ]);
    expect(readdirSync(join(cwd, '.beads/mail'))).toEqual(['queue%3Atriage']);
    expect(await inbox(cwd, 'polecat-2')).toMatchObject([{ id, mailbox: 'queue:triage' }]);
    expect(await inbox(cwd, '@jgil')).toEqual([]);
    const read = await gtOk(cwd, ['mail', 'read', id, '--for', 'polecat-1']);
    expect(read).toContain('queue:    queue:triage, held by polecat-1');
    expect(await inbox(cwd, 'polecat-1')).toMatchObject([{ id, claimed_by: 'polecat-1', read: true }]);
    expect(await inbox(cwd, 'polecat-2')).toEqual([]);
    expect(await inbox(cwd, 'polecat-2', '--all')).toMatchObject([
      { id, claimed_by: 'polecat-1', read: false },
    ]);
  });

  it('never writes through a symbolic link under .beads/mail', async () => {
    repo = await mailRepo();
    const cwd = repo.path;
    const outside = join(cwd, 'outside');
    mkdirSync(outside);
    mkdirSync(join(cwd, '.beads/mail'));
    const { symlinkSync } = await import('node:fs');
    symlinkSync(outside, join(cwd, '.beads/mail/polecat-1'));
    const r = await gastown(
      ['mail', 'send', '--as', '@jgil', '--to', 'polecat-1', '--subject', 's', '--body', 'b'],
      cwd,
    );
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain('.beads/mail/polecat-1: a symbolic link, not a folder');
    expect(readdirSync(outside)).toEqual([]);
  });
});
