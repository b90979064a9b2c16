// Which bundle files a CLI run loaded, from node's module loader log (run it with
// NODE_DEBUG=module): what a shortcut promises not to load is checked against this.
import { expect } from 'vitest';

/** The dist/ files a run required, relative to dist/ (`gastown.cjs`, `chunks/core-….cjs`). */
export function chunksLoaded(stderr: string): string[] {
  return [...stderr.matchAll(/^MODULE \d+: load "([^"]*[\\/]dist[\\/][^"]*)"/gm)].map(
    (m) => (m[1] as string).split(/[\\/]dist[\\/]/)[1] as string,
  );
}

/** The engine's chunk and the command table's (scripts/build.mjs groups). */
export const ENGINE_CHUNK = /^chunks[\\/]core-/;
export const TABLE_CHUNK = /program|commander/;

interface Run {
  exitCode?: number;
  stdout: unknown;
  stderr: unknown;
}

/**
 * A shortcut's run (with NODE_DEBUG=module) against the same command through commander: the
 * same exit code and output, its loader log aside, and no chunk of the command table loaded.
 */
export function expectShortcutAsFullPath(quick: Run, full: Run): void {
  const stderr = String(quick.stderr)
    .split('\n')
    .filter((l) => !l.startsWith('MODULE '))
    .join('\n');
  expect([quick.exitCode, String(quick.stdout), stderr]).toEqual([
    full.exitCode,
    String(full.stdout),
    String(full.stderr),
  ]);
  expect(chunksLoaded(String(quick.stderr)).filter((f) => TABLE_CHUNK.test(f))).toEqual([]);
}
