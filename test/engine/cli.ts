// Helpers for engine tests that drive the built CLI in real temporary git repositories.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gastownInProcess } from '../helpers/inproc.js';
import { CLI, CORPUS, gitIn, makeRepo, spawnRun, testEnv } from '../helpers/repo.js';

/** The built CLI; GASTOWN_TEST_CLI points at another build (e.g. while dist/ is being rebuilt). */
const cliPath = process.env.GASTOWN_TEST_CLI ?? CLI;

type Runner = (
  cwd: string,
  args: string[],
  env?: Record<string, string>,
) => Promise<{ exitCode?: number; stdout: unknown; stderr: unknown }>;

export async function gt(cwd: string, args: string[], env: Record<string, string> = {}) {
  return spawnRun(process.execPath, [cliPath, ...args], { cwd, env: testEnv(env) });
}

/** gt, gtOk and gtJson over one way of running the CLI. */
function helpers<R extends Awaited<ReturnType<Runner>>>(
  run: (cwd: string, args: string[], env?: Record<string, string>) => Promise<R>,
) {
  /** Runs the CLI and fails the test with its stderr when it exits non-zero. */
  const ok = async (cwd: string, args: string[], env: Record<string, string> = {}) => {
    const r = await run(cwd, args, env);
    if (r.exitCode !== 0)
      throw new Error(`gastown ${args.join(' ')} exited ${r.exitCode}:\n${r.stderr}\n${r.stdout}`);
    return r;
  };
  const json = async <T = Record<string, unknown>>(
    cwd: string,
    args: string[],
    env: Record<string, string> = {},
  ): Promise<T> => {
    const r = await run(cwd, [...args, '--json'], env);
    try {
      return JSON.parse(String(r.stdout)) as T;
    } catch {
      throw new Error(
        `gastown ${args.join(' ')} --json printed no JSON (exit ${r.exitCode}):\n${r.stderr}\n${r.stdout}`,
      );
    }
  };
  return { gt: run, gtOk: ok, gtJson: json };
}

const spawned = helpers(gt);
export const gtOk = spawned.gtOk;
export const gtJson = spawned.gtJson;

/** The same helpers with the CLI run in this process (test/helpers/inproc.ts). */
export const inProcess = helpers((cwd, args, env = {}) => gastownInProcess(args, cwd, env));

/** A repo with `.beads/formulas/` holding the named corpus formulas (e.g. `gastown/shiny`). */
export async function repoWithFormulas(...names: string[]) {
  const repo = await makeRepo();
  const dir = join(repo.path, '.beads', 'formulas');
  mkdirSync(dir, { recursive: true });
  for (const name of names)
    copyFileSync(join(CORPUS, `${name}.formula.toml`), join(dir, `${name.split('/').pop()}.formula.toml`));
  return repo;
}

/** The tree id of everything in the work tree (tracked or not, ignored files excluded). */
export async function treeHash(cwd: string): Promise<string> {
  await gitIn(cwd, 'add', '-A');
  return (await gitIn(cwd, 'write-tree')).trim();
}

export interface StatusStep {
  id: string;
  state: string;
  attempt: number;
  assignee?: string;
}
export interface Status {
  id: string;
  formula: string;
  state: string;
  progress: { done: number; total: number };
  steps: StatusStep[];
  ready: string[];
  blocked_reason?: string;
  conflicts: { file: string; message: string }[];
  problems: { file?: string; path?: string; message: string }[];
}

export const stepStates = (s: Status) => Object.fromEntries(s.steps.map((x) => [x.id, x.state]));
