// The applier: carries out effects, idempotently. A file that is missing is written; one that
// exists with the same bytes is left alone; one with other bytes is a conflict and is never
// overwritten. Run effects call their gate runner (the caller holds the lock).
import { join } from 'node:path';
import { GastownError } from '../errors.js';
import { writeMailFiles } from '../mail/send.js';
import { createFileExclusive, readIfExists } from '../store/atomic.js';
import { assertPathSegment } from '../store/ids.js';
import { moleculesDir } from '../store/layout.js';
import { checkBeadsPath } from '../store/links.js';
import type { GastownConfig } from '../store/types.js';
import { effectFaultPoint } from '../testing/fault.js';
import { gateRunnerFor } from './gates.js';
import { eventPathOf, moleculeRelDir, renderEvent } from './io.js';
import { throwIfStopped } from './stop.js';
import type { Effect, MailEffect, MoleculeState, RunEffect, Transition } from './types.js';

export interface Problem {
  molecule?: string;
  file?: string;
  message: string;
}

export interface ApplyContext {
  root: string;
  now: Date;
  config: GastownConfig;
  dryRun?: boolean;
  /** In-memory files of the molecules being applied to; updated with what is written. */
  files?: Map<string, Map<string, string>>;
  /**
   * With `dryRun`: `files` is the whole molecule (a state other than the disk's, such as the
   * molecule as of an older commit), so the disk is never consulted.
   */
  detached?: boolean;
  state?: MoleculeState;
  onTransition?: (t: Transition) => void;
  /** Stop before the next effect once aborted; a gate run in flight is cancelled (stop.ts). */
  signal?: AbortSignal;
}

export interface ApplyOutcome {
  transitions: Transition[];
  /** Repo-relative paths written (or, in a dry run, that would be). */
  written: string[];
  problems: Problem[];
  /** Effects that changed something (a write, a run). */
  changed: number;
}

function checkRelPath(path: string): void {
  const parts = path.split('/');
  if (path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\0'))) {
    throw new GastownError(
      'engine.path',
      `refusing to write outside the molecule folder: ${JSON.stringify(path)}`,
    );
  }
  for (const p of parts) assertPathSegment(p, 'path segment');
}

export async function applyEffects(effects: readonly Effect[], ctx: ApplyContext): Promise<ApplyOutcome> {
  const out: ApplyOutcome = { transitions: [], written: [], problems: [], changed: 0 };
  for (const effect of effects) {
    // Any prefix of the effects is a state the next run completes (tests kill the process here).
    throwIfStopped(ctx.signal);
    effectFaultPoint();
    if (effect.type === 'run') await applyRun(effect, ctx, out);
    else if (effect.type === 'mail') applyMail(effect, ctx, out);
    else applyFile(effect, ctx, out);
  }
  return out;
}

type FileEffect = Exclude<Effect, RunEffect | MailEffect>;

/** A gate run: its runner's report and the effects it returns applied in turn (runs excepted). */
async function applyRun(effect: RunEffect, ctx: ApplyContext, out: ApplyOutcome): Promise<void> {
  const runner = gateRunnerFor(effect.gate);
  if (!runner) {
    out.problems.push({
      molecule: effect.molecule,
      message: `no runner for gate ${effect.gate} (step ${effect.step})`,
    });
    return;
  }
  if (ctx.dryRun || !ctx.state) {
    out.transitions.push({
      molecule: effect.molecule,
      step: effect.step,
      attempt: effect.attempt,
      kind: 'run',
      summary: effect.summary,
    });
    return;
  }
  const more = await runner(effect, {
    root: ctx.root,
    now: ctx.now,
    config: ctx.config,
    state: ctx.state,
    signal: ctx.signal,
    report: (r) => {
      out.written.push(...r.written);
      for (const t of r.transitions) {
        out.transitions.push(t);
        ctx.onTransition?.(t);
      }
    },
  });
  // A run cut short by the stop signal records nothing: it runs again next time.
  throwIfStopped(ctx.signal);
  out.changed += 1;
  const nested = await applyEffects(
    more.filter((e) => e.type !== 'run'),
    ctx,
  );
  out.transitions.push(...nested.transitions);
  out.written.push(...nested.written);
  out.problems.push(...nested.problems);
}

