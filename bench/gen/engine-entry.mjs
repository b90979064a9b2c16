// What the generators take from the engine, bundled in one module (one copy of the engine's
// module state): the real writers, so generated files are the engine's bytes. Composed as
// src/cli/main.ts composes it, with the built-in gate kinds.
import { installGatePlugins } from '../../src/engine/plugins.ts';
import { registerBuiltInGates } from '../../src/gates/index.ts';

installGatePlugins(async () => registerBuiltInGates());

export { advance, createMolecule, recordStep } from '../../src/engine/index.ts';
export { formulaHash } from '../../src/formula/hash.ts';
export { parseWrittenToml } from '../../src/store/toml.ts';
