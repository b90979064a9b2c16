// The CLI run inside the test worker (src/cli/run.ts), for tests of rules and output where the
// process boundary is not what is checked: it saves each call a node start and a bundle load.
// Same arguments and result shape as the spawning helpers (execa's, final newline stripped).
// Hooks, signals, locks held by another process, crashes and start-up stay with the built CLI
// (gastown in repo.ts), and test/cli/inproc.test.ts holds the two to the same output.
import { runCli } from '../../src/cli/run.js';
import { testEnv } from './repo.js';

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const stripFinalNewline = (s: string) => (s.endsWith('\n') ? s.slice(0, s.endsWith('\r\n') ? -2 : -1) : s);

/** Runs `gastown <args>` in `cwd` in this process, with the environment a spawned one gets. */
export async function gastownInProcess(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<CliRun> {
  const full = testEnv(env);
  if (full.GASTOWN_FAULT_KILL_AT)
    throw new Error('GASTOWN_FAULT_KILL_AT kills the process it runs in: spawn the CLI (gastown in repo.ts)');
  const r = await runCli(args, { cwd, env: full });
  return { exitCode: r.code, stdout: stripFinalNewline(r.stdout), stderr: stripFinalNewline(r.stderr) };
}
