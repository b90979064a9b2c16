// `gastown step start|done|fail|reopen <molecule> <step>`.
import { recordStep, type StepAction, type Transition } from '../../engine/index.js';
import { ExitCode } from '../../errors.js';
import type { CliContext } from '../context.js';
import { currentSteps, printTransitions } from './molecule.js';

interface StepFlags {
  as?: string;
  reason?: string;
  output?: string;
  continue?: boolean;
  json?: boolean;
}

async function record(
  ctx: CliContext,
  action: StepAction,
  molecule: string,
  step: string,
  flags: StepFlags,
): Promise<number> {
  const as = flags.as ?? (ctx.env.GASTOWN_AGENT || undefined);
  const transitions: Transition[] = await recordStep(ctx.cwd, molecule, step, action, {
    now: ctx.now(),
    cwd: ctx.cwd,
    ...(as !== undefined ? { as } : {}),
    ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
    ...(flags.output !== undefined ? { output: flags.output } : {}),
  });
  let next: { molecule: string; step: string; title: string } | undefined;
  if (flags.continue) {
    const candidates = await currentSteps(ctx.cwd, ctx.now(), molecule, as);
    const pick = candidates.find((c) => c.state === 'ready');
    if (pick) {
      transitions.push(
        ...(await recordStep(ctx.cwd, molecule, pick.step, 'start', {
          now: ctx.now(),
          ...(as !== undefined ? { as } : {}),
        })),
      );
      next = { molecule, step: pick.step, title: pick.title };
    }
  }
  if (flags.json) {
    ctx.io.json(flags.continue ? { transitions, next: next ?? null } : { transitions });
    return ExitCode.ok;
  }
  if (transitions.length === 0)
    ctx.io.out(
      `nothing to record: ${molecule}/${step} already ${action === 'fail' ? 'failed' : action === 'start' ? 'started' : action}`,
    );
  printTransitions(ctx, transitions);
  if (flags.continue)
    ctx.io.out(
      next
        ? `next: ${next.molecule}/${next.step}: ${next.title}`
        : `no step of ${molecule} is ready${as ? ` for ${as}` : ''}`,
    );
  return ExitCode.ok;
}

export const start = (ctx: CliContext, m: string, s: string, f: StepFlags) => record(ctx, 'start', m, s, f);
export const done = (ctx: CliContext, m: string, s: string, f: StepFlags) => record(ctx, 'done', m, s, f);
export const fail = (ctx: CliContext, m: string, s: string, f: StepFlags) => record(ctx, 'fail', m, s, f);
export const reopen = (ctx: CliContext, m: string, s: string, f: StepFlags) => record(ctx, 'reopen', m, s, f);
