// The command table is built one group at a time: only the group the command line names is
// registered, so the names each group declares must be exactly the commands it defines.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { commandGroups, commandNameOf } from '../../src/cli/table/index.js';
import { gastown, makeRepo } from '../helpers/repo.js';

describe('command groups', () => {
  it('declare exactly the top-level commands and aliases they register', () => {
    const all: string[] = [];
    for (const group of commandGroups) {
      const program = new Command('gastown');
      group.register(program, createContext());
      const defined = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
      expect(defined.sort()).toEqual([...group.names].sort());
      all.push(...defined);
    }
    expect(new Set(all).size).toBe(all.length);
  });

  it('find the command after the global options', () => {
    expect(commandNameOf(['advance', '--json'])).toBe('advance');
    expect(commandNameOf(['-C', '/tmp/x', 'mol', 'list'])).toBe('mol');
    expect(commandNameOf(['--cwd', 'dir', 'step', 'done'])).toBe('step');
    expect(commandNameOf(['--cwd=dir', '-Cother', 'formula'])).toBe('formula');
    expect(commandNameOf(['--help'])).toBeUndefined();
    expect(commandNameOf([])).toBeUndefined();
  });

  it('still runs a command named after -C, an alias, and suggests a command for a typo', async () => {
    const repo = await makeRepo();
    try {
      expect((await gastown(['init'], repo.path)).exitCode).toBe(0);
      const list = await gastown(['-C', repo.path, 'mol', 'list', '--json'], '/');
      expect(list.exitCode, String(list.stderr)).toBe(0);
      expect(JSON.parse(String(list.stdout))).toEqual([]);
      const typo = await gastown(['advnce'], repo.path);
      expect(typo.exitCode).toBe(2);
      expect(String(typo.stderr)).toContain('advance');
      const help = await gastown(['--help'], repo.path);
      for (const group of commandGroups) expect(String(help.stdout)).toContain(group.names[0]);
    } finally {
      repo.cleanup();
    }
  });
});
