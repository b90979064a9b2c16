// Bundles the CLI into dist/gastown.mjs. Commands are split into lazily loaded chunks so
// that `gastown --help` loads only the command table.
import { chmodSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { gastown: 'src/cli/main.ts' },
  outdir: 'dist',
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
chmodSync(new URL('../dist/gastown.mjs', import.meta.url), 0o755);
