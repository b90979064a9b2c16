// `npm run bench -- scale [--sizes 100,1000,10000] [--runs N] [--only PATTERN] [--drop-caches]`: every command an
// agent or a hook runs, on generated repositories of each size (bench/gen/molecules.mjs: a seeded
// mix of polecat-work, shiny and integration-test molecules at every stage; ~17 state files per
// molecule), warm and cold, each timed in rounds with `node -e 0` and, where the command looks at
// every molecule, `git status` in the same repository. Then a Gastown-Done commit against the same
// commit with hooks off, and a repository where every molecule waits at its review checkpoint.
// Each row also gets one untimed run for its peak memory and the processes it starts.
//
// Cold: `.beads/.cache/` removed before each run (summaries, stamps, the formula validation
// cache). The OS page cache stays warm unless --drop-caches (root only; it slows every other
// process on the machine, so it is never the default).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GIT_ENV, git, identity } from './gen/git.mjs';
import { AGENTS, agentName, scaleRepo } from './gen/molecules.mjs';
import { agentEmail, REVIEWER } from './gen/prototypes.mjs';
import {
  makeRow,
  NODE_FLOOR,
  nodeFloorCase,
  printRow,
  profileOnce,
  timeRounds,
  under,
  waitOutStampWindow,
  within,
} from './lib.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = process.env.GASTOWN_BENCH_CLI ?? join(ROOT, 'dist/gastown.cjs');
const CORPUS = process.env.GASTOWN_CORPUS ?? resolve(ROOT, '../shared/corpus');
const SEED = 1;
const RSS_TARGET = { mib: 200 };
const GIT_STATUS = 'git status';
const HOOKS_OFF = 'git commit, hooks off';

const log = (s) => console.log(`  ${s}`);

function corpusFiles() {
  if (!existsSync(CORPUS))
    throw new Error(
      `formula corpus not found at ${CORPUS} (set GASTOWN_CORPUS, or put shared/ beside the clone)`,
    );
  return ['gastown', 'beads'].flatMap((d) =>
    readdirSync(join(CORPUS, d))
      .filter((f) => f.endsWith('.formula.toml'))
      .sort()
      .map((f) => join(CORPUS, d, f)),
  );
}