function applyMail(effect: MailEffect, ctx: ApplyContext, out: ApplyOutcome): void {
  // Mail is not simulated: a dry run plans no mail (reconcile.ts), so this is a real run.
  if (ctx.dryRun) return;
  let w: ReturnType<typeof writeMailFiles>[number] | undefined;
  try {
    [w] = writeMailFiles(ctx.root, ctx.config, [effect]);
  } catch (err) {
    // A mail folder that is a link: reported on the molecule; its facts are still recorded.
    if (!(err instanceof GastownError)) throw err;
    out.problems.push({
      molecule: effect.molecule,
      file: err.location.file ?? effect.path,
      message: err.message,
    });
    return;
  }
  if (w?.outcome === 'conflict')
    out.problems.push({
      molecule: effect.molecule,
      file: effect.path,
      message: 'exists with different content; not overwritten (resolve it by hand)',
    });
  else if (w?.outcome === 'written') {
    out.changed += 1;
    out.written.push(effect.path);
  }
}

/** A transition's event file or a plain write: created once, never overwritten. */
function applyFile(effect: FileEffect, ctx: ApplyContext, out: ApplyOutcome): void {
  const rel = effect.type === 'transition' ? eventPathOf(effect.fact) : effect.path;
  checkRelPath(rel);
  const content = effect.type === 'transition' ? renderEvent(effect.fact) : effect.content;
  const repoRel = `${moleculeRelDir(effect.molecule)}/${rel}`;
  const memory = ctx.files?.get(effect.molecule);
  const outcome = ctx.dryRun
    ? dryOutcome(ctx, effect.molecule, rel, content)
    : writeOutcome(ctx, effect.molecule, rel, content, out);
  if (outcome === undefined) return;
  if (outcome === 'conflict') {
    out.problems.push({
      molecule: effect.molecule,
      file: repoRel,
      message: 'exists with different content; not overwritten (resolve it by hand)',
    });
    return;
  }
  if (outcome === 'same') return;
  memory?.set(rel, content);
  out.changed += 1;
  out.written.push(repoRel);
  const t: Transition | undefined =
    effect.type === 'transition'
      ? {
          molecule: effect.molecule,
          ...(effect.fact.step !== undefined
            ? { step: effect.fact.step, attempt: effect.fact.attempt ?? 1 }
            : {}),
          kind: effect.fact.kind,
          summary: effect.summary,
        }
      : effect.transition
        ? { molecule: effect.molecule, ...effect.transition }
        : undefined;
  if (t) {
    out.transitions.push(t);
    ctx.onTransition?.(t);
  }
}

type WriteOutcome = 'written' | 'same' | 'conflict';

/** What writing would do, judged from the in-memory files (or the disk unless detached). */
function dryOutcome(ctx: ApplyContext, molecule: string, rel: string, content: string): WriteOutcome {
  const existing =
    ctx.files?.get(molecule)?.get(rel) ??
    (ctx.detached ? undefined : readIfExists(join(moleculesDir(ctx.root), molecule, rel)));
  return existing === undefined ? 'written' : existing === content ? 'same' : 'conflict';
}

/** The file created unless it exists; undefined, with a problem, when a folder on the way is a link. */
function writeOutcome(
  ctx: ApplyContext,
  molecule: string,
  rel: string,
  content: string,
  out: ApplyOutcome,
): WriteOutcome | undefined {
  const abs = join(moleculesDir(ctx.root), molecule, rel);
  try {
    checkBeadsPath(ctx.root, abs);
  } catch (err) {
    // A folder on the way is a link: this molecule gets a problem, the others go on.
    if (!(err instanceof GastownError)) throw err;
    out.problems.push({
      molecule,
      file: err.location.file ?? `${moleculeRelDir(molecule)}/${rel}`,
      message: err.message,
    });
    return undefined;
  }
  return createFileExclusive(abs, content);
}
