// Commits what escalation and patrol wrote, and only that, in a commit of its own (the private
// index of git/commit.ts), so `git log` shows when each escalation level, ack, landing and
// release happened: the staleness of an escalation is measured from those commits.
import { localIdentity } from '../checkpoint/authors.js';
import { commitFiles, type Identity } from '../git/commit.js';
import { operationInProgress, repoPaths } from '../git/repo.js';
import type { GastownConfig } from '../store/types.js';

export interface OwnCommit {
  commit?: string;
  skipped?: string;
}

/**
 * Commits `paths` with `message`. `as: 'engine'` commits as the engine's identity from config
 * (patrol); `as: 'local'` as this clone's git identity (a person raising or acknowledging),
 * falling back to the engine's. Nothing is committed while git is mid-operation or outside git.
 */
export async function commitOwn(
  root: string,
  config: GastownConfig,
  paths: readonly string[],
  message: string,
  as: 'engine' | 'local',
): Promise<OwnCommit> {
  if (paths.length === 0) return { skipped: 'nothing written' };
  let where: Awaited<ReturnType<typeof repoPaths>>;
  try {
    where = await repoPaths(root);
  } catch {
    return { skipped: 'not a git repository' };
  }
  const op = operationInProgress(where.gitDir);
  if (op) return { skipped: `a ${op} is in progress` };
  let identity: Identity = { name: config.engine.author_name, email: config.engine.author_email };
  if (as === 'local') {
    const me = await localIdentity(where.root);
    if (me.email) identity = { name: me.name ?? me.email, email: me.email };
  }
  const made = await commitFiles({
    root: where.root,
    gitDir: where.gitDir,
    paths: [...new Set(paths)],
    message,
    identity,
  });
  return made.commit ? { commit: made.commit } : { skipped: 'unchanged' };
}
