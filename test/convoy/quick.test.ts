// `convoy show ID` and `patrol` are answered before commander loads (src/cli/quick-fleet.ts): the
// options that shortcut reads are the ones the command table defines, and both paths print the same.
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { QUICK_FLEET_OPTIONS, quickFleetCall } from '../../src/cli/quick-fleet.js';
import { registerConvoy, registerPatrol } from '../../src/cli/table/convoy.js';
import { gt, gtOk } from '../engine/cli.js';
import { chunksLoaded, TABLE_CHUNK } from '../helpers/chunks.js';
import { commitAll } from '../helpers/repo.js';
import { AT_COMMIT_TIME, convoyRepo } from './helpers.js';

describe('the convoy show and patrol shortcut', () => {
  it('reads exactly the options the command table defines', () => {
    const program = new Command('gastown');
    registerConvoy(program, createContext());
    registerPatrol(program, createContext());
    const convoy = program.commands.find((c) => c.name() === 'convoy') as Command;
    const commands = {
      show: convoy.commands.find((c) => c.name() === 'show') as Command,
      patrol: program.commands.find((c) => c.name() === 'patrol') as Command,
    };
    for (const [name, cmd] of Object.entries(commands)) {
      const defined = Object.fromEntries(
        cmd.options.map((o) => [
          o.long,
          { key: o.attributeName(), value: o.required || o.optional, ...(o.negate ? { negate: true } : {}) },
        ]),
      );
      expect(QUICK_FLEET_OPTIONS[name as keyof typeof QUICK_FLEET_OPTIONS]).toEqual(defined);
    }
  });

  it('takes plain shapes only and leaves the rest to commander', () => {
    expect(quickFleetCall(['convoy', 'show', 'c', '--json'])).toEqual({
      command: 'show',
      id: 'c',
      flags: { json: true },
    });
    expect(quickFleetCall(['patrol', '--no-commit'])).toEqual({
      command: 'patrol',
      flags: { commit: false },
    });
    expect(quickFleetCall(['patrol'])).toEqual({ command: 'patrol', flags: {} });
    for (const args of [
      ['convoy', 'show'],
      ['convoy', 'show', '--json'],
      ['convoy', 'show', 'c', '--help'],
      ['convoy', 'list'],
      ['patrol', '--help'],
      ['patrol', 'extra'],
      ['-C', '.', 'patrol'],
    ])
      expect(quickFleetCall(args)).toBeUndefined();
  });

  let repo: Awaited<ReturnType<typeof convoyRepo>>;
  beforeAll(async () => {
    repo = await convoyRepo();
    const cwd = repo.path;
    await gtOk(cwd, ['convoy', 'create', 'c', '--name', 'One day', '--owner', '@jgil']);
    await gtOk(
      cwd,
      ['molecule', 'create', '--formula', 'day', '--name', 'd1', '--convoy', 'c'],
      AT_COMMIT_TIME,
    );
    await commitAll(cwd, 'd1');
  });
  afterAll(() => repo.cleanup());

  it('prints what the full path prints, with the same exit code, without the command table', async () => {
    const cwd = repo.path;
    for (const args of [
      ['convoy', 'show', 'c'],
      ['convoy', 'show', 'c', '--json'],
      ['convoy', 'show', 'nope'],
      ['convoy', 'show', '../x'],
      ['patrol', '--no-commit', '--json'],
    ]) {
      const quick = await gt(cwd, args, { ...AT_COMMIT_TIME, NODE_DEBUG: 'module' });
      const full = await gt('/', ['-C', cwd, ...args], AT_COMMIT_TIME);
      const stderr = String(quick.stderr)
        .split('\n')
        .filter((l) => !l.startsWith('MODULE '))
        .join('\n');
      expect([quick.exitCode, String(quick.stdout), stderr]).toEqual([
        full.exitCode,
        String(full.stdout),
        String(full.stderr),
      ]);
      expect(chunksLoaded(String(quick.stderr)).filter((f) => TABLE_CHUNK.test(f))).toEqual([]);
    }
  });
});
