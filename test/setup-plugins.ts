// Tests that drive the engine in-process compose it as src/cli/main.ts does: the built-in gate
// kinds, loaded on first need. Test files share a worker process (vitest.config.ts, isolate:
// false), and cache keys are salted with the planner registry: a planner one file registers and
// leaves behind makes another file's cached summaries miss. Each file must remove its own.
import { afterAll } from 'vitest';
import { registrySignature } from '../src/engine/gates.js';
import { installGatePlugins } from '../src/engine/plugins.js';

installGatePlugins(async () => (await import('../src/gates/index.js')).registerBuiltInGates());

const shared = globalThis as { gastownBuiltInRegistry?: string };
// Taken when the worker's first file starts, before any test registered anything.
shared.gastownBuiltInRegistry ??= registrySignature();
afterAll(() => {
  const now = registrySignature();
  if (now !== shared.gastownBuiltInRegistry)
    throw new Error(
      `this file left gate planners registered: ${now} (remove them with what register returns)`,
    );
});
