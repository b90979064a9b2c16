// Test-only fault injection, the one place it is read and described. Crash tests prove that a
// process killed at any point leaves a state the next run completes; they need to kill it at a
// chosen point, which no outside signal can hit reliably.
//
// Honoured only when the test switch GASTOWN_TEST_FAULTS=1 is set (the test harness sets it for
// every process it starts; nothing else should). Then GASTOWN_FAULT_KILL_AT names the point where
// the process SIGKILLs itself:
//   <n>             right before applying its n-th effect (engine/apply.ts), counted from 1
//   commit-index    in an engine commit, once the private index holds it, before HEAD moves
//   commit-ref      in an engine commit, once HEAD moved, before the user's index follows
//                   (both git/commit.ts)
// Unset, empty or without the switch: every fault point is a no-op.
// With the switch, GASTOWN_TEST_HOOK_TIMER=off also keeps a hook's time limit from running out
// (triggers/hook.ts), so no test outcome depends on how busy the machine is; the test of the
// limit itself turns it back on.

import { commandEnv, onCommandStart } from '../scope.js';

let spec: string | undefined | null = null;
let effects = 0;
onCommandStart(() => {
  spec = null;
  effects = 0;
});

function killAt(): string | undefined {
  if (spec === null) {
    const env = commandEnv();
    spec = env.GASTOWN_TEST_FAULTS === '1' ? env.GASTOWN_FAULT_KILL_AT || undefined : undefined;
  }
  return spec;
}

/** A named fault point: the process dies here when GASTOWN_FAULT_KILL_AT is `name`. */
export function faultPoint(name: string): void {
  if (killAt() === name) process.kill(process.pid, 'SIGKILL');
}

/** The fault point before each effect: the process dies before its n-th one. */
export function effectFaultPoint(): void {
  const at = killAt();
  if (at === undefined) return;
  effects += 1;
  if (at === String(effects)) process.kill(process.pid, 'SIGKILL');
}

/** True when the test harness switched the hook's time limit off. */
export function hookTimerOff(): boolean {
  const env = commandEnv();
  return env.GASTOWN_TEST_FAULTS === '1' && env.GASTOWN_TEST_HOOK_TIMER === 'off';
}
