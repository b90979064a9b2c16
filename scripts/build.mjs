// Bundles the CLI into dist/gastown.mjs. Commands are split into lazily loaded chunks so
// that `gastown --help` loads only the command table. Builds into a fresh folder and swaps it
// into place, so a concurrent run (tests, hooks) never sees a half-written dist/.
import { chmodSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

// commander requires node:child_process at load time only to spawn executable subcommands, which
// gastown never uses; loading it (with net, dgram and the rest) is ~4 ms of every start-up. This
// hands commander a stand-in that loads the real module on first use.
const lazyChildProcess = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer)
        ? { path: 'child_process', namespace: 'lazy-builtin' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      loader: 'js',
      contents:
        "let real; const load = () => (real ??= require('node:child_process'));\n" +
        'module.exports = new Proxy({}, { get: (_, key) => load()[key] });\n',
    }));
  },
};
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
  plugins: [lazyChildProcess],
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
