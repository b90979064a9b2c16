// `gastown advance`: reconcile every molecule once, print what changed.
import type { AdvanceOptions, AdvanceResult } from '../../engine/advance.js';
import { quietCheck } from '../../engine/quiet.js';
import { ExitCode, UsageError } from '../../errors.js';
import { type AfterReconcile, describeDelivery } from '../../notify/after.js';
import { syncJournal } from '../../store/journal.js';
import { findRoot } from '../../store/layout.js';
import type { CommitPlan } from '../../triggers/service.js';
import type { CliContext } from '../context.js';

interface AdvanceFlags {
  dryRun?: boolean;
  fromCommit?: string;
  molecule?: string[];
  lockWait?: string;
  json?: boolean;
  commit?: boolean;
  ci?: boolean;
}

function milliseconds(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0)
    throw new UsageError(`${what} must be a number of milliseconds, got ${JSON.stringify(value)}`);
  return ms;
}

/**
 * `advance` when nothing changed since the last run (engine/quiet.ts): the same output as the
 * full path would print, or undefined when the quiet check cannot vouch for every molecule.
 */
export async function quietAdvance(ctx: CliContext, flags: { json: boolean }): Promise<number | undefined> {
  // Before quietCheck's first stat (store/journal.ts).
  const journal = await syncJournal(findRoot(ctx.cwd));
  const quiet = quietCheck(ctx.cwd, ctx.now().getTime(), undefined, journal);
  if (!quiet) return undefined;
  report(ctx, flags, {
    transitions: [],
    written: [],
    problems: [],
    unchanged: { stamp: quiet.molecules, key: 0 },
  });
  return ExitCode.ok;
}

export async function advance(ctx: CliContext, flags: AdvanceFlags): Promise<number> {
  const lockWaitMs = milliseconds(flags.lockWait ?? ctx.env.GASTOWN_LOCK_WAIT_MS, '--lock-wait');
  const stampWindowMs = milliseconds(ctx.env.GASTOWN_STAMP_WINDOW_MS, 'GASTOWN_STAMP_WINDOW_MS');
  const [{ parseTrailers }, { reconcileAndCommit }] = await Promise.all([
    import('../../engine/trailers.js'),
    import('../../triggers/service.js'),
  ]);
  let fromCommit = flags.fromCommit;
  if (flags.ci && fromCommit === undefined) {
    // A CI clone ran no hook: apply HEAD's own trailers. Nothing walks history, so a shallow
    // clone (depth 1) gives the same result as a full one.
    const { commitMessage } = await import('../../git/repo.js');
    const message = await commitMessage(ctx.cwd, 'HEAD').catch(() => '');
    if (parseTrailers(message).length > 0) fromCommit = 'HEAD';
  }
  const molecules = flags.molecule && flags.molecule.length > 0 ? flags.molecule : undefined;
  const run: AdvanceOptions = {
    root: ctx.cwd,
    now: ctx.now(),
    dryRun: flags.dryRun ?? false,
    fromCommit,
    molecules,
    lockWaitMs,
    stampWindowMs,
    // A run over named molecules or one commit is a targeted run; every other catches up.
    catchUp: flags.ci === true || (flags.fromCommit === undefined && molecules === undefined),
  };
  const commit = flags.commit && !flags.dryRun ? await commitPlan(ctx.cwd) : undefined;
  const { result, made } = await reconcileAndCommit({
    root: ctx.cwd,
    runs: [run],
    commit,
    lockWaitMs,
    // Under the lock, before the engine commit, so a landing goes into it.
    beforeCommit: run.dryRun ? undefined : (r) => landed(ctx, r),
  });
  if (made) {
    for (const h of made.held ?? []) ctx.io.warn(`${h.molecule} not committed: ${h.reason}`);
    if (made.indexBehind !== undefined)
      ctx.io.warn(
        `engine commit made, but the index could not follow it (${made.indexBehind}); the next \`gastown advance --commit\` updates it`,
      );
    if (!made.commit && made.skipped && made.skipped !== 'nothing-written' && !flags.json)
      ctx.io.warn(`no engine commit: ${made.skipped}`);
  }
  report(ctx, flags, result, made?.commit, run.dryRun ? undefined : await deliver(ctx));
  return exitFor(result);
}