function dropPageCache() {
  spawnSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

/**
 * Puts a cached repository back as generated: its two commits again (the config, then the
 * molecules; dated now, so checkpoint deadlines are hours away), nothing untracked, no
 * .beads/.cache, no per-clone state in the git directory, hooks installed. Then one `advance`
 * fills the cache, and must write nothing.
 */
function freshState(dir, meta) {
  const env0 = { env: identity(REVIEWER.name, REVIEWER.email, new Date().toISOString()) };
  const base = git(
    dir,
    ['commit-tree', meta.baseTree, '-m', 'bench: gastown init, people and formulas'],
    env0,
  ).trim();
  const commit = git(
    dir,
    [
      'commit-tree',
      meta.tree,
      '-p',
      base,
      '-m',
      `bench: ${meta.size} molecules (${meta.mix}, seed ${meta.seed})`,
    ],
    env0,
  ).trim();
  git(dir, ['reset', '-q', '--hard', commit]);
  git(dir, ['clean', '-fdq']);
  rmSync(join(dir, '.beads/.cache'), { recursive: true, force: true });
  const gitDir = join(dir, '.git');
  for (const f of readdirSync(gitDir)) if (f.startsWith('gastown-')) rmSync(join(gitDir, f), { force: true });
  const env = benchEnv();
  const install = spawnSync(process.execPath, [CLI, 'hooks', 'install'], { cwd: dir, env, encoding: 'utf8' });
  if (install.status !== 0)
    throw new Error(`gastown hooks install exited ${install.status}: ${install.stderr}`);
  const settle = spawnSync(process.execPath, [CLI, 'advance'], { cwd: dir, env, encoding: 'utf8' });
  if (settle.status !== 0)
    throw new Error(`gastown advance (settling) exited ${settle.status}: ${settle.stderr}`);
  const changed = git(dir, ['status', '--porcelain']).trim();
  if (changed)
    throw new Error(
      `the generated repository is not at rest: advance wrote files (a generator or engine change?):\n${changed.split('\n').slice(0, 10).join('\n')}`,
    );
}

function benchEnv(extra = {}) {
  return { ...GIT_ENV, ...identity(agentName(1), agentEmail(agentName(1))), ...extra };
}

/**
 * The first polecat-work molecule from the `from`-th on that waits at its review checkpoint: the
 * molecule `status` is timed on is of the same kind at every size.
 */
function waitingForReview(dir, from) {
  const base = join(dir, '.beads/molecules');
  const ids = readdirSync(base).sort();
  for (const id of [...ids.slice(from), ...ids.slice(0, from)]) {
    const file = join(base, id, 'checkpoints/review.md');
    if (existsSync(file) && /^decision: pending/m.test(readFileSync(file, 'utf8'))) return id;
  }
  throw new Error(`no molecule waits at its review in ${dir}`);
}

/** Polecat-work molecules whose `implement` is ready and not done: each takes one Gastown-Done. */
function doneCandidates(dir) {
  const base = join(dir, '.beads/molecules');
  const out = [];
  for (const id of readdirSync(base).sort()) {
    let names;
    try {
      names = readdirSync(join(base, id, 'events'));
    } catch {
      continue;
    }
    if (
      names.includes('implement.1.ready.toml') &&
      !names.some((n) => /^implement\.\d+\.(done|failed)|^implement\.2\./.test(n))
    )
      if (readFileSync(join(base, id, 'molecule.toml'), 'utf8').includes('formula = "polecat-work"'))
        out.push(id);
  }
  return out;
}

// Timed runs per row after the warm-up round, unless --runs says: a command slower than SLOW_MS in
// its warm-up round gets the minimum (five), a quicker one more, since its noise is relatively larger.
const MIN_RUNS = 5;
const QUICK_RUNS = 9;
const SLOW_MS = 2000;

/**
 * Times `c` in rounds with its floors, then measures its memory and processes once, and returns
 * the row. `floors` are cases; the first is the one the target is against.
 */
function measure({ size, label, c, floors, target, runs: asked, once, note: given }) {
  const cases = [...floors, { ...c, name: 'cmd' }];
  // --once: a single round and no warm-up, for a first look where one run takes many minutes.
  const first = timeRounds(cases, { runs: 1, warmup: 0 });
  const runs = once ? 1 : (asked ?? (first.cmd.ms > SLOW_MS ? MIN_RUNS : QUICK_RUNS));
  const t = once ? first : timeRounds(cases, { runs, warmup: 0 });
  const note = once ? ['one run, no warm-up (--once)', given].filter(Boolean).join('; ') : given;
  const [floor, ...anchors] = floors.map((f) => ({ name: f.name, ms: t[f.name].ms }));
  const row = makeRow({
    suite: 'scale',
    label,
    size,
    ms: t.cmd.ms,
    floor,
    anchors,
    target,
    ...profileOnce(c),
    rssTarget: RSS_TARGET,
    runs,
    note,
  });
  printRow(row);
  return row;
}

async function mixedRows(size, flags, runs) {
  const t0 = Date.now();
  const { dir, meta, cached } = await scaleRepo({ size, seed: SEED, mix: 'mixed', log });
  log(
    `${size} molecules, ${meta.files} state files: ${cached ? 'cached' : `generated in ${((Date.now() - t0) / 1000).toFixed(1)} s (${JSON.stringify(meta.ms)})`}`,
  );
  freshState(dir, meta);
  const env = benchEnv();
  const cache = join(dir, '.beads/.cache');
  const cold = () => {
    rmSync(cache, { recursive: true, force: true });
    if (flags.dropCaches) dropPageCache();
  };
  const warm = () => spawnSync(process.execPath, [CLI, 'advance'], { cwd: dir, env, stdio: 'ignore' });
  const node = nodeFloorCase({ cwd: dir, env });
  const status = { name: GIT_STATUS, cmd: 'git', args: ['status'], cwd: dir, env };
  const cli = (...args) => ({ cmd: process.execPath, args: [CLI, ...args], cwd: dir, env });
  const fast = within(size >= 10000 ? 3 : 2);
  const rows = [];
  // How long the repository took to make (when it was made, for a cached one).
  const made = makeRow({
    suite: 'scale',
    label: 'generate the repository (init, write files, git add, git commit)',
    size,
    ms: Object.entries(meta.ms)
      .filter(([step]) => step !== 'prototypes')
      .reduce((sum, [, ms]) => sum + ms, 0),
    note: `${meta.files} state files; ms: ${JSON.stringify(meta.ms)}${cached ? `; made ${meta.generated_at ?? 'before this run'}` : ''}`,
  });
  printRow(made);
  rows.push(made);
  const m = (label, c, floors, target, note) => {
    if (wanted(flags, label))
      rows.push(measure({ size, label, c, floors, target, runs, once: flags.once, note }));
  };

  m('gastown --version', cli('--version'), [node], within(1.3));
  const id = waitingForReview(dir, Math.floor(size / 2));
  const agent = agentName(1);
  // wide: it looks at every molecule, so `git status` is measured beside it. Cold advance is
  // held to `git status` (both look at every file); the others to `node -e 0`.
  const reads = [
    {
      label: 'molecule status ID (waiting at its review)',
      c: cli('molecule', 'status', id),
      warm: fast,
      cold: within(3),
    },
    { label: 'molecule list', c: cli('molecule', 'list'), wide: true, warm: fast },
    {
      label: `molecule current --for ${agent}`,
      c: cli('molecule', 'current', '--for', agent),
      wide: true,
      warm: fast,
    },
    {
      label: 'advance, no-op',
      c: cli('advance'),
      wide: true,
      warm: fast,
      cold: within(1.5),
      coldVsGit: true,
    },
    { label: 'doctor', c: cli('doctor'), wide: true },
  ];
  for (const r of reads) {
    const floors = r.wide ? [node, status] : [node];
    if (wanted(flags, `${r.label} (warm)`)) warm();
    m(`${r.label} (warm)`, r.c, floors, r.warm);
    m(`${r.label} (cold)`, { ...r.c, setup: cold }, r.coldVsGit ? [status, node] : floors, r.cold);
  }
  // The first (warm-up) run of the warm row fills the validation cache.
  const validate = cli('formula', 'validate', ...corpusFiles());
  m('formula validate <52 corpus files> (warm)', validate, [node], within(2));
  m('formula validate <52 corpus files> (cold)', { ...validate, setup: cold }, [node], within(4));
  rows.push(...commitRows(size, dir, env, node, runs, flags));
  // Last: a watch that could not start (too few inotify watches) leaves the kernel tearing down
  // the ones it added for seconds after it exits, which slowed the rows timed next.
  await watchRunningRows(dir, env, reads, m, warm, [node, status], flags);
  return rows;
}

/**
 * The warm readers that look at every molecule, with `gastown watch` running: its change journal
 * tells them which molecules changed, so they stat only those (docs/hooks.md). Skipped, with a
 * line saying why, when the watcher cannot start (it needs one inotify watch per folder).
 */
async function watchRunningRows(dir, env, reads, m, warm, floors, flags) {
  const picked = reads.filter((r) => r.wide && r.warm && wanted(flags, `${r.label} (warm, watch running)`));
  if (picked.length === 0) return;
  const watch = spawn(process.execPath, [CLI, 'watch', '--json', '--debounce', '60000'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = await new Promise((resolve) => {
    watch.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('"event":"ready"')) resolve(true);
    });
    watch.stderr.on('data', (chunk) => {
      out += chunk;
    });
    watch.once('close', () => resolve(false));
  });
  try {
    if (!ready) {
      log(`watch running rows skipped: gastown watch did not start:\n${out.slice(0, 400)}`);
      return;
    }
    // Summaries with the journal's mark, stamped, and older than the stamp window: the readers'
    // kept texts are written and used only past it.
    warm();
    warm();
    await waitOutStampWindow();
    for (const r of picked) m(`${r.label} (warm, watch running)`, r.c, floors, r.warm);
  } finally {
    if (watch.exitCode === null && watch.signalCode === null) {
      const closed = new Promise((resolve) => watch.once('close', resolve));
      watch.kill('SIGTERM');
      await closed;
    }
  }
}

