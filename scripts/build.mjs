// Bundles the CLI into dist/gastown.cjs with rolldown. Command implementations load lazily, so
// `gastown --help` reads only the command table; the engine and store, which `advance` (run by
// every git hook) and most other commands need, are one chunk. CommonJS output because node
// starts a CommonJS entry ~20 M instructions cheaper than an ES module one (docs/decisions.md,
// "Build"). Builds into a fresh folder and swaps it into place, so a concurrent run (tests,
// hooks) never sees a half-written dist/.
import { chmodSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));

// commander requires node:child_process at load time only to spawn executable subcommands, which
// gastown never uses; loading it (with net, dgram and the rest) is ~4 ms of every start-up. This
// hands commander a stand-in that loads the real module on first use.
const LAZY_CHILD_PROCESS = '\0lazy-child-process';
const lazyChildProcess = {
  name: 'lazy-child-process-for-commander',
  resolveId(id, importer) {
    if (/^(node:)?child_process$/.test(id) && importer && /[\\/]commander[\\/]/.test(importer))
      return LAZY_CHILD_PROCESS;
    return null;
  },
  load(id) {
    if (id !== LAZY_CHILD_PROCESS) return null;
    return (
      "let real; const load = () => (real ??= require('node:child_process'));\n" +
      'module.exports = new Proxy({}, { get: (_, key) => load()[key] });\n'
    );
  },
};

// yaml is CommonJS, so the bundle ran all ~70 of its modules where the engine imports it, on
// every run that loads `core`, and compiled its 158 KB with `core`; most runs read only front
// matter the subset reader takes (checkpoint/frontmatter-subset.ts) and write none. So yaml is
// an entry of its own (dist/yaml.cjs), and gastown's modules import a stand-in that requires
// that file on first use.
const LAZY_YAML = '\0lazy-yaml';
const lazyYaml = {
  name: 'lazy-yaml-for-gastown',
  resolveId(id, importer) {
    return id === 'yaml' && importer && /[\\/]src[\\/]/.test(importer) ? LAZY_YAML : null;
  },
  load(id) {
    if (id !== LAZY_YAML) return null;
    return (
      "let real; const load = () => (real ??= require(require('node:path').join(__dirname, '..', 'yaml.cjs')));\n" +
      'module.exports = new Proxy({}, { get: (_, key) => load()[key] });\n'
    );
  },
};

/**
 * Chunks by hand. Left to itself a bundler makes one chunk per distinct set of importers, and
 * `advance` then loads 14 files; each costs a read, a compile and a link. `base` is what the
 * entry needs from src/ (so `--version` does not load the engine), and git's mode names, which the
 * engine and the hooks compare without loading git's process code; `quick` is what `advance`
 * needs to answer "nothing changed" (engine/quiet.ts) without the engine (and paths.ts, so a
 * warm `formula validate` does not load the engine either); `store-config` is the
 * config reader and smol-toml (mail reads the config without the engine); `core` is everything
 * else the engine's hot path touches; `readers` what the readers need of the engine when the caches
 * answer. Heavier, rarer code (formula validation with zod, gates
 * with yaml, git through execa, the watcher) stays in chunks of its own.
 */
const groups = [
  {
    name: 'base',
    priority: 3,
    test: /[\\/]src[\\/](errors|hash|scope|version|cli[\\/]context|engine[\\/](plugins|trace)|git[\\/]modes)\.ts$/,
  },
  {
    name: 'quick',
    priority: 2,
    test: /[\\/]src[\\/](store[\\/](layout|atomic|ids|cache|lock|links|exact-stats)|engine[\\/](gates|quiet)|convoy[\\/]layout|cli[\\/]commands[\\/]advance|paths)\.ts$/,
  },
  {
    // The config reader and TOML: what `mail` needs of the store, without the engine.
    name: 'store-config',
    priority: 2,
    test: /[\\/]src[\\/]store[\\/](config|config-cache|check|toml|toml-subset|json-exact|types)\.ts$|[\\/]node_modules[\\/]smol-toml[\\/]/,
  },
  {
    // What `formula validate` needs without the engine: the cache and library, and the formula
    // helpers the resolver shares with the engine (otherwise they land in core).
    name: 'formula-check',
    priority: 2,
    test: /[\\/]src[\\/]formula[\\/](cache|limits|library|validate|pattern|argv|vars|hash)\.ts$/,
  },
  {
    // A molecule folder's files and facts (engine/io.ts), which readers, convoys and patrol share:
    // a group of its own, or it lands in the first group that imports it and drags that group's
    // other modules into each of them.
    name: 'molecule-io',
    priority: 2,
    test: /[\\/]src[\\/]engine[\\/]io\.ts$/,
  },
  {
    // What `molecule list|current|status` need to answer from the caches: the engine (fold, plan,
    // the verdict) loads only when a molecule must be judged in full.
    name: 'readers',
    priority: 2,
    test: /[\\/]src[\\/](engine[\\/](views|summaries|molecule-status|status-cache|kept-output)|desk[\\/]describe)\.ts$/,
  },
  {
    // Mailbox folder names, which patrol's heartbeats use without the rest of the mail code
    // (before mail-read, which would otherwise take it as a dependency of its modules).
    name: 'mail-address',
    priority: 2,
    test: /[\\/]src[\\/]mail[\\/]address\.ts$/,
  },
  {
    // What `mail inbox` and `mail check` read and what patrol writes mail with, so neither loads
    // the engine.
    name: 'mail-read',
    priority: 2,
    test: /[\\/]src[\\/](mail[\\/](inbox|layout|message|send|store|typed)|checkpoint[\\/]frontmatter-split)\.ts$/,
  },
  {
    // What `convoy show` reads when the cache's stamps answer, so it does not load the engine.
    name: 'convoy-read',
    priority: 2,
    test: /[\\/]src[\\/]convoy[\\/](cache|model|plan|read)\.ts$/,
  },
  {
    name: 'core',
    priority: 1,
    test: /[\\/]src[\\/](engine|store)[\\/]|[\\/]node_modules[\\/]smol-toml[\\/]/,
  },
];

const staging = `${root}dist.tmp-${process.pid}`;
const old = `${root}dist.old-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
await build({
  input: { gastown: 'src/cli/main.ts', yaml: 'node_modules/yaml/dist/index.js' },
  cwd: root,
  platform: 'node',
  logLevel: 'warn',
  // A module imported lazily in one place and statically in another is expected: the lazy
  // import keeps a caller cheap where the static importer is not loaded (the doctor, gates,
  // hook and watch chunks reach the engine that way).
  onLog(level, log, handler) {
    if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT') return;
    handler(level, log);
  },
  plugins: [lazyChildProcess, lazyYaml],
  output: {
    dir: staging,
    format: 'cjs',
    entryFileNames: '[name].cjs',
    chunkFileNames: 'chunks/[name]-[hash].cjs',
    // Compress and drop whitespace, keep names: stack traces of an internal error stay readable.
    minify: { compress: true, mangle: false, codegen: { removeWhitespace: true } },
    comments: { legal: false },
    sourcemap: false,
    codeSplitting: { groups },
  },
});
chmodSync(`${staging}/gastown.cjs`, 0o755);
// Swap: move the old dist aside, move the new one in, then delete the old one.
try {
  renameSync(`${root}dist`, old);
} catch {
  // No previous build.
}
renameSync(staging, `${root}dist`);
rmSync(old, { recursive: true, force: true });
