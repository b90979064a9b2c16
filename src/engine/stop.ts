// Stopping a reconcile part-way, for `watch` on SIGINT/SIGTERM. A reconcile whose awaits all
// settle at once (files read synchronously, git facts remembered) never lets the event loop
// turn, so a signal handler would not run until it ended; with a stop signal given, reconcile
// yields now and then and gives up at the next safe point. Every effect is applied whole, so
// stopping between two leaves state the next run completes.
import { GastownError } from '../errors.js';
import { onCommandStart } from '../scope.js';

export const STOPPED = 'engine.stopped';

/** Yield to the event loop at most this often (ms): signals are noticed, the run stays fast. */
const YIELD_EVERY_MS = 20;
let lastYield = 0;
onCommandStart(() => {
  lastYield = 0;
});

/** Throws when `signal` asked to stop. */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new GastownError(STOPPED, 'stopped before the reconcile finished');
}

/** A safe point: lets pending signals and timers run now and then, and stops when asked. */
export async function safePoint(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  throwIfStopped(signal);
  const now = performance.now();
  if (now - lastYield < YIELD_EVERY_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastYield = performance.now();
  throwIfStopped(signal);
}

export const isStopped = (err: unknown): boolean => err instanceof GastownError && err.code === STOPPED;
