// The command table: one file per command group, each loading its implementation lazily.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerAdvance } from './advance.js';
import { registerCheckpoint } from './checkpoint.js';
import { registerDemo } from './demo.js';
import { registerFormula } from './formula.js';
import { registerGit } from './git.js';
import { registerMolecule } from './molecule.js';
import { registerStep } from './step.js';

export function registerTable(program: Command, ctx: CliContext): void {
  registerDemo(program, ctx);
  registerFormula(program, ctx);
  registerMolecule(program, ctx);
  registerStep(program, ctx);
  registerAdvance(program, ctx);
  registerCheckpoint(program, ctx);
  registerGit(program, ctx);
}
