// Shared set-up for the hook tests: a temp repository with gastown initialised and a shiny
// molecule `m1` committed, plus readers for what git recorded.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { CORPUS, gastown, gitIn, ROOT, spawnRun, testEnv } from '../helpers/repo.js';
import { copyOfTemplate } from '../helpers/template.js';

export interface Repo {
  path: string;
  cleanup(): void;
}

/** `git <args>` in the repo, returning everything (hooks print to stderr). */
export async function git(cwd: string, args: string[], env: Record<string, string> = {}) {
  return spawnRun('git', args, { cwd, env: testEnv(env) });
}

/** Sets up husky 9 the way `npx husky` does, using the husky package in our node_modules. */
export async function installHusky(cwd: string): Promise<void> {
  const husky = join(ROOT, 'node_modules/husky/index.js');
  const r = await execa(
    process.execPath,
    ['--input-type=module', '-e', `import h from ${JSON.stringify(husky)}; process.stdout.write(h())`],
    {
      cwd,
      env: testEnv(),
      extendEnv: false,
    },
  );
  if (r.stdout !== '') throw new Error(`husky: ${r.stdout}`);
}

/** git init, one empty commit on `main`, then `gastown init` with its hooks, in `dir`. */
export async function initIn(dir: string, opts: { husky?: boolean; hooks?: string }): Promise<void> {
  await gitIn(dir, 'init', '-q', '-b', 'main');
  await gitIn(dir, 'commit', '-q', '--allow-empty', '-m', 'initial');
  if (opts.husky) await installHusky(dir);
  const r = await gastown(['init', '--hooks', opts.hooks ?? 'auto'], dir);
  if (r.exitCode !== 0) throw new Error(`init failed: ${r.stderr}`);
}

const variant = (opts: { husky?: boolean; hooks?: string }) =>
  `${opts.husky ? 'husky' : 'git'}-${opts.hooks ?? 'auto'}`;

/** A repository with one commit and gastown initialised (a copy of a template made once per run). */
export async function initRepo(opts: { husky?: boolean; hooks?: string } = {}): Promise<Repo> {
  return copyOfTemplate(`init-${variant(opts)}`, (dir) => initIn(dir, opts));
}

/** init + shiny formula + molecule m1 (design ready), all committed. `hooks: 'none'`: no hooks. */
export async function shinyRepo(opts: { husky?: boolean; hooks?: string } = {}): Promise<Repo> {
  return copyOfTemplate(`shiny-${variant(opts)}`, async (dir) => {
    await initIn(dir, opts);
    copyFileSync(join(CORPUS, 'gastown/shiny.formula.toml'), join(dir, '.beads/formulas/shiny.formula.toml'));
    const c = await gastown(
      ['molecule', 'create', '--formula', 'shiny', '--name', 'm1', '--var', 'feature=x'],
      dir,
    );
    if (c.exitCode !== 0) throw new Error(`molecule create failed: ${c.stderr}`);
    await gitIn(dir, 'add', '-A');
    const r = await git(dir, ['commit', '-q', '-m', 'start m1']);
    if (r.exitCode !== 0) throw new Error(`commit failed: ${r.stderr}`);
  });
}

export interface LogEntry {
  sha: string;
  author: string;
  subject: string;
  trailers: string[];
}

/** The last `n` commits of `rev`, newest first. */
export async function log(cwd: string, n: number, rev = 'HEAD', ...paths: string[]): Promise<LogEntry[]> {
  const out = await gitIn(
    cwd,
    'log',
    `-${n}`,
    '--format=%H%x1f%an%x1f%s%x1f%(trailers:only,unfold)%x1e',
    rev,
    '--',
    ...paths,
  );
  return out
    .split('\x1e')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((rec) => {
      const [sha = '', author = '', subject = '', trailers = ''] = rec.split('\x1f');
      return { sha, author, subject, trailers: trailers.split('\n').filter(Boolean) };
    });
}

/** Replaces the node path recorded in the installed runner (a node upgraded, moved or wrapped). */
export function setRecordedNode(repo: string, node: string): void {
  const file = join(repo, '.git/gastown/runner.sh');
  const text = readFileSync(file, 'utf8').replace(/^GASTOWN_NODE=.*$/m, `GASTOWN_NODE='${node}'`);
  writeFileSync(file, text);
}

/** A formula with a human checkpoint between two steps. */
export const REVIEW_FLOW = `formula = "review-flow"
description = "draft, a human approval, ship"

[[steps]]
id = "draft"
title = "Draft"

[[steps]]
id = "approve"
title = "Approve the draft"
needs = ["draft"]

[steps.gate]
type = "human"

[[steps]]
id = "ship"
title = "Ship"
needs = ["approve"]
`;
