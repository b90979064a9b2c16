// The runner's post-commit `git log` of HEAD, handed to Node as GASTOWN_HEAD_LOG: parsed from
// real git output it must give exactly what Node's own read of HEAD gives.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { headFromRunner } from '../../src/triggers/hook.js';
import { gitIn, makeRepo } from '../helpers/repo.js';

// The runner's format (hooks/runner.sh), and the shell's $(…), which drops trailing newlines.
const RUNNER_FORMAT = '--format=%H%n%T%n%an%n%ae%n%B%n%x01';
async function runnerLog(cwd: string): Promise<string> {
  return (
    await gitIn(cwd, 'log', '-1', '-m', '--first-parent', '--name-only', RUNNER_FORMAT, 'HEAD', '--')
  ).replace(/\n+$/, '');
}

const repos: { cleanup(): void }[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

describe('headFromRunner', () => {
  it('gives HEAD’s id, tree, author, exact message and names for messages of every shape', async () => {
    const repo = await makeRepo();
    repos.push(repo);
    const cwd = repo.path;
    const messages = [
      'design done\n\nGastown-Done: m1/design\n',
      'one line',
      'a\n\n\nparagraphs\n\n  indented\n',
      'a line holding only the separator follows\n\x01\nand more text\n',
    ];
    for (const [i, message] of messages.entries()) {
      writeFileSync(join(cwd, `f${i}.txt`), `${i}\n`);
      await gitIn(cwd, 'add', '.');
      await gitIn(cwd, 'commit', '-q', '--cleanup=verbatim', '-m', message);
      const parsed = headFromRunner(await runnerLog(cwd));
      expect(parsed?.record).toEqual({
        sha: (await gitIn(cwd, 'rev-parse', 'HEAD')).trim(),
        authorName: (await gitIn(cwd, 'log', '-1', '--format=%an')).trim(),
        authorEmail: (await gitIn(cwd, 'log', '-1', '--format=%ae')).trim(),
        // %B with its trailing newline, as Node's own read of HEAD takes it.
        message: (await gitIn(cwd, 'log', '-1', '--format=%B%x00')).split('\0')[0],
      });
      expect(parsed?.tree).toBe((await gitIn(cwd, 'rev-parse', 'HEAD^{tree}')).trim());
      expect(parsed?.names.trim()).toBe(`f${i}.txt`);
    }
    // An empty message and no names.
    await gitIn(cwd, 'commit', '-q', '--allow-empty', '--allow-empty-message', '-m', '');
    const empty = headFromRunner(await runnerLog(cwd));
    expect(empty?.record.message).toBe('');
    expect(empty?.names).toBe('');
  });

  it('refuses anything not in the runner’s shape, so Node reads HEAD itself', () => {
    const sha = 'a'.repeat(40);
    expect(headFromRunner(undefined)).toBeUndefined();
    expect(headFromRunner('')).toBeUndefined();
    expect(headFromRunner(`${sha}\n${sha}\nname\nmail\nno separator`)).toBeUndefined();
    expect(headFromRunner(`HEAD\n${sha}\nname\nmail\nmsg\n\n\x01`)).toBeUndefined();
    expect(headFromRunner(`${sha}\nnot-a-tree\nname\nmail\nmsg\n\n\x01`)).toBeUndefined();
    expect(headFromRunner(`${sha}\n${sha}\n\x01`)).toBeUndefined();
  });
});
