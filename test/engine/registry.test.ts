// Cache keys are salted with the planner registry's signature. The built-in plugins count as
// present whether or not this process has loaded them yet: reconcile loads them before planning
// any formula that needs them, so loading them early (as applying a commit's trailers does) must
// not make every cached key miss. A planner someone else registers must.
import { describe, expect, it } from 'vitest';
import { loadGatePlugins, registerGatePlanner, registrySignature } from '../../src/engine/gates.js';

describe('registrySignature', () => {
  it('is the same before and after the built-in plugins load, and changes with a new planner', async () => {
    const before = registrySignature();
    await loadGatePlugins();
    expect(registrySignature()).toBe(before);
    const unregister = registerGatePlanner('test-extra', () => undefined);
    expect(registrySignature()).not.toBe(before);
    expect(registrySignature()).toContain('test-extra');
    unregister();
    expect(registrySignature()).toBe(before);
  });
});
