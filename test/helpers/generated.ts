// Repositories made by the benches' generator (bench/generate.mjs, run as a child process as the
// benches run it). A generation pours prototypes with the engine and copies them a few dozen
// times, seconds of CPU: the tests that only read a generated repository share one per run.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ROOT, testEnv } from './repo.js';
import { copyOfTemplate } from './template.js';

const GENERATE = join(ROOT, 'bench/generate.mjs');

/** What bench/generate.mjs prints. */
export interface Generated {
  dir: string;
  tree: string;
  files?: number;
  head?: string;
  commits?: number;
}

/** Runs `bench/generate.mjs <args>` and returns what it printed; throws with its stderr on failure. */
export async function generate(args: string[]): Promise<Generated> {
  const r = await execa(process.execPath, [GENERATE, ...args], {
    cwd: ROOT,
    env: testEnv(),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
  if (r.exitCode !== 0)
    throw new Error(`bench/generate.mjs ${args.join(' ')} exited ${r.exitCode}:\n${r.stderr}`);
  return JSON.parse(String(r.stdout)) as Generated;
}

/**
 * A copy of the repository `generate.mjs molecules --size <size> --seed <seed>` makes, generated
 * once per run (with its prototypes kept in a folder of its own): `dir` is the repository,
 * `cacheRoot` the prototypes it was made from (a later generation given it reuses them).
 */
export async function generatedRepo(
  size: number,
  seed: string,
): Promise<Generated & { cacheRoot: string; cleanup(): void }> {
  const copy = await copyOfTemplate(
    `bench-generated-molecules-${size}-${seed}`,
    async (dir) => {
      const made = await generate([
        'molecules',
        '--size',
        String(size),
        '--seed',
        seed,
        '--out',
        join(dir, 'repo'),
        '--cache-root',
        join(dir, 'cache'),
      ]);
      writeFileSync(join(dir, 'generated.json'), JSON.stringify(made));
    },
    { repos: ['repo'] },
  );
  const made = JSON.parse(readFileSync(join(copy.path, 'generated.json'), 'utf8')) as Generated;
  return {
    ...made,
    dir: join(copy.path, 'repo'),
    cacheRoot: join(copy.path, 'cache'),
    cleanup: copy.cleanup,
  };
}
