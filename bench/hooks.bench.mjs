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
import { makeRow, NODE_FLOOR, nodeFloorCase, printRow, timeFn, timeRounds, under, within } from './lib.mjs';

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
const WARMUP = 2;

export default async function main(flags = {}) {
  const RUNS = flags.runs ?? 15;
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

    const noHooks = ['-c', 'core.hooksPath=/dev/null'];
    const rows = [];
    const add = (r) => {
      const row = makeRow({ suite: 'hooks', size: MOLECULES, runs: RUNS, ...r });
      printRow(row);
      rows.push(row);
    };
    const node = nodeFloorCase({ cwd: dir, env });
    const OFF = 'same commit, hooks off';

    // (a) a commit touching a file outside .beads/, hooks off and on in each round.
    let n = 0;
    const touch = () => {
      writeFileSync(join(dir, 'code.txt'), `change ${n++}\n`);
      sh('git', ['add', 'code.txt'], dir);
    };
    const commit = (name, args) => ({ name, cmd: 'git', args, cwd: dir, env, setup: touch });
    const a = timeRounds(
      [
        node,
        commit(OFF, [...noHooks, 'commit', '-q', '-m', 'work']),
        commit('on', ['commit', '-q', '-m', 'work']),
      ],
      { runs: RUNS, warmup: WARMUP },
    );
    add({
      label: '(a) commit, no .beads/ change, hooks on',
      ms: a.on.ms,
      floor: { name: OFF, ms: a[OFF].ms },
    });
    add({
      label: '(a) added by hooks',
      ms: a.on.ms - a[OFF].ms,
      floor: { name: NODE_FLOOR, ms: a[NODE_FLOOR].ms },
      target: under(10),
    });

    // (b) a Gastown-Done commit; each hooked run finishes a different molecule's `design`, so
    // every run makes an engine commit; the same commit with hooks off follows it in its round.
    let m = 0;
    const doneArgs = (hooked) => () => {
      if (hooked) m++;
      return [
        ...(hooked ? [] : noHooks),
        'commit',
        '-q',
        '--allow-empty',
        '-m',
        'design done',
        '--trailer',
        `Gastown-Done: m${String(m).padStart(4, '0')}/design`,
      ];
    };
    const done = (name, hooked) => ({ name, cmd: 'git', args: doneArgs(hooked), cwd: dir, env });
    const engineCommits = () =>
      Number(sh('git', ['rev-list', '--count', '--author=gastown@localhost', 'HEAD'], dir));
    const before = engineCommits();
    const b = timeRounds([node, done('on', true), done(OFF, false)], { runs: RUNS, warmup: WARMUP });
    const made = engineCommits() - before;
    if (made !== RUNS + WARMUP)
      throw new Error(`${made} engine commits for ${RUNS + WARMUP} hooked Gastown-Done commits`);
    const head = sh(
      'git',
      [
        'log',
        '-1',
        '--author=gastown@localhost',
        '--format=%(trailers:key=Gastown-Transition,valueonly,separator=%x2C)',
      ],
      dir,
    ).trim();
    add({
      label: `(b) Gastown-Done commit, ${MOLECULES} molecules, hooks on (+ engine commit)`,
      ms: b.on.ms,
      floor: { name: OFF, ms: b[OFF].ms },
      anchors: [{ name: NODE_FLOOR, ms: b[NODE_FLOOR].ms }],
    });
    add({
      label: '(b) added by hooks',
      ms: b.on.ms - b[OFF].ms,
      floor: { name: NODE_FLOOR, ms: b[NODE_FLOOR].ms },
      target: within(3),
    });
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
    const inProcess = { size: null, runs: 20 };
    add({
      ...inProcess,
      label: '(c) HEAD message via git binary (child_process), in process',
      ms: await timeFn(viaBinary),
    });
    add({ ...inProcess, label: '(c) HEAD message via isomorphic-git, in process', ms: await timeFn(viaIso) });
    add({ ...inProcess, label: '(c) import isomorphic-git (once per process)', ms: importMs, runs: 1 });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
