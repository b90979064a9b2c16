// `npm run bench -- audit`: `gastown audit` of one molecule in a repository of 10,000 commits
// (the molecule's few among them), and `gastown verify --base main` of a pull request that adds
// 100 state files (34 molecules poured in one commit), as ratios to `node -e 0` timed alternately.
// Self-contained: exports `default async function(flags)` like the other benches.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pairedRow, timePaired } from './lib.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = process.env.GASTOWN_BENCH_CLI ?? join(ROOT, 'dist/gastown.cjs');
const COMMITS = 10_000;

const ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Bench Agent',
  GIT_AUTHOR_EMAIL: 'agent@example.com',
  GIT_COMMITTER_NAME: 'Bench Agent',
  GIT_COMMITTER_EMAIL: 'agent@example.com',
};
const git = (dir, ...args) =>
  execFileSync('git', args, { cwd: dir, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
const gt = (dir, ...args) =>
  execFileSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: ENV,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
const commitAll = (dir, msg) => {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', msg);
};

/** `n` commits on top of HEAD that change one ordinary file each, through git fast-import. */
function noise(dir, n, from) {
  const head = git(dir, 'rev-parse', 'HEAD').toString().trim();
  const parts = [];
  for (let i = 0; i < n; i++) {
    const msg = `work ${from + i}`;
    const body = `line ${from + i}\n`;
    parts.push(
      `commit refs/heads/main\ncommitter Bench Agent <agent@example.com> ${1767690000 + from + i} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}\n${i === 0 ? `from ${head}\n` : ''}M 644 inline src/work-${(from + i) % 50}.txt\ndata ${Buffer.byteLength(body)}\n${body}\n`,
    );
  }
  execFileSync('git', ['fast-import', '--quiet', '--force'], { cwd: dir, env: ENV, input: parts.join('') });
  git(dir, 'reset', '-q', '--hard', 'main');
}

export function generate(dir) {
  git(dir, 'init', '-q', '-b', 'main');
  gt(dir, 'init', '--hooks', 'none');
  writeFileSync(
    join(dir, '.beads/config.toml'),
    '[engine]\ncommit = false\n\n[users.jgil]\nemails = ["jgil@example.com"]\n\n[agents.polecat-1]\nemails = ["agent@example.com"]\n',
  );
  commitAll(dir, 'init');
  gt(dir, 'molecule', 'create', '--formula', 'shiny', '--name', 'm1', '--var', 'feature=audit');
  commitAll(dir, 'pour m1');
  const steps = ['design', 'implement', 'review', 'test'];
  const per = Math.floor(COMMITS / steps.length);
  steps.forEach((step, i) => {
    noise(dir, per, i * per);
    gt(dir, 'step', 'done', 'm1', step, '--as', 'polecat-1', '--reassign');
    commitAll(dir, `m1: ${step}`);
  });
}

export default async function main(flags = []) {
  const runs = flags.includes('--quick') ? 5 : 15;
  const dir = mkdtempSync(join(tmpdir(), 'gastown-bench-audit-'));
  try {
    generate(dir);
    const count = git(dir, 'rev-list', '--count', 'HEAD').toString().trim();
    const opts = { cwd: dir, env: ENV, runs };
    pairedRow(
      `audit m1 --json (${count} commits)`,
      timePaired(process.execPath, [CLI, 'audit', 'm1', '--json'], opts),
      '< 1 s',
    );
    pairedRow(
      `report m1 --markdown (${count} commits)`,
      timePaired(process.execPath, [CLI, 'report', 'm1', '--markdown'], opts),
    );
    // A pull request adding 100 state files: 34 molecules of 3 files in one commit.
    git(dir, 'checkout', '-q', '-b', 'pr');
    for (let i = 0; i < 34; i++)
      gt(dir, 'molecule', 'create', '--formula', 'shiny', '--name', `pr-${i}`, '--var', 'feature=x');
    commitAll(dir, 'pour 34 molecules');
    const files = git(dir, 'diff', '--name-only', 'main', 'HEAD').toString().trim().split('\n').length;
    pairedRow(
      `verify --base main (${files} state files)`,
      timePaired(process.execPath, [CLI, 'verify', '--base', 'main'], opts),
      '<= 3x',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
