// Where the gate kinds come from: the composition root (src/cli/main.ts, or a test's setup)
// installs a loader here; the engine calls it before planning a formula that needs a gate,
// loop, on_complete or condition. The engine never names a gate implementation itself, and
// commands that never meet a gate never load one. Kept import-free: main.ts loads it at start.
export type GatePluginLoader = () => Promise<void>;

let loader: GatePluginLoader | undefined;
let loaded: Promise<void> | undefined;

/** Installs the loader of the gate kinds (once per process; a second call replaces it). */
export function installGatePlugins(load: GatePluginLoader): void {
  loader = load;
  loaded = undefined;
}

/** Loads the installed gate kinds, once; with none installed, gated steps run as plain ones. */
export function loadGatePlugins(): Promise<void> {
  loaded ??= loader ? loader() : Promise.resolve();
  return loaded;
}
