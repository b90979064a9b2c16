// Gathering for `gastown report` (and evidence): the engine's status of each molecule, its
// pending checkpoints and recent events, and what a range of commits moves.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decisionIn } from '../checkpoint/authors.js';
import { listMoleculeIds, moleculeRelDir } from '../engine/io.js';
import { moleculeStatus } from '../engine/molecules.js';
import { GastownError } from '../errors.js';
import { readIfExists } from '../store/atomic.js';
import { MOLECULES_PREFIX, mergeBase, moleculeOfPath, shallowNote, stateCommits } from './history.js';
import { type MoleculeReport, type Moved, pendingCheckpoints, type Report } from './report.js';
import { relInMolecule } from './rules.js';
import { moleculeTimeline } from './timeline.js';

const RECENT = 10;

export async function collectReport(
  root: string,
  opts: { molecule?: string; base?: string; now: Date },
): Promise<Report> {
  const notes: string[] = [];
  const shallow = shallowNote(root);
  if (shallow) notes.push(shallow);
  let moved: Moved[] | undefined;
  let base: string | undefined;
  if (opts.base) {
    base = await mergeBase(root, opts.base);
    moved = [];
    for (const c of await stateCommits(root, { since: base, paths: [MOLECULES_PREFIX] }))
      for (const ch of c.changes) {
        const molecule = moleculeOfPath(ch.file);
        if (!molecule || ch.status !== 'A') continue;
        if (opts.molecule && molecule !== opts.molecule) continue;
        const rel = relInMolecule(ch.file);
        const ev = /^events\/(.+)\.(\d+)\.([a-z-]+)\.toml$/.exec(rel);
        const mol = /^events\/molecule\.([a-z-]+)\.toml$/.exec(rel);
        if (ev)
          moved.push({
            molecule,
            step: ev[1] as string,
            attempt: Number(ev[2]),
            kind: ev[3] as string,
            commit: c.sha,
          });
        else if (mol) moved.push({ molecule, kind: mol[1] as string, commit: c.sha });
      }
  }
  let ids: string[];
  if (opts.molecule) {
    if (!existsSync(join(root, moleculeRelDir(opts.molecule))))
      throw new GastownError('report.unknown', `report: no molecule ${opts.molecule} in .beads/molecules/`);
    ids = [opts.molecule];
  } else if (moved)
    ids = [...new Set(moved.map((m) => m.molecule))].filter((id) => listMoleculeIds(root).includes(id));
  else ids = listMoleculeIds(root);
  const molecules: MoleculeReport[] = [];
  for (const id of ids.sort()) {
    const status = await moleculeStatus(root, id, opts.now);
    const dir = moleculeRelDir(id);
    const pending = pendingCheckpoints(status, dir, (rel) => decisionIn(readIfExists(join(root, dir, rel))));
    const t = await moleculeTimeline(root, id);
    const recent = t.entries
      .filter((e) => e.kind !== 'output' && e.kind !== 'other')
      .slice(-RECENT)
      .reverse();
    molecules.push({ status, pending, recent });
  }
  return { ...(base ? { base } : {}), molecules, ...(moved ? { moved } : {}), notes };
}
