// hooks/runner.sh repeats two rules of the TypeScript in shell: the action-trailer key test and
// the "git is mid-operation" state files; the pre-commit hook block repeats a third, "something
// under .beads/ is staged". Each is pinned here by running the real runner (or block) in a real
// repository against the TypeScript rule: Node (or the runner) starts exactly when the TypeScript
// says the event can matter.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasActionTrailer } from '../../src/engine/trailers.js';
import { stagedChanges } from '../../src/git/repo.js';
import { OPERATION_STATES } from '../../src/git/states.js';
import { readRunnerTemplate, renderRunner } from '../../src/triggers/install.js';
import { HEAD_LOG_COMMAND, HEAD_LOG_MAX, insertBlock } from '../../src/triggers/sections.js';
import { gitIn, makeRepo, tempDir, testEnv } from '../helpers/repo.js';

let repo: { path: string; cleanup(): void };
let scratch: { path: string; cleanup(): void };
let runner: string;
let record: string;

beforeAll(async () => {
  repo = await makeRepo();
  scratch = tempDir();
  // Stands in for the CLI: notes that the runner started Node, and with which arguments.
  const cli = join(scratch.path, 'record.cjs');
  writeFileSync(
    cli,
    "require('node:fs').appendFileSync(process.env.RECORD, process.argv.slice(2).join(' ') + '\\n');\n",
  );
  record = join(scratch.path, 'record.txt');
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
  const env = testEnv({ RECORD: record });
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

describe('the post-commit hook block and the runner together against src/engine/trailers.ts', () => {
  /** Runs the installed post-commit block (the real runner behind it); true when Node started. */
  async function blockStartsNode(): Promise<boolean> {
    const hook = join(scratch.path, 'post-commit');
    writeFileSync(
      hook,
      insertBlock(undefined, { hook: 'post-commit', runner: `'${runner}'`, warnIfMissing: true }).content,
    );
    rmSync(record, { force: true });
    const env = testEnv({ RECORD: record });
    delete env.GASTOWN_HOOKS;
    delete env.GASTOWN_HOOK_ACTIVE;
    const r = await execa('sh', [hook], { cwd: repo.path, env, extendEnv: false, reject: false });
    expect(r.exitCode).toBe(0);
    if (!existsSync(record)) return false;
    // Node gets the hook's name alone: the log goes to it through the environment.
    expect(readFileSync(record, 'utf8')).toBe('hook post-commit\n');
    return true;
  }

  it('starts Node exactly for the messages the trailer module calls relevant', async () => {
    for (const message of MESSAGES) {
      await commit(message);
      expect({ message, started: await blockStartsNode() }).toEqual({
        message,
        started: hasActionTrailer(message),
      });
    }
  });

  it('starts Node for a commit touching .beads/, whatever its message', async () => {
    mkdirSync(join(repo.path, '.beads'), { recursive: true });
    writeFileSync(join(repo.path, '.beads/config.toml'), 'x = 1\n');
    await gitIn(repo.path, 'add', '.beads/config.toml');
    await commit('plain message\n');
    expect(await blockStartsNode()).toBe(true);
    writeFileSync(join(repo.path, 'code.txt'), 'code\n');
    await gitIn(repo.path, 'add', 'code.txt');
    await commit('plain message\n');
    expect(await blockStartsNode()).toBe(false);
  });

  it('asks git for HEAD with the runner’s own command', () => {
    const template = readRunnerTemplate();
    expect(template).toContain(`head_log=$(${HEAD_LOG_COMMAND} 2>/dev/null)`);
    expect(template).toContain(`\${#head_log} -le ${HEAD_LOG_MAX} ]`);
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

describe('the pre-commit hook block against src/git/repo.ts stagedChanges', () => {
  it('starts the runner exactly when something under .beads/ is staged, and says so', async () => {
    const dir = await makeRepo();
    const tmp = tempDir();
    try {
      // The block as installed, its runner a stand-in that notes each start and what it was told.
      const hook = join(tmp.path, 'pre-commit');
      const started = join(tmp.path, 'started.txt');
      const stub = join(tmp.path, 'runner.sh');
      writeFileSync(stub, `echo "$1 staged=\${GASTOWN_STAGED-}" >> '${started}'\n`);
      writeFileSync(
        hook,
        insertBlock(undefined, { hook: 'pre-commit', runner: `'${stub}'`, warnIfMissing: true }).content,
      );
      const startsRunner = async (): Promise<boolean> => {
        rmSync(started, { force: true });
        const r = await execa('sh', [hook], {
          cwd: dir.path,
          env: testEnv(),
          extendEnv: false,
          reject: false,
        });
        expect(r.exitCode).toBe(0);
        if (!existsSync(started)) return false;
        expect(readFileSync(started, 'utf8')).toBe('pre-commit staged=1\n');
        return true;
      };
      const put = (path: string, text: string) => {
        mkdirSync(join(dir.path, path, '..'), { recursive: true });
        writeFileSync(join(dir.path, path), text);
      };
      const states: [string, () => Promise<unknown>][] = [
        ['nothing staged', async () => {}],
        [
          'a file outside .beads/',
          async () => {
            put('src/a.ts', 'a\n');
            await gitIn(dir.path, 'add', 'src/a.ts');
          },
        ],
        [
          'a name that only starts like it',
          async () => {
            put('.beadsx/b.toml', 'b\n');
            await gitIn(dir.path, 'add', '.beadsx/b.toml');
          },
        ],
        [
          '.beads/ changed in the working tree only',
          async () => {
            await gitIn(dir.path, 'commit', '-q', '-m', 'outside');
            put('.beads/config.toml', 'x = 1\n');
          },
        ],
        ['a new .beads/ file', async () => gitIn(dir.path, 'add', '.beads/config.toml')],
        [
          'a changed .beads/ file',
          async () => {
            await gitIn(dir.path, 'commit', '-q', '-m', 'config');
            put('.beads/config.toml', 'x = 2\n');
            await gitIn(dir.path, 'add', '.beads/config.toml');
          },
        ],
        [
          'a .beads/ file made executable',
          async () => {
            await gitIn(dir.path, 'commit', '-q', '-m', 'config 2');
            await gitIn(dir.path, 'update-index', '--chmod=+x', '.beads/config.toml');
          },
        ],
        [
          'a .beads/ file removed',
          async () => {
            await gitIn(dir.path, 'commit', '-q', '-m', 'mode');
            await gitIn(dir.path, 'rm', '-q', '--cached', '.beads/config.toml');
          },
        ],
      ];
      for (const [state, make] of states) {
        await make();
        const staged = (await stagedChanges(dir.path, '.beads')).length > 0;
        expect({ state, started: await startsRunner() }).toEqual({ state, started: staged });
      }
    } finally {
      dir.cleanup();
      tmp.cleanup();
    }
  });
});
