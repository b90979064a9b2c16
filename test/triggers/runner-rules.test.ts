// hooks/runner.sh repeats three rules of the TypeScript in shell: the action-trailer key test,
// the "git is mid-operation" state files and the hook time limit's reading of config.toml. Each
// is pinned here by running the real runner in a real repository against the TypeScript rule:
// the runner starts Node exactly when the TypeScript says the event can matter.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasActionTrailer } from '../../src/engine/trailers.js';
import { OPERATION_STATES } from '../../src/git/states.js';
import { parseConfig } from '../../src/store/config.js';
import { readRunnerTemplate, renderRunner } from '../../src/triggers/install.js';
import { triggerSettings } from '../../src/triggers/settings.js';
import { gitIn, makeRepo, tempDir, testEnv } from '../helpers/repo.js';

let repo: { path: string; cleanup(): void };
let scratch: { path: string; cleanup(): void };
let runner: string;
let record: string;
let sleeps: string;
let bin: string;

beforeAll(async () => {
  repo = await makeRepo();
  scratch = tempDir();
  // Stands in for the CLI: notes that the runner started Node, and with which arguments.
  const cli = join(scratch.path, 'record.cjs');
  // It stays until the watchdog's `sleep` below has noted its limit, so that note is always there.
  writeFileSync(
    cli,
    [
      "const fs = require('node:fs');",
      "fs.appendFileSync(process.env.RECORD, process.argv.slice(2).join(' ') + '\\n');",
      'const noted = process.env.SLEEPS;',
      "const w = fs.watch(require('node:path').dirname(noted), () => fs.existsSync(noted) && w.close());",
      'if (fs.existsSync(noted)) w.close();',
      '',
    ].join('\n'),
  );
  record = join(scratch.path, 'record.txt');
  // The runner's watchdog is the only caller of `sleep`: this one notes the limit it was given
  // and waits until the watchdog stops it as the hook ends, so no outcome depends on time.
  sleeps = join(scratch.path, 'sleeps.txt');
  bin = join(scratch.path, 'bin');
  mkdirSync(bin);
  const real = ['/bin/sleep', '/usr/bin/sleep'].find((p) => existsSync(p)) as string;
  writeFileSync(
    join(bin, 'sleep'),
    `#!/bin/sh\nprintf '%s\\n' "$1" > '${sleeps}.tmp' && mv '${sleeps}.tmp' '${sleeps}'\nexec '${real}' infinity\n`,
    { mode: 0o755 },
  );
  runner = join(scratch.path, 'runner.sh');
  writeFileSync(runner, renderRunner(readRunnerTemplate(), { node: process.execPath, cli }));
});
afterAll(() => {
  repo.cleanup();
  scratch.cleanup();
});

/** Runs the runner for `hook`; true when it started Node. */
async function startsNode(hook: string, args: string[] = [], input = ''): Promise<boolean> {
  rmSync(record, { force: true });
  rmSync(sleeps, { force: true });
  const env = testEnv({ RECORD: record, SLEEPS: sleeps });
  env.PATH = `${bin}:${env.PATH}`;
  delete env.GASTOWN_HOOKS;
  delete env.GASTOWN_HOOK_ACTIVE;
  const r = await execa('sh', [runner, hook, ...args], {
    cwd: repo.path,
    env,
    extendEnv: false,
    reject: false,
    input,
  });
  expect(r.exitCode).toBe(0);
  return existsSync(record);
}

async function commit(message: string): Promise<string> {
  await gitIn(repo.path, 'commit', '-q', '--allow-empty', '--cleanup=verbatim', '-m', message);
  return (await gitIn(repo.path, 'rev-parse', 'HEAD')).trim();
}

const MESSAGES = [
  'design done\n\nGastown-Done: m1/design\n',
  'x\n\ngastown-fail:m1/a\n',
  'x\n\nGASTOWN-START: m1/a\n',
  // Blanks before the colon: git's trailer parser and src/engine/trailers.ts accept them.
  'x\n\nGastown-Done : m1/a\n',
  'x\n\nGastown-Fail\t: m1/a\n',
  'x\n\nGastown-Molecule: m1\nGastown-Transition: m1/a ready\n',
  'x\n\nGastown-Doner: m1/a\n',
  'x\n\nGastown-Done m1/a\n',
  'prose that quotes Gastown-Done: m1/a mid-line\n',
  'plain message\n',
];

describe('hooks/runner.sh against src/engine/trailers.ts', () => {
  it('post-commit starts Node exactly for the messages the trailer module calls relevant', async () => {
    for (const message of MESSAGES) {
      await commit(message);
      expect({ message, started: await startsNode('post-commit') }).toEqual({
        message,
        started: hasActionTrailer(message),
      });
    }
  });

  it('post-rewrite (the grep copy) agrees too', async () => {
    for (const message of MESSAGES) {
      const sha = await commit(message);
      expect({ message, started: await startsNode('post-rewrite', ['rebase'], `${sha} ${sha}\n`) }).toEqual({
        message,
        started: hasActionTrailer(message),
      });
    }
  });
});

describe('hooks/runner.sh against src/git/states.ts', () => {
  it('post-commit starts no Node while any state file of OPERATION_STATES is present, and does without', async () => {
    const head = await commit('x\n\nGastown-Done: m1/a\n');
    const gitDir = join(repo.path, '.git');
    expect(await startsNode('post-commit')).toBe(true);
    for (const [file] of OPERATION_STATES) {
      const path = join(gitDir, file);
      if (/^[a-z-]+$/.test(file)) mkdirSync(path);
      else writeFileSync(path, `${head}\n`);
      expect({ file, started: await startsNode('post-commit') }).toEqual({ file, started: false });
      rmSync(path, { recursive: true, force: true });
    }
    expect(await startsNode('post-commit')).toBe(true);
    expect(readFileSync(record, 'utf8')).toBe('hook post-commit\n');
  });
});

describe('hooks/runner.sh against the config loader', () => {
  it('the hook time limit is the [engine] hook_timeout the TOML loader reads, in seconds', async () => {
    await commit('x\n\nGastown-Done: m1/a\n');
    const configs = [
      '[engine]\nhook_timeout = "250ms"\n',
      '[engine]\nhook_timeout="9s" # a comment\n',
      "[engine]\nhook_timeout = '7s'\n",
      '[engine]\ncommit = true\nhook_timeout = "2m"\n',
      '[engine]\nhook_timeout = "1h"\n',
      '[engine]\nhook_timeout = "2d"\n',
      '[ engine ] # where the hook settings live\nhook_timeout = "3s"\n',
      '[engine]\ncommit = true\n\n[mail]\nhook_timeout = "1s"\n',
      '[engine]\ncommit = true\n',
    ];
    mkdirSync(join(repo.path, '.beads'), { recursive: true });
    for (const text of configs) {
      writeFileSync(join(repo.path, '.beads/config.toml'), text);
      expect(await startsNode('post-commit')).toBe(true);
      const limit = Number(readFileSync(sleeps, 'utf8').trim());
      expect({ text, limit }).toEqual({
        text,
        limit: triggerSettings(parseConfig(text, 'config.toml')).hookTimeoutMs / 1000,
      });
    }
    rmSync(join(repo.path, '.beads'), { recursive: true });
  });
});
