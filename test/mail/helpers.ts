// A repository with `.beads/` and a config naming the people, agents, teams and queues the mail
// tests write to.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/store/config.js';
import { gastownInProcess } from '../helpers/inproc.js';
import { gastown, makeRepo } from '../helpers/repo.js';

export const MAIL_CONFIG = `[engine]
commit = false

[users.jgil]
name = "J. Gil"
emails = ["jgil@example.com"]

[users.ana]
emails = ["ana@example.com"]

[agents.polecat-1]
emails = ["polecat-1@agents.example.com"]

[agents.polecat-2]
emails = ["polecat-2@agents.example.com"]

[teams]
leads = ["@jgil", "@ana"]

[mail.queues]
triage = ["polecat-1", "polecat-2"]
`;

export const mailConfig = (extra = '') => parseConfig(MAIL_CONFIG + extra, '.beads/config.toml');

/** A repository with `gastown init` run and MAIL_CONFIG (plus `extra`) as its config. */
export async function mailRepo(extra = '') {
  const repo = await makeRepo();
  const init = await gastownInProcess(['init', '--hooks', 'none'], repo.path);
  if (init.exitCode !== 0) throw new Error(String(init.stderr));
  writeFileSync(join(repo.path, '.beads/config.toml'), MAIL_CONFIG + extra);
  return repo;
}

type Run = (
  args: string[],
  cwd: string,
  env?: Record<string, string>,
) => Promise<{ exitCode?: number; stdout: unknown; stderr: unknown }>;

/** gtOk over one way of running the CLI: fails the test with its stderr when it does not exit 0. */
const okWith =
  (run: Run) =>
  async (cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> => {
    const r = await run(args, cwd, env);
    if (r.exitCode !== 0) throw new Error(`gastown ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
    return String(r.stdout);
  };

/** Runs gastown and fails the test with its stderr when it does not exit 0. */
export const gtOk = okWith(gastown);
/** gtOk with the CLI run in this process (test/helpers/inproc.ts). */
export const gtOkInProcess = okWith(gastownInProcess);
