// The repository the checkpoint tests start from: molecule m1 of a `guarded` formula, its work
// done by polecat-1 and committed, its review checkpoint pending. Made once per run under
// `key`, copied for each test (test/helpers/template.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commitAll, gastownOk } from '../helpers/repo.js';
import { copyOfRepo } from '../helpers/template.js';

export function guardedWorkDone(key: string, files: { config: string; formula: string }) {
  return copyOfRepo(key, async (dir) => {
    mkdirSync(join(dir, '.beads/formulas'), { recursive: true });
    writeFileSync(join(dir, '.beads/config.toml'), files.config);
    writeFileSync(join(dir, '.beads/.gitignore'), '.cache/\n');
    writeFileSync(join(dir, '.beads/formulas/guarded.formula.toml'), files.formula);
    await commitAll(dir, 'project');
    await gastownOk(dir, [
      'molecule',
      'create',
      '--formula',
      'guarded',
      '--name',
      'm1',
      '--assignee',
      'polecat-1',
    ]);
    await gastownOk(dir, ['step', 'done', 'm1', 'work', '--as', 'polecat-1']);
    await commitAll(dir, 'work done');
  });
}
