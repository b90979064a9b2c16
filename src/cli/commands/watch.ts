// `gastown watch`: reconcile whenever something under .beads/ changes, print each transition
// as it happens, stop promptly on Ctrl-C (SIGINT) or SIGTERM, whatever it is doing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AdvanceResult } from '../../engine/advance.js';
import { GastownError, UsageError } from '../../errors.js';
import { repoPaths } from '../../git/repo.js';
import { deliverAfterReconcile, describeDelivery } from '../../notify/after.js';
import { loadConfig } from '../../store/config.js';
import { type TransitionLike, transitionTrailer } from '../../triggers/commit.js';
import { startJournal } from '../../triggers/journal.js';
import { loadTriggerSettings } from '../../triggers/settings.js';
import { startWatcher, type Watcher } from '../../triggers/watch.js';
import type { CliContext } from '../context.js';

interface WatchOpts {
  commit?: boolean;
  poll?: boolean;
  debounce?: string;
  json?: boolean;
  /** false with --no-journal. */
  journal?: boolean;
}

export async function watch(ctx: CliContext, opts: WatchOpts): Promise<number> {
  const debounceMs = Number(opts.debounce ?? '150');
  if (!Number.isInteger(debounceMs) || debounceMs < 0 || debounceMs > 60_000) {
    throw new UsageError(
      `--debounce must be a whole number of milliseconds (0-60000), got ${JSON.stringify(opts.debounce)}`,
    );
  }
  const { root } = await repoPaths(ctx.cwd);
  if (!existsSync(join(root, '.beads'))) {
    throw new GastownError('store.no-beads', `no .beads/ in ${root} (run \`gastown init\`)`);
  }
  const { stop, stopped } = stopOnSignal();
  const [{ isStopped }, { reconcileAndCommit }] = await Promise.all([
    import('../../engine/stop.js'),
    import('../../triggers/service.js'),
  ]);
  const out = watchOutput(ctx, opts, root);
  // Before the first reconcile, so the summaries it writes carry the journal's mark.
  const journal =
    opts.journal === false || opts.poll
      ? undefined
      : await startJournal(root, (reason) =>
          ctx.io.warn(`change journal stopped (readers stat every molecule): ${reason}`),
        );
  let watcher: Watcher | undefined;
  let signal: string;
  // A watch that cannot start or go on leaves nothing running: no journal, no discovery file.
  try {
    watcher = await startWatcher({
      root,
      debounceMs,
      // The journal's folder watches feed it, unless polling was asked for (chokidar's).
      ...(opts.poll ? { usePolling: true } : journal && !pollingAsked(ctx.env) ? { feed: journal.feed } : {}),
      reconcile: async () => {
        let streamed = false;
        const options = {
          root,
          now: ctx.now(),
          lockWaitMs: 1000,
          signal: stop.signal,
          onTransition: (t: TransitionLike) => {
            streamed = true;
            out.emit(t);
          },
        };
        // Reconcile and commit under one lock, released once HEAD has moved.
        const { result, made } = await reconcileAndCommit({
          root,
          runs: [options],
          lockWaitMs: options.lockWaitMs,
          commit: opts.commit ? { settings: loadTriggerSettings(root) } : undefined,
        });
        await out.report(result, streamed);
        if (made) out.commit(made);
        return result;
      },
      retryable: isBusy,
      // Busy means a hook or another command is reconciling right now: retried quietly.
      onError: (err) => {
        if (!isBusy(err) && !isStopped(err)) ctx.io.warn(err instanceof Error ? err.message : String(err));
      },
    });

    const first = await Promise.race([watcher.ready.then(() => undefined), stopped, watcher.failed]);
    if (first === undefined) {
      if (opts.json) ctx.io.out(JSON.stringify({ event: 'ready', root }));
      else ctx.io.out(`watching ${join(root, '.beads')} (Ctrl-C to stop)`);
    }
    signal = await Promise.race([stopped, watcher.failed]);
  } finally {
    await watcher?.close();
    await journal?.close();
  }
  if (opts.json) ctx.io.out(JSON.stringify({ event: 'stopped', signal }));
  else ctx.io.out(`stopped (${signal})`);
  return 0;
}

/**
 * Handlers first: a signal during start-up or a long first reconcile stops it too. The abort
 * stops the reconcile in flight at its next safe point and cancels a gate command it runs.
 * They stay registered while it stops: execa's exit handler re-raises a signal nobody else
 * listens to, which would kill this process before it finished stopping. A second signal does
 * exactly that on purpose.
 */
function stopOnSignal(): { stop: AbortController; stopped: Promise<string> } {
  const stop = new AbortController();
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stop.signal.aborted) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.kill(process.pid, signal);
        return;
      }
      stop.abort();
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return { stop, stopped };
}

type Made = NonNullable<
  Awaited<ReturnType<typeof import('../../triggers/service.js').reconcileAndCommit>>['made']
>;

/** What watch prints after each reconcile: transitions, problems, mail delivered, the commit. */
function watchOutput(ctx: CliContext, opts: WatchOpts, root: string) {
  const emit = (t: TransitionLike) => {
    if (opts.json) ctx.io.out(JSON.stringify({ event: 'transition', ...t }));
    else ctx.io.out(`${transitionTrailer(t)}${t.summary ? `  ${t.summary}` : ''}`);
  };
  const report = async (result: AdvanceResult, streamed: boolean) => {
    if (!streamed) result.transitions.forEach(emit);
    for (const p of result.problems) ctx.io.warn(p.message, p.file ? { file: p.file } : {});
    // The mail this reconcile wrote is announced now, outside the engine lock.
    const delivered = await deliverAfterReconcile(root, loadConfig(root));
    const said = describeDelivery(delivered);
    if (said && opts.json) ctx.io.out(JSON.stringify({ event: 'notifications', ...delivered }));
    else if (said) ctx.io.out(said);
  };
  const commit = (made: Made) => {
    for (const h of made.held ?? []) ctx.io.warn(`${h.molecule} not committed: ${h.reason}`);
    if (made.indexBehind !== undefined)
      ctx.io.warn(`engine commit made, but the index could not follow it (${made.indexBehind})`);
    if (made.commit) {
      if (opts.json) ctx.io.out(JSON.stringify({ event: 'commit', commit: made.commit, files: made.paths }));
      else ctx.io.out(`engine commit ${made.commit.slice(0, 7)} (${made.paths.length} file(s))`);
    }
  };
  return { emit, report, commit };
}

/** CHOKIDAR_USEPOLLING as chokidar reads it: polling unless it says false or 0. */
function pollingAsked(env: NodeJS.ProcessEnv): boolean {
  const v = env.CHOKIDAR_USEPOLLING?.toLowerCase();
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

function isBusy(err: unknown): boolean {
  return err instanceof GastownError && err.code === 'store.locked';
}
