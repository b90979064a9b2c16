// Tests that drive the engine in-process compose it as src/cli/main.ts does: the built-in gate
// kinds, loaded on first need.
import { installGatePlugins } from '../src/engine/plugins.js';

installGatePlugins(async () => (await import('../src/gates/index.js')).registerBuiltInGates());
