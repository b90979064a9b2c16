// Molecules that wait for others (`--after`, a molecule gate) move on when those complete.
import { join } from 'node:path';
import type { MoleculeGate } from '../formula/model.js';
import { readSmallFile } from '../store/atomic.js';
import { FORMULA_FILE, MOLECULE_FILE, moleculesDir } from '../store/layout.js';
import type { GastownConfig } from '../store/types.js';
import { fileMoleculeStatus, isMoleculeCompleted, listMoleculeIds, readMoleculeFiles } from './io.js';
import { foldFiles, reconcileMolecule } from './reconcile.js';
import type { MoleculeState, Transition } from './types.js';

/** True when molecule `waiter` waits for `other`: `after = other`, or a molecule gate naming it. */
export function waitsFor(state: MoleculeState, other: string): boolean {
  if (state.meta?.after === other) return true;
  return (state.formula?.steps ?? []).some(
    (s) => s.gate?.type === 'molecule' && (s.gate as MoleculeGate).molecule === other,
  );
}

/**
 * Reconciles the molecules that wait for any of `completed` (lock held), and, when that
 * completes them too, the ones waiting for those: a chain settles in one command.
 */
export async function reconcileWaiting(
  root: string,
  completed: string[],
  ctx: { now: Date; config: GastownConfig },
): Promise<Transition[]> {
  const out: Transition[] = [];
  const queue = [...completed];
  const visited = new Set(queue);
  const moleculeStatus = fileMoleculeStatus(root);
  while (queue.length > 0) {
    const other = queue.shift() as string;
    for (const id of listMoleculeIds(root)) {
      if (visited.has(id) || isMoleculeCompleted(root, id)) continue;
      const dir = join(moleculesDir(root), id);
      // Cheap filter before folding: the id must appear in the metadata or the frozen formula.
      const mentions = [MOLECULE_FILE, FORMULA_FILE].some((f) => {
        try {
          return readSmallFile(join(dir, f)).includes(other);
        } catch {
          return false;
        }
      });
      if (!mentions) continue;
      const files = readMoleculeFiles(root, id);
      if (!waitsFor(foldFiles(id, files), other)) continue;
      const r = await reconcileMolecule(
        id,
        { root, now: ctx.now, config: ctx.config, moleculeStatus },
        files,
      );
      out.push(...r.transitions);
      if (r.plan.status === 'completed') {
        visited.add(id);
        queue.push(id);
      }
    }
  }
  return out;
}
