// `gastown demo`: the main job, end to end, in a throwaway repository. Every action is a real
// command (git or gastown as child processes, argument arrays), printed before it runs, so the
// demo doubles as a walkthrough a newcomer can repeat by hand.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GastownError } from '../../errors.js';
import type { CliContext } from '../context.js';

interface DemoOptions {
  keep?: boolean;
  json?: boolean;
}

const AGENT = { name: 'Polecat One', email: 'polecat-1@agents.example.com' };
const HUMAN = { name: 'J. Gil', email: 'jgil@example.com' };
const MOLECULE = 'fix-login';

const CONFIG = `[engine]
commit = true
author_name = "gastown"
author_email = "gastown@localhost"
hook_timeout = "10s"

[users.jgil]
name = "${HUMAN.name}"
emails = ["${HUMAN.email}"]

[agents.polecat-1]
emails = ["${AGENT.email}"]

[agents.refinery]
emails = ["refinery@agents.example.com"]

[teams]
leads = ["@jgil"]
`;

// Subject first, then who made the commit: an engine subject already starts with `gastown:`, so
// `author: subject` read `gastown: gastown: …`.
const LOG_FORMAT = '%h %s  (%an <%ae>)%n%(trailers:only,unfold)';

export async function demo(ctx: CliContext, opts: DemoOptions): Promise<number> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'gastown-demo-')));
  const cli = process.argv[1];
  if (!cli) throw new GastownError('demo.cli', 'cannot tell where the gastown CLI is');
  const { io } = ctx;
  const shell = demoShell(ctx, opts, dir, cli);
  try {
    agentWorks(shell, dir);
    personReviews(shell, dir);
    if (opts.json) io.json({ repository: opts.keep ? dir : null, molecule: MOLECULE, commands: shell.log });
    else
      io.out(
        `\n${io.color.green('Done.')} ${opts.keep ? `The repository is kept at ${dir}` : 'Run with --keep to look around the repository.'}`,
      );
    return 0;
  } finally {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** How the demo runs commands in its repository: each printed, run, its output shown and logged. */
interface DemoShell {
  say(text: string): void;
  exec(cmd: string, args: string[], extraEnv?: Record<string, string>, shown?: string): string;
  gastown(...args: string[]): string;
  git(...args: string[]): string;
  log: { command: string; exitCode: number }[];
}

function demoShell(ctx: CliContext, opts: DemoOptions, dir: string, cli: string): DemoShell {
  const { io } = ctx;
  const log: { command: string; exitCode: number }[] = [];
  // The demo's git must not read the user's global config (identity, hooksPath, signing), nor
  // an identity from the environment: who commits is what the demo is about.
  const inherited = Object.fromEntries(
    Object.entries(ctx.env).filter(([k]) => !/^GIT_(AUTHOR|COMMITTER)_/.test(k)),
  );
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    NO_COLOR: '1',
    GASTOWN_AGENT: 'polecat-1',
  };
  const exec = (cmd: string, args: string[], extraEnv: Record<string, string> = {}, shown?: string) => {
    const label =
      shown ??
      [cmd === process.execPath ? 'gastown' : cmd, ...args.slice(cmd === process.execPath ? 1 : 0)].join(' ');
    if (!opts.json) io.out(io.color.dim(`$ ${label}`));
    const r = spawnSync(cmd, args, { cwd: dir, env: { ...env, ...extraEnv }, encoding: 'utf8' });
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trimEnd();
    if (!opts.json && output) io.out(output.replace(/^/gm, '  '));
    log.push({ command: label, exitCode: r.status ?? 1 });
    if (r.status !== 0)
      throw new GastownError('demo.step', `demo step failed: ${label} (exit ${r.status})\n${output}`);
    return r.stdout ?? '';
  };
  return {
    say: (text) => {
      if (!opts.json) io.out(`\n${io.color.bold(text)}`);
    },
    exec,
    gastown: (...args) => exec(process.execPath, [cli, ...args]),
    git: (...args) => exec('git', args),
    log,
  };
}

/** Steps 1-4: the repository set up, a molecule poured, the agent's work committed and declared done. */
function agentWorks({ say, git, gastown }: DemoShell, dir: string): void {
  say(`1. A repository where an agent (${AGENT.email}) works and a person (${HUMAN.email}) reviews`);
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', AGENT.name);
  git('config', 'user.email', AGENT.email);
  gastown('init', '--hooks', 'native');
  writeFileSync(join(dir, '.beads/config.toml'), CONFIG);
  git('add', '-A');
  git('commit', '-q', '-m', 'Set up gastown');

  say('2. Pour a molecule of the built-in polecat-work formula: implement -> done -> review -> merge');
  gastown(
    'molecule',
    'create',
    '--formula',
    'polecat-work',
    '--name',
    MOLECULE,
    '--var',
    'issue=login times out',
    '--var',
    'polecat=polecat-1',
  );
  git('add', '-A');
  git('commit', '-q', '-m', `Start ${MOLECULE}`);

  say('3. The agent commits its work; the commit trailer records the step as done');
  writeFileSync(join(dir, 'login.js'), 'export const LOGIN_TIMEOUT_MS = 30_000;\n');
  git('add', 'login.js');
  git('commit', '-q', '-m', 'Raise the login timeout', '--trailer', `Gastown-Done: ${MOLECULE}/implement`);
  git('log', `--format=${LOG_FORMAT}`, '-2');

  say('4. The agent declares the work done: the review becomes ready and its checkpoint file appears');
  git(
    'commit',
    '-q',
    '--allow-empty',
    '-m',
    'Ready for review',
    '--trailer',
    `Gastown-Done: ${MOLECULE}/done`,
  );
  gastown('checkpoint', 'list', '--pending');
}

/** Steps 5-8: the agent's own approval refused, the reviewer's counted, the molecule completed. */
function personReviews({ say, exec, git, gastown }: DemoShell, dir: string): void {
  const asHuman = {
    GIT_AUTHOR_NAME: HUMAN.name,
    GIT_AUTHOR_EMAIL: HUMAN.email,
    GIT_COMMITTER_NAME: HUMAN.name,
    GIT_COMMITTER_EMAIL: HUMAN.email,
  };
  say('5. The agent approves its own work by editing the file: it does not count');
  const checkpoint = join(dir, `.beads/molecules/${MOLECULE}/checkpoints/review.md`);
  const pending = readFileSync(checkpoint, 'utf8');
  writeFileSync(checkpoint, pending.replace(/^decision: pending/m, 'decision: approved'));
  git('commit', '-q', '-am', 'Approve my own review');
  gastown('molecule', 'status', MOLECULE);

  say('6. The reviewer approves by editing the same file and committing it');
  git('revert', '--no-edit', 'HEAD');
  writeFileSync(checkpoint, pending.replace(/^decision: pending/m, 'decision: approved'));
  exec(
    'git',
    ['commit', '-q', '-am', 'Review: approved'],
    asHuman,
    `git commit -am "Review: approved"   (as ${HUMAN.email})`,
  );
  gastown('molecule', 'status', MOLECULE);

  say('7. The merge step is done; the molecule completes itself');
  gastown('step', 'done', MOLECULE, 'merge', '--as', 'refinery');
  git('add', '.beads');
  git('commit', '-q', '-m', `Merge ${MOLECULE}`);
  gastown('advance');
  gastown('molecule', 'status', MOLECULE);

  say('8. git log is the audit trail: agent, reviewer and engine commits, each with trailers');
  git('log', `--format=${LOG_FORMAT}`, '--', `.beads/molecules/${MOLECULE}`, 'login.js');
}
