// The README's first command runs `gastown demo`: it must work end to end.
import { existsSync, rmSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { gastown, gitIn, tempDir } from '../helpers/repo.js';

let kept: string | undefined;
afterEach(() => {
  if (kept) rmSync(kept, { recursive: true, force: true });
});

it('runs a molecule from pour to completed in a temporary repository', async () => {
  const cwd = tempDir();
  try {
    const r = await gastown(['demo', '--keep'], cwd.path);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    kept = /The repository is kept at (\S+)/.exec(String(r.stdout))?.[1] as string;
    expect(existsSync(kept)).toBe(true);
    // The printed log names each commit once: subject, then who made it (no `gastown: gastown:`).
    expect(r.stdout).not.toContain('gastown: gastown:');
    expect(r.stdout).toMatch(
      / gastown: fix-login review done; merge ready {2}\(gastown <gastown@localhost>\)/,
    );

    const status = JSON.parse(
      String((await gastown(['molecule', 'status', 'fix-login', '--json'], kept)).stdout),
    );
    expect(status.state).toBe('completed');
    expect(status.progress).toMatchObject({ done: 4, total: 4 });

    // The audit trail: the self-approval did not count; the reviewer's did, and the engine said so.
    const log = await gitIn(kept, 'log', '--format=%an|%s|%(trailers:only,unfold)');
    expect(log).toContain('J. Gil|Review: approved');
    expect(log).toMatch(/gastown\|gastown: fix-login review done; merge ready\|/);
    expect(log).toContain('Gastown-Transition: fix-login/review checkpoint');
  } finally {
    cwd.cleanup();
  }
});
