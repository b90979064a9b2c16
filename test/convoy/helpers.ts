// A repository with a one-day formula whose sign-off approves itself an hour after it is asked
// (on_timeout = "approve"), so tests complete molecules with the injected clock alone.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inProcess } from '../engine/cli.js';
import { commitAll, makeRepo } from '../helpers/repo.js';

const { gtOk } = inProcess;

export const DAY_FORMULA = `formula = "day"
version = 1

[[steps]]
id = "work"
title = "Do the day's work"

[[steps]]
id = "signoff"
title = "Sign off the day"
needs = ["work"]

[steps.gate]
type = "human"
approvers = ["@jgil"]
timeout = "1h"
on_timeout = "approve"
`;

export const CONFIG = `[users.jgil]
name = "J Gil"
emails = ["jgil@example.com"]

[agents.polecat-1]
emails = ["polecat-1@agents.example.com"]
`;

/** Commits in tests are dated 09:00 (helpers/repo.ts); this is well past the sign-off's hour. */
export const LATER = {
  GASTOWN_TEST_CLOCK: '1',
  GASTOWN_NOW: '2026-01-06T12:00:00Z',
  // The engine commit recording the approval by timeout is dated after the deadline too.
  GIT_AUTHOR_DATE: '2026-01-06T12:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-06T12:00:00Z',
};
export const AT_COMMIT_TIME = { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: '2026-01-06T09:00:00Z' };

export async function convoyRepo(extraConfig = '') {
  const repo = await makeRepo();
  mkdirSync(join(repo.path, '.beads/formulas'), { recursive: true });
  writeFileSync(join(repo.path, '.beads/formulas/day.formula.toml'), DAY_FORMULA);
  writeFileSync(join(repo.path, '.beads/config.toml'), CONFIG + extraConfig);
  writeFileSync(join(repo.path, '.gitignore'), '.beads/.cache/\n');
  await commitAll(repo.path, 'formula and config');
  return repo;
}

// Two steps and no gate: a gated member's view is judged with git's facts and never cached.
const PLAIN_FORMULA = `formula = "plain"
version = 1

[[steps]]
id = "a"
title = "First"

[[steps]]
id = "b"
title = "Second"
needs = ["a"]
`;

/**
 * convoyRepo with convoy `c` of d1 and d2 (after d1), and d3 outside it, all on the two-step
 * `plain` formula, committed.
 */
export async function plainConvoyRepo(env: Record<string, string>) {
  const repo = await convoyRepo();
  const dir = repo.path;
  writeFileSync(join(dir, '.beads/formulas/plain.formula.toml'), PLAIN_FORMULA);
  await gtOk(dir, ['convoy', 'create', 'c', '--name', 'Two steps', '--owner', '@jgil']);
  await gtOk(dir, ['molecule', 'create', '--formula', 'plain', '--name', 'd1', '--convoy', 'c'], env);
  await gtOk(
    dir,
    ['molecule', 'create', '--formula', 'plain', '--name', 'd2', '--convoy', 'c', '--after', 'd1'],
    env,
  );
  await gtOk(dir, ['molecule', 'create', '--formula', 'plain', '--name', 'd3'], env);
  await commitAll(dir, 'three molecules');
  return repo;
}

/** Finishes a day: its work done, the sign-off request committed, then timed out into approval. */
export async function completeDay(cwd: string, id: string): Promise<void> {
  await gtOk(cwd, ['step', 'done', id, 'work'], AT_COMMIT_TIME);
  await commitAll(cwd, `${id}: work done`);
  await gtOk(cwd, ['advance', '--commit'], LATER);
}

/** Every mail file under `.beads/mail/` (message copies, not read marks). */
export function mailFiles(cwd: string): string[] {
  const base = join(cwd, '.beads/mail');
  const out: string[] = [];
  let folders: string[] = [];
  try {
    folders = readdirSync(base);
  } catch {
    return out;
  }
  for (const f of folders)
    for (const n of readdirSync(join(base, f))) if (n.endsWith('.md')) out.push(`${f}/${n}`);
  return out.sort();
}
