// Plain argv shapes are answered before commander loads (src/cli/shortcuts.ts). Every option a
// shortcut reads must mean what the command table says, and its operand counts must be the
// table's; any other shape must be left to commander. What each shortcut prints against the full
// path is checked beside its command (test/mail/quick, test/convoy/quick, test/cli/quick-readers).
import { Command, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { SHORTCUTS, shortcutCall } from '../../src/cli/shortcuts.js';
import { registerTable } from '../../src/cli/table/index.js';

function tableCommand(program: Command, words: readonly string[]): Command | undefined {
  let cmd: Command | undefined = program;
  for (const word of words) cmd = cmd?.commands.find((c) => c.name() === word || c.aliases().includes(word));
  return cmd;
}

const described = (o: Option) => ({
  key: o.attributeName(),
  value: o.required || o.optional,
  ...(o.negate ? { negate: true } : {}),
});

describe('the shortcuts', () => {
  const program = new Command('gastown');
  registerTable(program, createContext());

  it.each(SHORTCUTS.map((s) => [s.words.map((w) => w.join('|')).join(' '), s] as const))(
    '%s reads only options the command table defines, as it defines them, and its operands',
    (_, shortcut) => {
      for (const spelling of shortcut.words.reduce<string[][]>(
        (all, names) => all.flatMap((prefix) => names.map((n) => [...prefix, n])),
        [[]],
      )) {
        const cmd = tableCommand(program, spelling);
        expect(cmd, spelling.join(' ')).toBeDefined();
        const defined = Object.fromEntries((cmd as Command).options.map((o) => [o.long, described(o)]));
        for (const [flag, option] of Object.entries(shortcut.options)) expect(option).toEqual(defined[flag]);
        const args = (cmd as Command).registeredArguments;
        const least = args.filter((a) => a.required).length;
        const most = args.some((a) => a.variadic) ? Number.POSITIVE_INFINITY : args.length;
        expect(shortcut.operands).toEqual([least, most]);
      }
    },
  );

  it('takes plain shapes and gives each command its operands and flags', () => {
    const shape = (args: string[]) => {
      const call = shortcutCall(args);
      return call && { words: call.shortcut.words[0]?.[0], operands: call.operands, flags: call.flags };
    };
    expect(shape(['molecule', 'current', '--for', 'polecat-1', '--json'])).toEqual({
      words: 'molecule',
      operands: [],
      flags: { for: 'polecat-1', json: true },
    });
    expect(shape(['mol', 'status', 'm1'])).toEqual({ words: 'molecule', operands: ['m1'], flags: {} });
    expect(shape(['prime', '--json'])).toEqual({ words: 'prime', operands: [], flags: { json: true } });
    expect(shape(['mail', 'inbox', '--for', 'polecat-1', '--unread', '--json'])).toEqual({
      words: 'mail',
      operands: [],
      flags: { for: 'polecat-1', unread: true, json: true },
    });
    expect(shape(['convoy', 'show', 'c', '--json'])).toEqual({
      words: 'convoy',
      operands: ['c'],
      flags: { json: true },
    });
    expect(shape(['patrol', '--no-commit'])).toEqual({
      words: 'patrol',
      operands: [],
      flags: { commit: false },
    });
    expect(shape(['formula', 'validate', 'a.formula.toml', '--json', 'shiny'])).toEqual({
      words: 'formula',
      operands: ['a.formula.toml', 'shiny'],
      flags: { json: true },
    });
    expect(shape(['hook', 'post-checkout', 'a', 'b', '1'])).toEqual({
      words: 'hook',
      operands: ['post-checkout', 'a', 'b', '1'],
      flags: {},
    });
    expect(shape(['advance', '--json'])).toEqual({ words: 'advance', operands: [], flags: { json: true } });
  });

  it('leaves every other shape to commander', () => {
    for (const args of [
      ['molecule', 'status'],
      ['molecule', 'status', 'a', 'b'],
      ['molecule', 'list', 'x'],
      ['molecule', 'list', '--help'],
      ['molecule', 'current', '--for=polecat-1'],
      ['molecule', 'current', '--for'],
      ['molecule', 'current', '--for', '--json'],
      ['molecule', 'create', '--formula', 'f'],
      ['molecule', 'constructor'],
      ['molecule', 'prime'],
      ['prime', 'x'],
      ['prime', '--full'],
      ['mail', 'inbox', '--help'],
      ['mail', 'check', '--unread'],
      ['mail', 'read', 'X'],
      ['convoy', 'show'],
      ['convoy', 'show', 'c', '--help'],
      ['convoy', 'list'],
      ['patrol', 'extra'],
      ['formula', 'validate'],
      ['formula', 'validate', '--', '-odd.formula.toml'],
      ['hook'],
      ['hook', '--help'],
      ['hook', 'post-commit', '-x'],
      ['advance', '--molecule', 'm1'],
      ['advance', 'x'],
      ['-C', '.', 'molecule', 'list'],
      ['--version'],
      [],
    ])
      expect(shortcutCall(args), args.join(' ')).toBeUndefined();
  });
});
