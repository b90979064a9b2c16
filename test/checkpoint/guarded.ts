// The repository the checkpoint tests start from: molecules of a `guarded` formula (work, a
// review only @jgil may approve, ship), their work done by polecat-1 and committed, each review
// checkpoint pending. Made once per run under `key`, copied for each test (test/helpers/template.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gastownInProcess } from '../helpers/inproc.js';
import { commitAll } from '../helpers/repo.js';
import { copyOfRepo } from '../helpers/template.js';

/** Runs the CLI in this process: the fixture only sets up state. */
async function gastownOk(cwd: string, args: string[]): Promise<void> {
  const r = await gastownInProcess(args, cwd);
  if (r.exitCode !== 0)
    throw new Error(`gastown ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}${r.stdout}`);
}

export const GUARDED_FORMULA = `formula = "guarded"
type = "workflow"

[[steps]]
id = "work"
title = "Do the work"

[[steps]]
id = "review"
title = "Review the work"
needs = ["work"]

[steps.gate]
type = "human"
approvers = ["@jgil"]
prevent_self_approval = true

[[steps]]
id = "ship"
title = "Ship it"
needs = ["review"]
`;

/** @jgil a person, polecat-1 an agent committing as agent@example.com. */
export const GUARDED_CONFIG =
  '[users.jgil]\nemails = ["jgil@example.com"]\n\n[agents.polecat-1]\nemails = ["agent@example.com"]\n';

type GuardedFiles = { config: string; formula: string };
const GUARDED_FILES: GuardedFiles = { config: GUARDED_CONFIG, formula: GUARDED_FORMULA };

/** Writes the project into `dir` (a fresh repository) and takes `molecules` past their work. */
export async function writeGuardedWorkDone(
  dir: string,
  files: GuardedFiles = GUARDED_FILES,
  molecules: readonly string[] = ['m1'],
): Promise<void> {
  mkdirSync(join(dir, '.beads/formulas'), { recursive: true });
  writeFileSync(join(dir, '.beads/config.toml'), files.config);
  writeFileSync(join(dir, '.beads/.gitignore'), '.cache/\n');
  writeFileSync(join(dir, '.beads/formulas/guarded.formula.toml'), files.formula);
  await commitAll(dir, 'project');
  for (const id of molecules) {
    await gastownOk(dir, [
      'molecule',
      'create',
      '--formula',
      'guarded',
      '--name',
      id,
      '--assignee',
      'polecat-1',
    ]);
    await gastownOk(dir, ['step', 'done', id, 'work', '--as', 'polecat-1']);
  }
  await commitAll(dir, 'work done');
}

/** writeGuardedWorkDone, made once per run under `key` and copied for each caller. */
export function guardedWorkDone(key: string, files?: GuardedFiles, molecules?: readonly string[]) {
  return copyOfRepo(key, (dir) => writeGuardedWorkDone(dir, files, molecules));
}