const DONE_ROW = 'Gastown-Done commit, hooks on (hook + engine commit)';
const DONE_ADDED = 'added by hooks to a Gastown-Done commit';
const PLAIN_ROW = 'commit touching no .beads/ file, hooks on';
const PLAIN_ADDED = 'added by hooks to a commit touching no .beads/ file';
const NO_HOOKS = ['-c', 'core.hooksPath=/dev/null'];

/** A Gastown-Done commit and a commit touching no .beads/ file, hooks on against hooks off. */
function commitRows(size, dir, env, node, asked, flags) {
  const runs = asked ?? QUICK_RUNS;
  let n = 0;
  const touch = () => {
    writeFileSync(join(dir, 'src/work.txt'), `change ${n++}\n`);
    git(dir, ['add', 'src/work.txt'], { env });
  };
  const rows = [];
  if ([DONE_ROW, DONE_ADDED].some((l) => wanted(flags, l)))
    rows.push(...doneCommitRows(size, dir, env, node, runs, touch));
  if ([PLAIN_ROW, PLAIN_ADDED].some((l) => wanted(flags, l))) {
    const plain = (hooks) => ({
      name: hooks ? 'on' : HOOKS_OFF,
      cmd: 'git',
      args: [...(hooks ? [] : NO_HOOKS), 'commit', '-q', '-m', 'work'],
      cwd: dir,
      env,
      setup: touch,
    });
    const p = timeRounds([node, plain(true), plain(false)], { runs, warmup: 1 });
    rows.push(
      makeRow({
        suite: 'scale',
        label: PLAIN_ROW,
        size,
        ms: p.on.ms,
        floor: { name: HOOKS_OFF, ms: p[HOOKS_OFF].ms },
        anchors: [{ name: NODE_FLOOR, ms: p[NODE_FLOOR].ms }],
        ...profileOnce(plain(true)),
        runs,
      }),
      makeRow({
        suite: 'scale',
        label: PLAIN_ADDED,
        size,
        ms: p.on.ms - p[HOOKS_OFF].ms,
        floor: { name: NODE_FLOOR, ms: p[NODE_FLOOR].ms },
        target: under(10),
        runs,
      }),
    );
  }
  for (const r of rows) printRow(r);
  return rows;
}

