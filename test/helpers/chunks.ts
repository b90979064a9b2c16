// Which bundle files a CLI run loaded, from node's module loader log (run it with
// NODE_DEBUG=module): what a shortcut promises not to load is checked against this.

/** The dist/ files a run required, relative to dist/ (`gastown.cjs`, `chunks/core-….cjs`). */
export function chunksLoaded(stderr: string): string[] {
  return [...stderr.matchAll(/^MODULE \d+: load "([^"]*[\\/]dist[\\/][^"]*)"/gm)].map(
    (m) => (m[1] as string).split(/[\\/]dist[\\/]/)[1] as string,
  );
}

/** The engine's chunk and the command table's (scripts/build.mjs groups). */
export const ENGINE_CHUNK = /^chunks[\\/]core-/;
export const TABLE_CHUNK = /program|commander/;
