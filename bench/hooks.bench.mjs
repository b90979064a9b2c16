// `npm run bench -- hooks`: what gastown's hooks add to a commit, against the same commit with
// hooks switched off (`-c core.hooksPath=/dev/null`), medians measured in the same run.
//  (a) a commit touching no .beads/ file (the shell fast path: Node never starts)  target < 10 ms
//  (b) a Gastown-Done commit in a repository with 1,000 molecules, engine commit included
//                                                                    target <= 3x `node -e 0`
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { nodeFloor, row, timeFn, timeProcess } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/gastown.cjs');
const corpus = join(root, '../shared/corpus');
const env = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Bench Agent',
  GIT_AUTHOR_EMAIL: 'agent@example.com',
  GIT_COMMITTER_NAME: 'Bench Agent',
  GIT_COMMITTER_EMAIL: 'agent@example.com',
  NO_COLOR: '1',
};

function sh(cmd, args, cwd, extra = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...env, ...extra }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const MOLECULES = 1000;
const RUNS = 15;
const WARMUP = 2;

export default async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'gastown-bench-hooks-'));
  try {
    sh('git', ['init', '-q', '-b', 'main'], dir);
    sh('git', ['commit', '-q', '--allow-empty', '-m', 'initial'], dir);
    sh(process.execPath, [cli, 'init'], dir);
    cpSync(join(corpus, 'gastown/shiny.formula.toml'), join(dir, '.beads/formulas/shiny.formula.toml'));
    sh(
      process.execPath,
      [cli, 'molecule', 'create', '--formula', 'shiny', '--name', 'm0000', '--var', 'feature=x'],
      dir,
    );
    // 999 more molecules: copies of the first under their own ids (each with `design` ready).
    const first = join(dir, '.beads/molecules/m0000');
    for (let i = 1; i < MOLECULES; i++) {
      const id = `m${String(i).padStart(4, '0')}`;
      const to = join(dir, '.beads/molecules', id);
      cpSync(first, to, { recursive: true });
      const meta = join(to, 'molecule.toml');
      writeFileSync(meta, readFileSync(meta, 'utf8').replace('id = "m0000"', `id = "${id}"`));
    }
    sh('git', ['add', '-A'], dir);
    sh('git', ['commit', '-q', '-m', `${MOLECULES} molecules`], dir, { GASTOWN_HOOKS: '0' });
    sh(process.execPath, [cli, 'advance'], dir); // warm the per-clone cache, as any earlier run would have

    const floor = nodeFloor({ runs: RUNS });
    const noHooks = ['-c', 'core.hooksPath=/dev/null'];

    // (a) a commit touching a file outside .beads/.
    let n = 0;
    const touch = () => {
      writeFileSync(join(dir, 'code.txt'), `change ${n++}\n`);
      sh('git', ['add', 'code.txt'], dir);
    };
    const plainBase = timeProcess('git', [...noHooks, 'commit', '-q', '-m', 'work'], {
      cwd: dir,
      env,
      runs: RUNS,
      warmup: WARMUP,
      setup: touch,
    });
    const plainHooked = timeProcess('git', ['commit', '-q', '-m', 'work'], {
      cwd: dir,
      env,
      runs: RUNS,
      warmup: WARMUP,
      setup: touch,
    });

    // (b) a Gastown-Done commit; each hooked run finishes a different molecule's `design`, so
    // every run makes an engine commit.
    let m = 0;
    const doneArgs = () => [
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'design done',
      '--trailer',
      `Gastown-Done: m${String(m).padStart(4, '0')}/design`,
    ];
    const times = (hooked) => {
      const out = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        m++;
        const t = timeProcess('git', hooked ? doneArgs() : [...noHooks, ...doneArgs()], {
          cwd: dir,
          env,
          runs: 1,
          warmup: 0,
        });
        if (i >= WARMUP) out.push(t);
      }
      return out.sort((a, b) => a - b)[Math.floor(out.length / 2)];
    };
    const doneBase = times(false);
    const doneHooked = times(true);
    const head = sh(
      'git',
      ['log', '-1', '--format=%an|%(trailers:key=Gastown-Transition,valueonly,separator=%x2C)'],
      dir,
    ).trim();
    if (!head.startsWith('gastown|')) throw new Error(`expected an engine commit at HEAD, got ${head}`);

    row('node -e 0 (floor)', floor, 0);
    row('(a) commit, no .beads/ change, hooks off', plainBase, 0);
    row('(a) same commit, gastown hooks on', plainHooked, 0);
    row('(a) added by hooks', plainHooked - plainBase, 0, '< 10 ms');
    row(`(b) Gastown-Done commit, ${MOLECULES} molecules, hooks off`, doneBase, floor);
    row('(b) same commit, hooks on (+ engine commit)', doneHooked, floor);
    row('(b) added by hooks', doneHooked - doneBase, floor, '<= 3x floor');
    console.log(`    last engine commit: ${head}`);

    // (c) One read both ways, in process: HEAD's commit message (what trailer handling needs).
    // The binary is spawned the way src/git/exec.ts does it (node:child_process, no shell).
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const run = promisify(execFile);
    const viaBinary = async () =>
      (await run('git', ['log', '-1', '--format=%B', 'HEAD'], { cwd: dir, env: { ...env, LC_ALL: 'C' } }))
        .stdout;
    const t0 = performance.now();
    const git = await import('isomorphic-git');
    const fs = await import('node:fs');
    const importMs = performance.now() - t0;
    const viaIso = async () => {
      const oid = await git.resolveRef({ fs, dir, ref: 'HEAD' });
      return (await git.readCommit({ fs, dir, oid })).commit.message;
    };
    if ((await viaBinary()).trim() !== (await viaIso()).trim()) throw new Error('the two reads disagree');
    row('(c) HEAD message via git binary (child_process)', await timeFn(viaBinary), 0);
    row('(c) HEAD message via isomorphic-git', await timeFn(viaIso), 0);
    row('(c) import isomorphic-git (once per process)', importMs, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
