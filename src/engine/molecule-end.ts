// Ending a molecule: cancel it (a fact), squash a completed one to a digest, burn its folder.
import { rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, GastownError } from '../errors.js';
import { createFileExclusive, readSmallFile } from '../store/atomic.js';
import { loadConfig } from '../store/config.js';
import { assertMoleculeId } from '../store/ids.js';
import { DIGEST_FILE, EVENTS, findRoot, MOLECULE_FILE, moleculesDir } from '../store/layout.js';
import { checkBeadsPath } from '../store/links.js';
import { withLock } from '../store/lock.js';
import { stringifyToml } from '../store/toml.js';
import { applyEffects } from './apply.js';
import { isMoleculeCompleted, listMoleculeIds, moleculeExists, moleculeRelDir } from './io.js';
import { loadMolecule, throwIfUnusable } from './molecule-load.js';
import type { Transition } from './types.js';
import { judgeMolecule } from './verdict.js';

export interface CancelResult {
  id: string;
  /** False when it was cancelled already (nothing written). */
  cancelled: boolean;
  written: string[];
  transitions: Transition[];
}

/**
 * Records `events/molecule.cancelled.toml` (who and why). The planner never advances a cancelled
 * molecule again; a completed one cannot be cancelled. Cancelling twice is a no-op.
 */
export async function cancelMolecule(
  rootOrCwd: string,
  id: string,
  opts: { now: Date; reason?: string; as?: string; lockWaitMs?: number },
): Promise<CancelResult> {
  const root = findRoot(rootOrCwd);
  assertMoleculeId(id);
  return withLock(root, opts.lockWaitMs, async () => {
    const config = loadConfig(root);
    const { state, plan } = await loadMolecule(root, id, config, opts.now);
    if (state.errors.length > 0) throwIfUnusable(state);
    if (state.facts.cancelled) return { id, cancelled: false, written: [], transitions: [] };
    if (plan.status === 'completed')
      throw new GastownError('molecule.state', `molecule ${id} is completed; there is nothing to cancel`);
    const why = opts.reason ? `: ${opts.reason}` : '';
    const applied = await applyEffects(
      [
        {
          type: 'transition',
          molecule: id,
          fact: {
            kind: 'cancelled',
            extra: {},
            ...(opts.as !== undefined ? { by: opts.as } : {}),
            ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
          },
          summary: `molecule ${id} cancelled${opts.as ? ` by ${opts.as}` : ''}${why}`,
        },
      ],
      { root, now: opts.now, config },
    );
    const problem = applied.problems[0];
    if (problem)
      throw new GastownError('molecule.conflict', problem.message, {
        location: problem.file ? { file: problem.file } : {},
      });
    return { id, cancelled: true, written: applied.written, transitions: applied.transitions };
  });
}

/**
 * Replaces the event files of a completed molecule with one `digest.toml` (history stays in
 * git). The digest is written first, so a crash in between leaves a readable folder.
 */
export async function squashMolecule(
  rootOrCwd: string,
  id: string,
  opts: { now: Date; lockWaitMs?: number },
): Promise<{ written: string[]; removed: string[] }> {
  const root = findRoot(rootOrCwd);
  assertMoleculeId(id);
  return withLock(root, opts.lockWaitMs, async () => {
    if (!moleculeExists(root, id))
      throw new GastownError('molecule.unknown', `no molecule ${id} (looked in ${moleculeRelDir(id)})`);
    // Judged as status judges it: a digest would hide the facts an audit finds unbacked.
    const { state, plan } = await judgeMolecule(id, { root, config: loadConfig(root), now: opts.now });
    throwIfUnusable(state);
    const unbacked = plan.problems?.[0];
    if (plan.status === 'invalid' && unbacked)
      throw new GastownError('molecule.invalid', `molecule ${id} is invalid: ${unbacked.message}`, {
        location: { file: unbacked.file },
      });
    if (plan.status !== 'completed')
      throw new GastownError(
        'molecule.state',
        `molecule ${id} is ${plan.status}; only a completed molecule can be squashed`,
      );
    const dir = moleculeRelDir(id);
    const written: string[] = [];
    if (!state.digest) {
      const digest = {
        id,
        state: 'completed',
        steps: state.steps.map((s) => ({
          id: s.id,
          attempt: s.attempt,
          state: s.status,
          ...(s.facts.ready?.assignee ? { assignee: s.facts.ready.assignee } : {}),
          ...((s.facts.done ?? s.facts.started)?.by ? { by: (s.facts.done ?? s.facts.started)?.by } : {}),
        })),
      };
      const outcome = createFileExclusive(
        checkBeadsPath(root, join(moleculesDir(root), id, DIGEST_FILE)),
        stringifyToml(digest, ['id', 'state']),
      );
      if (outcome === 'conflict')
        throw new GastownError('molecule.conflict', `${dir}/${DIGEST_FILE} exists with other content`);
      if (outcome === 'written') written.push(`${dir}/${DIGEST_FILE}`);
    }
    const removed: string[] = [];
    const events = checkBeadsPath(root, join(moleculesDir(root), id, EVENTS), { self: true });
    for (const path of state.files.keys()) {
      if (!path.startsWith(`${EVENTS}/`)) continue;
      unlinkSync(join(moleculesDir(root), id, path));
      removed.push(`${dir}/${path}`);
    }
    rmSync(events, { recursive: true, force: true });
    return { written, removed };
  });
}

/** Removes a molecule's folder (its history stays in git). */
export async function burnMolecule(
  rootOrCwd: string,
  id: string,
  opts: { lockWaitMs?: number } = {},
): Promise<{ removed: string }> {
  const root = findRoot(rootOrCwd);
  assertMoleculeId(id);
  return withLock(root, opts.lockWaitMs, async () => {
    if (!moleculeExists(root, id)) throw new GastownError('molecule.unknown', `no molecule ${id}`);
    const waiting = listMoleculeIds(root).filter((other) => {
      if (other === id) return false;
      try {
        const meta = readSmallFile(join(moleculesDir(root), other, MOLECULE_FILE));
        return new RegExp(`^after\\s*=\\s*"${id}"`, 'm').test(meta) && !isMoleculeCompleted(root, other);
      } catch {
        return false;
      }
    });
    if (waiting.length > 0) {
      throw new GastownError(
        'molecule.in-use',
        `molecule ${id} is awaited by ${waiting.join(', ')} (--after); burn those first`,
        { exitCode: ExitCode.failure },
      );
    }
    // A link in the molecule's place is removed itself; what it points to is never touched.
    rmSync(checkBeadsPath(root, join(moleculesDir(root), id)), { recursive: true, force: true });
    return { removed: moleculeRelDir(id) };
  });
}
