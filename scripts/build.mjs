// Bundles the CLI into dist/gastown.mjs. Commands are split into lazily loaded chunks so
// that `gastown --help` loads only the command table. Builds into a fresh folder and swaps it
// into place, so a concurrent run (tests, hooks) never sees a half-written dist/.
import { chmodSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const staging = `${root}dist.tmp-${process.pid}`;
const old = `${root}dist.old-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
await build({
  entryPoints: { gastown: 'src/cli/main.ts' },
  absWorkingDir: root,
  outdir: staging,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  sourcemap: false,
  legalComments: 'none',
  banner: {
    // Some bundled CommonJS dependencies call require(); give them one.
    js: "import { createRequire as __gtCreateRequire } from 'node:module'; const require = __gtCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync(`${staging}/gastown.mjs`, 0o755);
// Swap: move the old dist aside, move the new one in, then delete the old one.
try {
  renameSync(`${root}dist`, old);
} catch {
  // No previous build.
}
renameSync(staging, `${root}dist`);
rmSync(old, { recursive: true, force: true });
