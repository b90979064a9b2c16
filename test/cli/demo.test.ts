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
    const r = await gastown(['demo', '--keep', '--json'], cwd.path);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = JSON.parse(String(r.stdout));
    kept = out.repository as string;
    expect(existsSync(kept)).toBe(true);

    const status = JSON.parse(
      String((await gastown(['molecule', 'status', out.molecule, '--json'], kept)).stdout),
    );
    expect(status.state).toBe('completed');
    expect(status.progress).toMatchObject({ done: 4, total: 4 });

    // The audit trail: the self-approval did not count; the reviewer's did, and the engine said so.
    const log = await gitIn(kept, 'log', '--format=%an|%s|%(trailers:only,unfold)');
    expect(log).toContain('J. Gil|Review: approved');
    expect(log).toMatch(/gastown\|gastown: fix-login\/review done, fix-login\/merge ready/);
    expect(log).toContain('Gastown-Transition: fix-login/review checkpoint');
  } finally {
    cwd.cleanup();
  }
});
