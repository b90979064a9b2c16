// `mail inbox` and `mail check` are answered before commander loads (src/cli/quick-mail.ts): the
// options that shortcut reads are the ones the command table defines, and both paths print the same.
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { QUICK_MAIL_OPTIONS, quickMailCall } from '../../src/cli/quick-mail.js';
import { registerMail } from '../../src/cli/table/mail.js';
import { chunksLoaded, ENGINE_CHUNK, TABLE_CHUNK } from '../helpers/chunks.js';
import { gastown } from '../helpers/repo.js';
import { gtOk, mailRepo } from './helpers.js';

describe('the mail shortcut', () => {
  it('reads exactly the options the command table defines for inbox and check', () => {
    const program = new Command('gastown');
    registerMail(program, createContext());
    const mail = program.commands.find((c) => c.name() === 'mail') as Command;
    for (const name of ['inbox', 'check'] as const) {
      const cmd = mail.commands.find((c) => c.name() === name) as Command;
      const defined = Object.fromEntries(
        cmd.options.map((o) => [o.long, { key: o.attributeName(), value: o.required || o.optional }]),
      );
      expect(QUICK_MAIL_OPTIONS[name]).toEqual(defined);
    }
  });

  it('takes plain shapes only and leaves the rest to commander', () => {
    expect(quickMailCall(['mail', 'inbox', '--for', 'polecat-1', '--unread', '--json'])).toEqual({
      command: 'inbox',
      flags: { for: 'polecat-1', unread: true, json: true },
    });
    expect(quickMailCall(['mail', 'check'])).toEqual({ command: 'check', flags: {} });
    for (const args of [
      ['mail', 'inbox', '--help'],
      ['mail', 'inbox', '--for=polecat-1'],
      ['mail', 'inbox', '--for'],
      ['mail', 'check', '--unread'],
      ['mail', 'read', 'X'],
      ['-C', '.', 'mail', 'inbox'],
    ])
      expect(quickMailCall(args)).toBeUndefined();
  });

  let repo: Awaited<ReturnType<typeof mailRepo>> | undefined;
  afterEach(() => repo?.cleanup());

  it('prints what the full path prints, with the same exit code', async () => {
    repo = await mailRepo();
    const cwd = repo.path;
    await gtOk(cwd, [
      'mail',
      'send',
      '--as',
      '@jgil',
      '--to',
      'polecat-1',
      '--subject',
      'hello',
      '--body',
      'b',
    ]);
    for (const args of [
      ['mail', 'inbox', '--for', 'polecat-1'],
      ['mail', 'inbox', '--for', 'polecat-1', '--json'],
      ['mail', 'check', '--for', 'polecat-1'],
      ['mail', 'check', '--for', 'polecat-2'],
      ['mail', 'inbox', '--for', 'nobody'],
    ]) {
      const quick = await gastown(args, cwd);
      const full = await gastown(['-C', cwd, ...args], '/');
      expect([quick.exitCode, String(quick.stdout), String(quick.stderr)]).toEqual([
        full.exitCode,
        String(full.stdout),
        String(full.stderr),
      ]);
    }
  });

  it('answers inbox and check without loading the engine or the command table', async () => {
    repo = await mailRepo();
    const cwd = repo.path;
    await gtOk(cwd, ['mail', 'send', '--as', '@jgil', '--to', 'polecat-1', '--subject', 'hi', '--body', 'b']);
    for (const args of [
      ['mail', 'inbox', '--for', 'polecat-1', '--json'],
      ['mail', 'check', '--for', 'polecat-1'],
    ]) {
      const r = await gastown(args, cwd, { NODE_DEBUG: 'module' });
      expect(r.exitCode).toBe(0);
      expect(String(r.stdout)).toContain('1');
      const loaded = chunksLoaded(String(r.stderr));
      expect(loaded.some((f) => f.startsWith('chunks/mail'))).toBe(true);
      expect(loaded.filter((f) => ENGINE_CHUNK.test(f) || TABLE_CHUNK.test(f))).toEqual([]);
    }
  });
});
