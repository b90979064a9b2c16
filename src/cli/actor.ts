// Who a command acts as: `--as`, else `GASTOWN_AGENT`. When the repository's config lists its
// agents or people, a name it does not list is refused before anything is written.
import { GastownError } from '../errors.js';
import { loadConfig, unknownActorProblem } from '../store/config.js';
import { findRoot } from '../store/layout.js';
import type { CliContext } from './context.js';

export function actorOf(ctx: CliContext, as: string | undefined): string | undefined {
  const name = as ?? (ctx.env.GASTOWN_AGENT || undefined);
  if (name === undefined) return undefined;
  const problem = unknownActorProblem(loadConfig(findRoot(ctx.cwd)), name);
  if (problem)
    throw new GastownError(
      'actor.unknown',
      `${as !== undefined ? '--as' : 'GASTOWN_AGENT'}: ${problem}; add it there or act as one of them`,
    );
  return name;
}
