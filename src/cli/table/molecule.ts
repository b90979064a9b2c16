import type { Command } from 'commander';
import type { CliContext } from '../context.js';

// Placeholder: the owner of this command group fills it in.
export function registerMolecule(_program: Command, _ctx: CliContext): void {}
