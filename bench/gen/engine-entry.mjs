// What the generators take from the engine, bundled in one module (one copy of the engine's
// module state, gate plugins included): the real writers, so generated files are the engine's bytes.
export { advance, createMolecule, recordStep } from '../../src/engine/index.ts';
export { formulaHash } from '../../src/formula/hash.ts';
export { parseWrittenToml } from '../../src/store/toml.ts';
