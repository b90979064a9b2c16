// A run that judges molecules holds V8's young generation at its starting size (engine/heap.ts):
// the per-molecule garbage of a cold reader then never grows it, which kept the peak memory of a
// cold `list`, `current`, `advance` and `doctor` at 10,000 molecules under 200 MiB. A run answered
// from the caches judges nothing and leaves V8 alone. What the CLI asks of V8 is observed through
// a preload that records every flag it sets.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitIn, tempDir, testEnv } from '../helpers/repo.js';
import { gt, inProcess, repoWithFormulas } from './cli.js';

const HOLD = '--semi-space-growth-factor=1';

describe('young generation of a run that judges molecules', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  let scratch: ReturnType<typeof tempDir>;
  let preload: string;
  const molecules = 3;

  beforeAll(async () => {
    repo = await repoWithFormulas('gastown/shiny');
    scratch = tempDir();
    preload = join(scratch.path, 'flags.cjs');
    writeFileSync(
      preload,
      `const v8 = require('node:v8');
const set = v8.setFlagsFromString;
const seen = [];
v8.setFlagsFromString = (flags) => { seen.push(flags); return set(flags); };
process.on('exit', () => require('node:fs').writeFileSync(process.env.FLAGS_OUT, JSON.stringify(seen)));
`,
    );
    for (let i = 1; i <= molecules; i++)
      await inProcess.gtOk(repo.path, [
        'molecule',
        'create',
        '--formula',
        'shiny',
        '--name',
        `m${i}`,
        '--var',
        `feature=f${i}`,
      ]);
    await gitIn(repo.path, 'add', '-A');
    await gitIn(repo.path, 'commit', '-q', '-m', 'molecules');
  });
  afterAll(() => {
    repo.cleanup();
    scratch.cleanup();
  });

  /** The V8 flags a run of `args` set (cold: the cache deleted first), after checking it succeeded. */
  async function flagsOfRun(args: string[], name: string, cold = true): Promise<string[]> {
    if (cold) rmSync(join(repo.path, '.beads/.cache'), { recursive: true, force: true });
    const out = join(scratch.path, `${name}.json`);
    const inherited = testEnv().NODE_OPTIONS;
    const r = await gt(repo.path, args, {
      NODE_OPTIONS: [inherited, `--require ${JSON.stringify(preload)}`].filter(Boolean).join(' '),
      FLAGS_OUT: out,
      // Every stat settles at once, so the advance before a warm run leaves summaries to answer from.
      GASTOWN_STAMP_WINDOW_MS: '0',
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    return JSON.parse(readFileSync(out, 'utf8')) as string[];
  }

  it.each([
    ['list', ['molecule', 'list']],
    ['current', ['molecule', 'current', '--for', 'agent@example.com']],
    ['advance', ['advance']],
    ['doctor', ['doctor']],
    ['status', ['molecule', 'status', 'm1']],
  ])('a cold %s holds it', async (name, args) => {
    expect(await flagsOfRun(args, name)).toContain(HOLD);
  });

  it('a warm list, answered from the summaries, leaves V8 alone', async () => {
    await flagsOfRun(['advance'], 'settle');
    expect(await flagsOfRun(['molecule', 'list'], 'warm-list', false)).toEqual([]);
  });
});
