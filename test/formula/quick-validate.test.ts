// `formula validate` is answered before commander loads (src/cli/run.ts): the options that
// shortcut reads are the ones the command table defines, and any other shape takes the full path.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { quickFormulaValidate } from '../../src/cli/run.js';
import { registerFormula } from '../../src/cli/table/formula.js';

describe('the formula validate shortcut', () => {
  it('reads exactly the options the command table defines', () => {
    const program = new Command('gastown');
    registerFormula(program, createContext());
    const formula = program.commands.find((c) => c.name() === 'formula') as Command;
    const validate = formula.commands.find((c) => c.name() === 'validate') as Command;
    expect(validate.options.map((o) => o.long)).toEqual(['--json']);
    expect(validate.registeredArguments.map((a) => [a.name(), a.variadic, a.required])).toEqual([
      ['formulas', true, true],
    ]);
  });

  it('takes plain operands and --json, and leaves the rest to commander', () => {
    expect(quickFormulaValidate(['formula', 'validate', 'a.formula.toml', '--json', 'shiny'])).toEqual({
      refs: ['a.formula.toml', 'shiny'],
      json: true,
    });
    expect(quickFormulaValidate(['formula', 'validate', 'dir'])).toEqual({ refs: ['dir'], json: false });
    for (const args of [
      ['formula', 'validate'],
      ['formula', 'validate', '--json'],
      ['formula', 'validate', '--help'],
      ['formula', 'validate', '--', '-odd.formula.toml'],
      ['formula', 'show', 'shiny'],
      ['-C', '.', 'formula', 'validate', 'x'],
    ])
      expect(quickFormulaValidate(args)).toBeUndefined();
  });
});
