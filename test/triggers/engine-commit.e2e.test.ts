// The engine-commit path end to end: what a hook leaves running, what an engine commit
// publishes, what a kill in the middle of one leaves, and what pre-commit lets in. Real git, the
// built CLI, temp repositories.
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { git, log, type Repo, shinyRepo } from './helpers.js';

const repos: Repo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});
async function repo(opts: { hooks?: string } = {}) {
  const r = await shinyRepo(opts);
  repos.push(r);
  return r.path;
}

/** Processes still alive whose environment carries `tag` (everything a command started inherits it). */
function processesTagged(tag: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (!env.includes(`GASTOWN_TEST_TAG=${tag}`)) continue;
      found.push(`${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')}`);
    } catch {
      /* gone, or not ours */
    }
  }
  return found;
}

describe('the hook runner', () => {
  it('leaves no process behind once a hooked Gastown-Done commit returns', async () => {
    const cwd = await repo();
    const tag = `engine-commit-${process.pid}-${Date.now()}`;
    const r = await git(
      cwd,
      ['commit', '-q', '--allow-empty', '-m', 'design done', '--trailer', 'Gastown-Done: m1/design'],
      { GASTOWN_TEST_TAG: tag },
    );
    expect(r.exitCode).toBe(0);
    // Node ran and committed (the hook was not a no-op)…
    expect(r.stderr).toContain('gastown: m1/implement ready');
    expect((await log(cwd, 1))[0]?.author).toBe('gastown');
    // …and neither it nor its watchdog (a `sleep` of hook_timeout) outlived git.
    expect(processesTagged(tag)).toEqual([]);
  });
});