/** Each hooked run finishes another molecule's `implement`, so each makes an engine commit. */
function doneCommitRows(size, dir, env, node, runs, touch) {
  const candidates = doneCandidates(dir);
  const rounds = Math.min(runs, candidates.length - 2); // one warm-up, one profiling run
  if (rounds < 1) {
    log(`Gastown-Done rows skipped: ${candidates.length} molecules with implement ready`);
    return [];
  }
  let next = 0;
  let current;
  const doneArgs = (hooks) => () => {
    if (hooks) current = candidates[next++];
    return [
      ...(hooks ? [] : NO_HOOKS),
      'commit',
      '-q',
      '-m',
      'implement the change',
      '--trailer',
      `Gastown-Done: ${current}/implement`,
    ];
  };
  // In each round: the hooked commit for the next molecule, then the same commit with hooks off
  // (its trailer names a step that is done by then, so no later catch-up applies it).
  const on = { name: 'on', cmd: 'git', args: doneArgs(true), cwd: dir, env, setup: touch };
  const off = { name: HOOKS_OFF, cmd: 'git', args: doneArgs(false), cwd: dir, env, setup: touch };
  const engineCommits = () =>
    Number(git(dir, ['rev-list', '--count', '--author=gastown@localhost', 'HEAD']).trim());
  const before = engineCommits();
  const t = timeRounds([node, on, off], { runs: rounds, warmup: 1 });
  const made = engineCommits() - before;
  const note =
    made === rounds + 1
      ? undefined
      : `${made} engine commits for ${rounds + 1} hooked commits: not every run did the work`;
  return [
    makeRow({
      suite: 'scale',
      label: DONE_ROW,
      size,
      ms: t.on.ms,
      floor: { name: HOOKS_OFF, ms: t[HOOKS_OFF].ms },
      anchors: [{ name: NODE_FLOOR, ms: t[NODE_FLOOR].ms }],
      ...profileOnce(on),
      rssTarget: RSS_TARGET,
      runs: rounds,
      note,
    }),
    makeRow({
      suite: 'scale',
      label: DONE_ADDED,
      size,
      ms: t.on.ms - t[HOOKS_OFF].ms,
      floor: { name: NODE_FLOOR, ms: t[NODE_FLOOR].ms },
      target: within(3),
      runs: rounds,
    }),
  ];
}

