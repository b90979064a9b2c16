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

/** `2h`, `1h30m`, `45s`: the shortest exact spelling of a duration, for messages. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 && parts.length === 0) parts.push(`${rest}ms`);
  return parts.join('');
}

/** What a status line says of a deadline not yet reached: `due <ISO time> (in 3h59m12s)`. */
export function dueSummary(deadline: Date, now: Date): string {
  return `due ${deadline.toISOString()} (in ${formatDuration(deadline.getTime() - now.getTime())})`;
}

const DUE = /\bdue (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) \(in [0-9a-z]+\)/g;

/**
 * `text` with each dueSummary in it said again as of `now`: a status judged earlier and kept
 * while nothing it depends on changed (engine/molecule-status.ts) shows the time left now.
 */
export function dueAgain(text: string, now: Date): string {
  return text.replace(DUE, (_, iso: string) => dueSummary(new Date(iso), now));
}
