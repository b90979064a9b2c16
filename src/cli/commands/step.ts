// `gastown step start|done|fail|reopen <molecule> <step>`.
import { recordStep, type StepAction, stepActor, type Transition } from '../../engine/index.js';
import { ExitCode, UsageError } from '../../errors.js';
import { actorOf } from '../actor.js';
import type { CliContext } from '../context.js';
import { currentSteps, printTransitions } from './molecule.js';

interface StepFlags {
  as?: string;
  reassign?: boolean;
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
  const as = actorOf(ctx, flags.as);
  // The next step is claimed for whoever did this one; nobody is named who did not act. Decided
  // before anything is written.
  const claimer = flags.continue ? (as ?? stepActor(ctx.cwd, molecule, step)) : undefined;
  if (flags.continue && claimer === undefined)
    throw new UsageError(
      `--continue claims the next step for someone, and nobody is recorded as doing ${molecule}/${step}: say who with --as AGENT or GASTOWN_AGENT`,
    );
  const transitions: Transition[] = await recordStep(ctx.cwd, molecule, step, action, {
    now: ctx.now(),
    cwd: ctx.cwd,
    ...(as !== undefined ? { as } : {}),
    ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
    ...(flags.output !== undefined ? { output: flags.output } : {}),
    checkAssignee: true,
    ...(flags.reassign ? { reassign: true } : {}),
  });
  let next: { molecule: string; step: string; title: string } | undefined;
  if (flags.continue) {
    const candidates = await currentSteps(ctx.cwd, ctx.now(), molecule, claimer);
    const pick = candidates.find((c) => c.state === 'ready');
    if (pick) {
      transitions.push(
        ...(await recordStep(ctx.cwd, molecule, pick.step, 'start', {
          now: ctx.now(),
          checkAssignee: true,
          ...(claimer !== undefined ? { as: claimer } : {}),
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
        : `no step of ${molecule} is ready${claimer ? ` for ${claimer}` : ''}`,
    );
  return ExitCode.ok;
}

export const start = (ctx: CliContext, m: string, s: string, f: StepFlags) => record(ctx, 'start', m, s, f);
export const done = (ctx: CliContext, m: string, s: string, f: StepFlags) => record(ctx, 'done', m, s, f);
export const fail = (ctx: CliContext, m: string, s: string, f: StepFlags) => record(ctx, 'fail', m, s, f);
export const reopen = (ctx: CliContext, m: string, s: string, f: StepFlags) => record(ctx, 'reopen', m, s, f);