/** `--commit`: the engine commit, always on, with facts earlier runs left uncommitted. */
async function commitPlan(cwd: string): Promise<CommitPlan> {
  const [{ repoPaths }, { moleculesWithUntrackedFacts }, { loadTriggerSettings }] = await Promise.all([
    import('../../git/repo.js'),
    import('../../triggers/commit.js'),
    import('../../triggers/settings.js'),
  ]);
  const paths = await repoPaths(cwd);
  return {
    settings: { ...loadTriggerSettings(paths.root), commit: true },
    paths,
    // Facts an earlier run recorded and nothing committed yet (a held approval since committed,
    // a run that died, a hand-written fact) go in with this commit, even when this run wrote
    // nothing.
    molecules: () => moleculesWithUntrackedFacts(paths.root),
  };
}

/** Announces the mail due (docs/mail.md, "Notifications"), after the engine lock is released. */
async function deliver(ctx: CliContext): Promise<AfterReconcile> {
  const [{ deliverAfterReconcile }, { loadConfig }, { findRoot }] = await Promise.all([
    import('../../notify/after.js'),
    import('../../store/config.js'),
    import('../../store/layout.js'),
  ]);
  const root = findRoot(ctx.cwd);
  return deliverAfterReconcile(root, loadConfig(root));
}

/** Convoys whose last molecule completed land in the same run (src/convoy/store.ts). */
async function landed(ctx: CliContext, result: AdvanceResult): Promise<void> {
  const { landAfterAdvance } = await import('../../convoy/store.js');
  const { findRoot } = await import('../../store/layout.js');
  for (const id of await landAfterAdvance(findRoot(ctx.cwd), result, true)) ctx.io.err(`convoy ${id} landed`);
}

/**
 * Any problem fails the run: a trailer naming no molecule, `--molecule` naming none, a file that
 * is not valid state. Scripts and CI must not read "nothing to do" as success then.
 */
function exitFor(result: AdvanceResult): number {
  return result.problems.length > 0 ? ExitCode.failure : ExitCode.ok;
}

function report(
  ctx: CliContext,
  flags: AdvanceFlags,
  result: AdvanceResult,
  engineCommit?: string,
  delivered?: AfterReconcile,
): void {
  const { skippedTrailers, ...rest } = result;
  if (flags.json) {
    ctx.io.json({
      dry_run: flags.dryRun ?? false,
      ...rest,
      ...(skippedTrailers ? { skipped_trailers: skippedTrailers } : {}),
      ...(engineCommit ? { commit: engineCommit } : {}),
      ...(delivered?.result && !delivered.result.busy ? { notifications: delivered.result } : {}),
      ...(delivered?.error ? { notifications_error: delivered.error } : {}),
    });
  } else {
    const verb = flags.dryRun ? 'would change' : 'changed';
    for (const t of result.transitions) ctx.io.out(`${ctx.io.color.green('→')} ${t.molecule}: ${t.summary}`);
    // Trailers a catch-up did not apply: said once, not a failure (the commit stays as it is).
    for (const s of skippedTrailers ?? [])
      ctx.io.out(`${ctx.io.color.yellow('skipped')} ${s.trailer} in ${s.commit.slice(0, 12)}: ${s.reason}`);
    for (const p of result.problems) ctx.io.warn(p.message, p.file ? { file: p.file } : undefined);
    if (result.transitions.length === 0)
      ctx.io.out(
        result.problems.length > 0 ? `nothing to do; ${result.problems.length} problem(s)` : 'nothing to do',
      );
    else
      ctx.io.out(
        ctx.io.color.dim(
          `${result.transitions.length} transition(s); ${verb} ${result.written.length} file(s)`,
        ),
      );
    if (engineCommit) ctx.io.out(`engine commit ${engineCommit.slice(0, 12)}`);
    const said = delivered ? describeDelivery(delivered) : undefined;
    if (said && (delivered?.error || (delivered?.result?.failed ?? 0) > 0)) ctx.io.warn(said);
    else if (said) ctx.io.out(said);
  }
}
