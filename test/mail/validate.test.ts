// A malformed message file: pre-commit refuses it and doctor reports it, each naming the file and
// the field, while `mail inbox` lists the rest with a warning. Real git, hooks installed by
// `gastown init`, the built CLI.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gastown, gitIn } from '../helpers/repo.js';
import { git, initRepo, type Repo } from '../triggers/helpers.js';
import { MAIL_CONFIG } from './helpers.js';

const repos: Repo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

const BROKEN: [string, string, string][] = [
  [
    '01BROKEN0000000000000000AA.md',
    '---\nfrom: "@jgil"\nsubject: no recipient\n---\nx\n',
    'missing field `to`',
  ],
  ['01BROKEN0000000000000000AB.md', 'not a message at all\n', 'missing front matter'],
  [
    '01BROKEN0000000000000000AC.md',
    '---\nfrom: "@jgil"\nto: polecat-1\nsubject: s\npriority: asap\n---\n',
    '`priority` must be one of',
  ],
  ['bad name!.md', '---\nfrom: "@jgil"\nto: polecat-1\nsubject: s\n---\n', 'is not a message id'],
];

describe('malformed mail files', () => {
  for (const [name, text, expected] of BROKEN) {
    it(`${name}: doctor and pre-commit name it; the inbox lists the rest`, async () => {
      const repo = await initRepo();
      repos.push(repo);
      const cwd = repo.path;
      writeFileSync(join(cwd, '.beads/config.toml'), MAIL_CONFIG);
      await gitIn(cwd, 'add', '-A');
      expect((await git(cwd, ['commit', '-q', '-m', 'config'])).exitCode).toBe(0);
      const sent = await gastown(
        ['mail', 'send', '--as', '@jgil', '--to', 'polecat-1', '--subject', 'fine', '--body', 'ok'],
        cwd,
      );
      expect(sent.exitCode).toBe(0);
      mkdirSync(join(cwd, '.beads/mail/polecat-1'), { recursive: true });
      const rel = `.beads/mail/polecat-1/${name}`;
      writeFileSync(join(cwd, rel), text);

      const doctor = await gastown(['doctor'], cwd);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout).toContain(rel);
      expect(doctor.stdout).toContain(expected);

      await gitIn(cwd, 'add', '-A');
      const commit = await git(cwd, ['commit', '-q', '-m', 'mail']);
      expect(commit.exitCode).not.toBe(0);
      expect(commit.stderr).toContain(rel);
      expect(await gitIn(cwd, 'log', '-1', '--format=%s')).toBe('config');

      if (name.startsWith('01')) {
        const inbox = await gastown(['mail', 'inbox', '--for', 'polecat-1'], cwd);
        expect(inbox.exitCode).toBe(0);
        expect(inbox.stdout).toContain('fine');
        expect(inbox.stderr).toContain(`warning: ${rel}`);
      }
    });
  }
});
