// `npm run bench -- watch`: latency from saving a checkpoint file as `decision: approved` to
// `gastown watch` printing the transition (issue target: within 1 s). Median over several edits
// in one watcher process, reported beside the `node -e 0` floor measured in the same run.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { makeRow, median, NODE_FLOOR, nodeFloor, printRow, under } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/gastown.cjs');
const EDITS = 7;
const reviewer = 'reviewer@example.com';
const env = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Reviewer',
  GIT_AUTHOR_EMAIL: reviewer,
  GIT_COMMITTER_NAME: 'Reviewer',
  GIT_COMMITTER_EMAIL: reviewer,
  NO_COLOR: '1',
};
const FORMULA = `formula = "review-flow"
[[steps]]
id = "draft"
title = "Draft"
[[steps]]
id = "approve"
title = "Approve"
needs = ["draft"]
[steps.gate]
type = "human"
[[steps]]
id = "ship"
title = "Ship"
needs = ["approve"]
`;

function sh(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export default async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'gastown-bench-watch-'));
  try {
    sh('git', ['init', '-q', '-b', 'main'], dir);
    sh('git', ['commit', '-q', '--allow-empty', '-m', 'initial'], dir);
    sh(process.execPath, [cli, 'init', '--hooks', 'none'], dir);
    appendFileSync(
      join(dir, '.beads/config.toml'),
      `\n[users.reviewer]\nemails = ["${reviewer}"]\n\n[agents.polecat-1]\nemails = ["polecat-1@agents.example.com"]\n`,
    );
    writeFileSync(join(dir, '.beads/formulas/review-flow.formula.toml'), FORMULA);
    for (let i = 1; i <= EDITS; i++) {
      sh(process.execPath, [cli, 'molecule', 'create', '--formula', 'review-flow', '--name', `r${i}`], dir);
      sh(process.execPath, [cli, 'step', 'done', `r${i}`, 'draft', '--as', 'polecat-1'], dir);
    }
    sh('git', ['add', '-A'], dir);
    sh('git', ['commit', '-q', '-m', 'drafts done'], dir);

    const watcher = spawn(process.execPath, [cli, 'watch', '--debounce', '50'], { cwd: dir, env });
    let buffer = '';
    const waiters = [];
    watcher.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      for (const w of [...waiters]) {
        if (w.re.test(buffer)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(performance.now());
        }
      }
    });
    const waitFor = (re) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`timed out waiting for ${re}; output:\n${buffer}`)),
          30_000,
        );
        waiters.push({
          re,
          resolve: (v) => {
            clearTimeout(t);
            resolve(v);
          },
        });
      });
    await waitFor(/^watching /m);

    const latencies = [];
    for (let i = 1; i <= EDITS; i++) {
      const file = join(dir, `.beads/molecules/r${i}/checkpoints/approve.md`);
      const seen = waitFor(new RegExp(`^r${i}/approve done`, 'm'));
      const text = readFileSync(file, 'utf8').replace(/^decision: pending/m, 'decision: approved');
      const t0 = performance.now();
      writeFileSync(`${file}.swp`, text); // saved the way editors do: write a copy, rename over
      renameSync(`${file}.swp`, file);
      latencies.push((await seen) - t0);
    }
    watcher.kill('SIGINT');
    await new Promise((r) => watcher.once('exit', r));

    const floor = { name: NODE_FLOOR, ms: nodeFloor({ runs: EDITS }) };
    const rows = [
      makeRow({
        suite: 'watch',
        label: `edit -> transition printed (median of ${EDITS}, debounce 50 ms)`,
        ms: median(latencies),
        floor,
        target: under(1000),
        runs: EDITS,
      }),
      makeRow({
        suite: 'watch',
        label: 'edit -> transition printed, slowest',
        ms: Math.max(...latencies),
        floor,
      }),
    ];
    for (const r of rows) printRow(r);
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
