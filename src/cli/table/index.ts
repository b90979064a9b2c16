// The command table: one file per command group, each loading its implementation lazily.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerAdvance } from './advance.js';
import { registerCheckpoint } from './checkpoint.js';
import { registerConfig } from './config.js';
import { registerConvoy, registerEscalate, registerPatrol } from './convoy.js';
import { registerDemo } from './demo.js';
import { registerFormula } from './formula.js';
import { registerGit } from './git.js';
import { registerMail, registerNotifications } from './mail.js';
import { registerMolecule } from './molecule.js';
import { registerStep } from './step.js';

export interface CommandGroup {
  /** The top-level command names and aliases the group defines (test/cli/table.test.ts checks). */
  names: readonly string[];
  register: (program: Command, ctx: CliContext) => void;
}

export const commandGroups: readonly CommandGroup[] = [
  { names: ['demo'], register: registerDemo },
  { names: ['formula'], register: registerFormula },
  { names: ['molecule', 'mol'], register: registerMolecule },
  { names: ['step'], register: registerStep },
  { names: ['advance'], register: registerAdvance },
  { names: ['checkpoint'], register: registerCheckpoint },
  { names: ['init', 'hooks', 'hook', 'watch', 'doctor'], register: registerGit },
  { names: ['mail'], register: registerMail },
  { names: ['notifications'], register: registerNotifications },
  { names: ['config'], register: registerConfig },
  { names: ['convoy'], register: registerConvoy },
  { names: ['escalate'], register: registerEscalate },
  { names: ['patrol', 'heartbeat'], register: registerPatrol },
];

/**
 * Registers the group that defines `command`, or every group when it is not given or not known
 * (help, suggestions for a typo): building the whole table is a few ms of every start-up.
 */
export function registerTable(program: Command, ctx: CliContext, command?: string): void {
  const only = command === undefined ? undefined : commandGroups.find((g) => g.names.includes(command));
  for (const group of only ? [only] : commandGroups) group.register(program, ctx);
}

/** The command named on the command line: the first argument after the global options. */
export function commandNameOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '-C' || arg === '--cwd') i++;
    else if (arg.startsWith('--cwd=') || (arg.startsWith('-C') && arg.length > 2)) continue;
    else if (arg.startsWith('-')) return undefined;
    else return arg;
  }
  return undefined;
}
