// Shared by the molecule verbs: load, fold and plan one molecule, and refuse one whose files
// cannot be used.
import { GastownError } from '../errors.js';
import { assertMoleculeId } from '../store/ids.js';
import type { GastownConfig } from '../store/types.js';
import { fileMoleculeStatus, moleculeExists, moleculeRelDir, readMoleculeFiles } from './io.js';
import { foldFiles, planState } from './reconcile.js';
import type { MoleculeState, PlanResult } from './types.js';

/** Loads, folds and plans one molecule, throwing when its files are unusable. */
export async function loadMolecule(
  root: string,
  id: string,
  config: GastownConfig,
  now: Date,
): Promise<{ state: MoleculeState; plan: PlanResult }> {
  assertMoleculeId(id);
  if (!moleculeExists(root, id))
    throw new GastownError('molecule.unknown', `no molecule ${id} (looked in ${moleculeRelDir(id)})`);
  return planLoaded(root, id, readMoleculeFiles(root, id), config, now);
}

/** Folds and plans files the caller holds (read from disk, or a dry run's simulated state). */
export async function planLoaded(
  root: string,
  id: string,
  files: Map<string, string>,
  config: GastownConfig,
  now: Date,
): Promise<{ state: MoleculeState; plan: PlanResult }> {
  const state = foldFiles(id, files);
  const plan = await planState(state, { root, config, now, moleculeStatus: fileMoleculeStatus(root) });
  return { state, plan };
}

/** Throws the first error or conflict in a molecule's files. */
export function throwIfUnusable(state: MoleculeState): void {
  const first = state.errors[0];
  if (first) {
    throw new GastownError('store.invalid', first.message, {
      location: { file: first.file, ...(first.path ? { path: first.path } : {}) },
    });
  }
  const conflict = state.conflicts[0];
  if (conflict) {
    const files = state.conflicts.map((c) => c.file).join(', ');
    throw new GastownError(
      'molecule.conflict',
      `molecule ${state.id} has conflicting state (${conflict.message}); resolve by hand: ${files}`,
      {
        location: { file: conflict.file },
      },
    );
  }
}
