// Delivery after a reconcile (`advance`, `watch`): one pass over what is due, outside the engine
// lock and never inside a git hook (an endpoint may take seconds). A failing endpoint is reported,
// never a reason for the command to fail: the outbox keeps the copy for the next run.
import type { GastownConfig } from '../store/types.js';
import { notificationEndpoints } from './config.js';
import type { DeliverResult } from './deliver.js';

export interface AfterReconcile {
  result?: DeliverResult;
  /** Why delivery could not run at all (an unreadable outbox, say). */
  error?: string;
}

/** Nothing (no endpoint configured) costs nothing: the delivery module is not even loaded. */
export async function deliverAfterReconcile(root: string, config: GastownConfig): Promise<AfterReconcile> {
  if (notificationEndpoints(config).length === 0) return {};
  try {
    const { deliverPending } = await import('./deliver.js');
    return { result: await deliverPending(root, config) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** `notifications: 1 delivered, 2 to retry (gastown notifications status)`, or nothing to say. */
export function describeDelivery(a: AfterReconcile): string | undefined {
  if (a.error) return `notifications not delivered: ${a.error}`;
  const r = a.result;
  if (!r || r.busy || r.delivered + r.failed + r.retrying === 0) return undefined;
  const parts = [
    ...(r.delivered > 0 ? [`${r.delivered} delivered`] : []),
    ...(r.retrying > 0 ? [`${r.retrying} to retry`] : []),
    ...(r.failed > 0 ? [`${r.failed} failed`] : []),
  ];
  return `notifications: ${parts.join(', ')}${r.failed + r.retrying > 0 ? ' (gastown notifications status)' : ''}`;
}
