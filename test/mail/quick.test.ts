// `mail inbox` and `mail check` are answered before commander loads (src/cli/shortcuts.ts;
// test/cli/shortcuts.test.ts holds the options to the table): both paths print the same, and the
// shortcut loads neither the engine nor the command table.
import { afterEach, describe, expect, it } from 'vitest';
import { chunksLoaded, ENGINE_CHUNK, TABLE_CHUNK } from '../helpers/chunks.js';
import { gastown } from '../helpers/repo.js';
import { gtOk, mailRepo } from './helpers.js';

describe('the mail shortcut', () => {
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
