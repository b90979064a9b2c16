// A repository both the summary readers' tests use: polecat-1 and a reviewer configured, two
// polecat-work molecules poured and committed, and `pa` finished up to its review checkpoint
// (written, not yet committed: each test commits it with the dates it needs).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitIn, person } from '../helpers/repo.js';
import { inProcess } from './cli.js';

const { gtOk } = inProcess;

export const POLECAT = person('Polecat One', 'polecat-1@agents.example.com');
export const CONFIG = `[users.jgil]
emails = ["jgil@example.com"]

[agents.polecat-1]
emails = ["polecat-1@agents.example.com"]
`;

export async function paAtReview(dir: string): Promise<void> {
  await gtOk(dir, ['init']);
  writeFileSync(join(dir, '.beads/config.toml'), CONFIG);
  for (const id of ['pa', 'pb'])
    await gtOk(dir, [
      'molecule',
      'create',
      '--formula',
      'polecat-work',
      '--name',
      id,
      '--var',
      `issue=${id}-issue`,
      '--var',
      'polecat=polecat-1',
    ]);
  await gitIn(dir, 'add', '-A');
  await gitIn(dir, 'commit', '-q', '-m', 'pour');
  await gtOk(dir, ['step', 'done', 'pa', 'implement'], POLECAT);
  await gtOk(dir, ['step', 'done', 'pa', 'done'], POLECAT);
  await gtOk(dir, ['advance']);
}
