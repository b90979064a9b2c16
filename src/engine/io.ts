// The thin edge between the pure engine and the disk: reading a molecule folder, rendering and
// writing facts.
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempFilePid } from '../store/atomic.js';
import { isMoleculeId } from '../store/ids.js';
import {
  BEADS,
  DIGEST_FILE,
  MOLECULES,
  moleculeEventPath,
  moleculesDir,
  stepEventPath,
} from '../store/layout.js';
import { isProcessAlive } from '../store/lock.js';
import { stringifyToml } from '../store/toml.js';
import type { EventFact } from '../store/types.js';

export const moleculeRelDir = (id: string): string => `${BEADS}/${MOLECULES}/${id}`;

/** Ids of every molecule folder, sorted. Folders with names that are not ids are skipped. */
export function listMoleculeIds(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(moleculesDir(root));
  } catch {
    return [];
  }
  return names.filter(isMoleculeId).sort();
}

export function moleculeExists(root: string, id: string): boolean {
  return isMoleculeId(id) && existsSync(join(moleculesDir(root), id));
}

/** Completed is a recorded fact (or a digest), so another molecule can check it with two stats. */
export function isMoleculeCompleted(root: string, id: string): boolean {
  const dir = join(moleculesDir(root), id);
  return existsSync(join(dir, moleculeEventPath('completed'))) || existsSync(join(dir, DIGEST_FILE));
}

/**
 * Every file of a molecule folder by path relative to it. Temp files (a crashed writer's) are
 * skipped, and removed when their process is gone and `cleanTemp` is set.
 */
export function readMoleculeFiles(root: string, id: string, cleanTemp = false): Map<string, string> {
  const base = join(moleculesDir(root), id);
  const files = new Map<string, string>();
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const name = entry.name;
      if (name.startsWith('.')) {
        const pid = tempFilePid(name);
        if (cleanTemp && pid !== undefined && !isProcessAlive(pid)) {
          try {
            unlinkSync(join(dir, name));
          } catch {
            /* gone */
          }
        }
        continue;
      }
      const rel = prefix ? `${prefix}/${name}` : name;
      if (entry.isDirectory()) walk(join(dir, name), rel);
      else if (entry.isFile()) files.set(rel, readFileSync(join(dir, name), 'utf8'));
    }
  };
  walk(base, '');
  return files;
}

const EVENT_KEY_ORDER = ['step', 'attempt', 'kind', 'assignee', 'by', 'reason', 'cause', 'commit', 'output'];

export function eventPathOf(fact: EventFact): string {
  return fact.step !== undefined
    ? stepEventPath(fact.step, fact.attempt ?? 1, fact.kind)
    : moleculeEventPath(fact.kind);
}

/** The bytes of a fact: fixed key order, no time, no host, so equal facts are equal files. */
export function renderEvent(fact: EventFact): string {
  const { extra, ...fields } = fact;
  return stringifyToml({ ...extra, ...fields }, EVENT_KEY_ORDER);
}
