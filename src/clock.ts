// The clock every command runs by. `GASTOWN_NOW` may fix it only under the test harness's switch
// (`GASTOWN_TEST_CLOCK=1`): otherwise an agent could set it and make a checkpoint time out. A
// fixed clock is an InjectedDate, so a fact it decided can say so (docs/reliability.md).

/** The environment variable that lets `GASTOWN_NOW` set the clock: for tests only. */
export const TEST_CLOCK_SWITCH = 'GASTOWN_TEST_CLOCK';

/** A time that came from `GASTOWN_NOW`, not from the system clock. */
export class InjectedDate extends Date {}

/** True when `GASTOWN_NOW` is honoured: the test harness's switch is on. */
export function testClockOn(env: NodeJS.ProcessEnv): boolean {
  return env[TEST_CLOCK_SWITCH] === '1';
}

/** Why `GASTOWN_NOW` is not honoured here, when it is set; undefined otherwise. */
export function ignoredClock(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.GASTOWN_NOW || testClockOn(env)) return undefined;
  return `GASTOWN_NOW is ignored: the clock can be set only by the test harness (${TEST_CLOCK_SWITCH}=1); using the system clock`;
}

/** Whether `now` came from `GASTOWN_NOW` (a fact decided by it is marked). */
export function isInjected(now: Date): boolean {
  return now instanceof InjectedDate;
}
