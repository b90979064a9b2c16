// `molecule status|list|current` and `prime` are answered before commander loads (src/cli/quick-readers.ts):
// the options that shortcut reads are the ones the command table defines, and both paths print
// the same.
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { QUICK_READER_OPTIONS, quickReaderCall } from '../../src/cli/quick-readers.js';
import { registerPrime } from '../../src/cli/table/desk.js';
import { registerMolecule } from '../../src/cli/table/molecule.js';
import { paAtReview } from '../engine/polecats.js';
import { gastown, gitIn, makeRepo } from '../helpers/repo.js';

describe('the molecule readers shortcut', () => {
  it('reads exactly the options the command table defines for status, list and current', () => {
    const program = new Command('gastown');
    registerMolecule(program, createContext());
    const molecule = program.commands.find((c) => c.name() === 'molecule') as Command;
    for (const name of ['status', 'list', 'current'] as const) {
      const cmd = molecule.commands.find((c) => c.name() === name) as Command;
      const defined = Object.fromEntries(
        cmd.options.map((o) => [o.long, { key: o.attributeName(), value: o.required || o.optional }]),
      );
      expect(QUICK_READER_OPTIONS[name]).toEqual(defined);
    }
    registerPrime(program, createContext());
    const prime = program.commands.find((c) => c.name() === 'prime') as Command;
    expect(QUICK_READER_OPTIONS.prime).toEqual(
      Object.fromEntries(
        prime.options.map((o) => [o.long, { key: o.attributeName(), value: o.required || o.optional }]),
      ),
    );
  });

  it('takes plain shapes only and leaves the rest to commander', () => {
    expect(quickReaderCall(['molecule', 'current', '--for', 'polecat-1', '--json'])).toEqual({
      command: 'current',
      args: [],
      flags: { for: 'polecat-1', json: true },
    });
    expect(quickReaderCall(['mol', 'status', 'm1'])).toEqual({ command: 'status', args: ['m1'], flags: {} });
    expect(quickReaderCall(['prime', '--json'])).toEqual({
      command: 'prime',
      args: [],
      flags: { json: true },
    });
    for (const args of [
      ['molecule', 'status'],
      ['molecule', 'status', 'a', 'b'],
      ['molecule', 'list', 'x'],
      ['molecule', 'list', '--help'],
      ['molecule', 'current', '--for=polecat-1'],
      ['molecule', 'current', '--for'],
      ['molecule', 'create', '--formula', 'f'],
      ['molecule', 'constructor'],
      ['molecule', 'prime'],
      ['prime', 'x'],
      ['prime', '--full'],
      ['-C', '.', 'molecule', 'list'],
    ])
      expect(quickReaderCall(args)).toBeUndefined();
  });

  let repo: Awaited<ReturnType<typeof makeRepo>>;
  beforeAll(async () => {
    repo = await makeRepo();
    await paAtReview(repo.path);
    await gitIn(repo.path, 'add', '-A');
    await gitIn(repo.path, 'commit', '-q', '-m', 'pa done');
  });
  afterAll(() => repo.cleanup());

  it('prints what the full path prints, with the same exit code', async () => {
    const cwd = repo.path;
    for (const args of [
      ['molecule', 'list'],
      ['molecule', 'list', '--json'],
      ['molecule', 'status', 'pa'],
      ['mol', 'status', 'pa', '--json'],
      ['molecule', 'status', 'nope'],
      ['molecule', 'current', '--for', 'polecat-1', '--full'],
      ['molecule', 'current', 'pb', '--json'],
      ['prime', '--for', 'polecat-1'],
      ['prime', '--for', 'polecat-1', '--json'],
      ['prime', '--for', 'nobody'],
    ]) {
      const quick = await gastown(args, cwd);
      const full = await gastown(['-C', cwd, ...args], '/');
      expect([quick.exitCode, String(quick.stdout), String(quick.stderr)]).toEqual([
        full.exitCode,
        String(full.stdout),
        String(full.stderr),
      ]);
    }
  });
});