const PENDING = 'advance, no-op, all at a pending checkpoint';

/** `--only PATTERN` runs the rows whose label matches it. */
const wanted = (flags, label) => !flags.only || flags.only.test(label);

/** Every molecule waiting at its review checkpoint, deadline hours away (issue 19's "Must show"). */
async function pendingRows(size, flags, runs) {
  const labels = { warm: `${PENDING} (warm)`, cold: `${PENDING} (cold)` };
  if (!Object.values(labels).some((l) => wanted(flags, l))) return [];
  const t0 = Date.now();
  const { dir, meta, cached } = await scaleRepo({ size, seed: SEED, mix: 'pending', log });
  log(
    `${size} molecules at a pending checkpoint: ${cached ? 'cached' : `generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`}`,
  );
  freshState(dir, meta);
  const env = benchEnv();
  const node = nodeFloorCase({ cwd: dir, env });
  const status = { name: GIT_STATUS, cmd: 'git', args: ['status'], cwd: dir, env };
  const advance = { cmd: process.execPath, args: [CLI, 'advance'], cwd: dir, env };
  const cold = () => {
    rmSync(join(dir, '.beads/.cache'), { recursive: true, force: true });
    if (flags.dropCaches) dropPageCache();
  };
  const rows = [];
  if (wanted(flags, labels.warm))
    rows.push(
      measure({
        size,
        label: labels.warm,
        c: advance,
        floors: [node, status],
        target: within(size >= 10000 ? 3 : 2),
        runs,
        once: flags.once,
      }),
    );
  if (wanted(flags, labels.cold))
    rows.push(
      measure({
        size,
        label: labels.cold,
        c: { ...advance, setup: cold },
        floors: [status, node],
        target: within(1.5),
        runs,
        once: flags.once,
      }),
    );
  return rows;
}

export default async function scale(flags) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm run bench does)`);
  const rows = [];
  for (const size of flags.sizes) {
    const runs = flags.runs ? `${flags.runs}` : `${MIN_RUNS}-${QUICK_RUNS}`;
    console.log(`\n### ${size} molecules (${runs} runs per row after a warm-up, ${AGENTS} agents)`);
    rows.push(...(await mixedRows(size, flags, flags.runs)));
    rows.push(...(await pendingRows(size, flags, flags.runs)));
  }
  return rows;
}
