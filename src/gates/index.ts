// The gate kinds shipped with gastown, registered with the engine by the composition root
// (src/cli/main.ts installs `registerBuiltInGates` as the engine's plugin loader).
export { registerBuiltInGates } from './engine.js';
