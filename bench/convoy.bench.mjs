// `npm run bench -- convoy`: `convoy show` of a 100-molecule convoy and `patrol` on a repository
// of 1,000 molecules (the engine bench's generated repository: ~15 steps each, mixed progress),
// as ratios to `node -e 0` timed alternately with each command, warm (caches filled by an
// earlier run). Self-contained: exports `default async function(flags)` like the other benches.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generate } from './engine.bench.mjs';
import { importBundled, pairedRow, timePaired, waitOutStampWindow } from './lib.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = process.env.GASTOWN_BENCH_CLI ?? join(ROOT, 'dist/gastown.cjs');
const MEMBERS = 100;

/** The first MEMBERS generated molecules join convoy `big`, in order (each after the one before). */
function makeConvoy(repo) {
  mkdirSync(join(repo, '.beads/convoys/big'), { recursive: true });
  writeFileSync(
    join(repo, '.beads/convoys/big/convoy.toml'),
    'id = "big"\nname = "A hundred molecules"\nowner = "@jgil"\nteams = [ "platform", "security" ]\n',
  );
  writeFileSync(
    join(repo, '.beads/config.toml'),
    '[engine]\ncommit = false\n\n[users.jgil]\nemails = ["jgil@example.com"]\n',
  );
  for (let m = 0; m < MEMBERS; m++) {
    const file = join(repo, '.beads/molecules', `m-${String(m).padStart(4, '0')}`, 'molecule.toml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/^(formula_hash = .*)$/m, '$1\nconvoy = "big"'));
  }
}

export default async function main(flags = []) {
  const runs = flags.includes('--quick') ? 5 : 11;
  const work = mkdtempSync(join(tmpdir(), 'gastown-bench-convoy-'));
  try {
    const repo = join(work, 'repo');
    mkdirSync(repo);
    const engine = await importBundled(join(ROOT, 'src/engine/index.ts'), work, 'engine');
    generate(repo, engine);
    makeConvoy(repo);
    const env = { ...process.env, NO_COLOR: '1', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
    // Settle and fill the caches, as any earlier run would have.
    execFileSync(process.execPath, [CLI, 'advance'], { cwd: repo, env, stdio: 'ignore' });
    execFileSync(process.execPath, [CLI, 'patrol', '--no-commit'], { cwd: repo, env, stdio: 'ignore' });
    // A kept answer is written only from files older than the stamp window: wait it out, as a
    // command run a few seconds later would find them; the warm-up runs then keep their answers.
    await waitOutStampWindow(work);
    const opts = { cwd: repo, env, runs, warmup: 2 };
    pairedRow(
      `convoy show (${MEMBERS} molecules) warm`,
      timePaired(process.execPath, [CLI, 'convoy', 'show', 'big'], opts),
      '<= 2x',
    );
    pairedRow(
      `convoy show --json (${MEMBERS} molecules) warm`,
      timePaired(process.execPath, [CLI, 'convoy', 'show', 'big', '--json'], opts),
      '<= 2x',
    );
    pairedRow(
      'patrol, nothing due (1,000 molecules) warm',
      timePaired(process.execPath, [CLI, 'patrol', '--no-commit'], opts),
      '<= 2x',
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
