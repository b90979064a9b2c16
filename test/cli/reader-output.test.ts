// What the agent's read commands cost a warm run beyond reading the summaries: one write for the
// whole output (a write per line was a system call per molecule), and no node:crypto or terminal
// module loaded when the stamps answer and the output is not a terminal. The text is what a run
// with no cache prints.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/run.js';
import { inProcess } from '../engine/cli.js';
import { paAtReview } from '../engine/polecats.js';
import { CLI, commitAll, makeRepo, testEnv } from '../helpers/repo.js';

const NOW_ENV = { GASTOWN_STAMP_WINDOW_MS: '0' };
const READS = [
  ['molecule', 'list'],
  ['molecule', 'current', '--for', 'polecat-1'],
  ['prime', '--for', 'polecat-1'],
];

describe('warm readers', () => {
  let repo: Awaited<ReturnType<typeof makeRepo>>;
  beforeAll(async () => {
    repo = await makeRepo();
    await paAtReview(repo.path);
    await commitAll(repo.path, 'pa done');
    // Summaries, then stamps (a key that held records its stamp on the next run).
    for (let round = 0; round < 2; round++) {
      await inProcess.gtOk(repo.path, ['advance'], NOW_ENV);
      for (const args of READS) await inProcess.gtOk(repo.path, args, NOW_ENV);
    }
  });
  afterAll(() => repo.cleanup());

  it('print their whole output in one write, the text a run with no cache prints', async () => {
    const run = async (args: string[]) => {
      const writes: string[] = [];
      const code = await runCommand(args, {
        cwd: repo.path,
        env: testEnv(NOW_ENV),
        write: (fd, text) => {
          if (fd === 1) writes.push(text);
          else throw new Error(`unexpected stderr: ${text}`);
        },
      });
      return { code, writes };
    };
    const warm = [];
    for (const args of READS) warm.push(await run(args));
    for (const { code, writes } of warm) {
      expect(code).toBe(0);
      expect(writes).toHaveLength(1);
    }
    expect(warm[0]?.writes[0]?.split('\n')).toHaveLength(3); // pa, pb and the final newline
    rmSync(join(repo.path, '.beads/.cache'), { recursive: true, force: true });
    const cold = [];
    for (const args of READS) cold.push(await run(args));
    expect(cold.map((r) => r.writes.join(''))).toEqual(warm.map((r) => r.writes.join('')));
    for (const args of READS) await inProcess.gtOk(repo.path, args, NOW_ENV);
  });

  it("current opens no molecule's frozen formula or molecule.toml while both are unchanged", async () => {
    // Which files a run opened, printed at exit.
    const preload = join(repo.path, '.git', 'opens.cjs');
    writeFileSync(
      preload,
      [
        "const fs = require('node:fs');",
        'const open = fs.openSync;',
        'const seen = [];',
        'fs.openSync = (path, ...rest) => (seen.push(String(path)), open(path, ...rest));',
        "process.on('exit', () => process.stderr.write('opened: ' + seen.filter((p) => /molecule\\.toml$|formula\\.resolved\\.toml$/.test(p)).join(', ') + '\\n'));",
      ].join('\n'),
    );
    const args = ['molecule', 'current', '--for', 'polecat-1'];
    const r = await execa(process.execPath, ['--require', preload, CLI, ...args], {
      cwd: repo.path,
      env: testEnv(NOW_ENV),
      extendEnv: false,
      stdin: 'ignore',
    });
    expect(String(r.stdout)).toContain('Read the issue and its acceptance criteria');
    expect(String(r.stderr)).toBe('opened: ');
    rmSync(preload);
  });

  it('load neither node:crypto nor the terminal module into a pipe', async () => {
    // Which of node's own modules a run loaded, printed at exit.
    const preload = join(repo.path, '.git', 'modules.cjs');
    writeFileSync(
      preload,
      [
        "process.on('exit', () => {",
        '  const names = process.moduleLoadList.filter((m) => /^NativeModule (crypto|tty|net)$/.test(m));',
        "  process.stderr.write('loaded: ' + names.join(', ') + '\\n');",
        '});',
      ].join('\n'),
    );
    for (const args of READS) {
      // NO_COLOR empty: colour is decided by whether stderr is a terminal, as for a user.
      const r = await execa(process.execPath, ['--require', preload, CLI, ...args], {
        cwd: repo.path,
        env: testEnv({ ...NOW_ENV, NO_COLOR: '' }),
        extendEnv: false,
        stdin: 'ignore',
      });
      expect(String(r.stderr)).toBe('loaded: ');
      expect(String(r.stdout)).not.toContain('\u001b[');
    }
    rmSync(preload);
  });
});
