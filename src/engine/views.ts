// What `molecule list` and `molecule current` read: each molecule's summary (summaries.ts) while
// its content key holds, else the molecule itself, judged as `molecule status` judges it; that
// judgement is recorded, so the next reader of an unchanged molecule pays one stat or listing.
// The engine (fold, plan, the verdict) loads only when a molecule must be judged: a warm reader
// whose every molecule is answered from its summary never loads it (scripts/build.mjs, `readers`).
import { configStamp, type MoleculeView, stampWindow } from '../store/cache.js';
import { loadConfig } from '../store/config.js';
import type { JournalAnswer } from '../store/journal.js';
import { findRoot } from '../store/layout.js';
import { fileMoleculeStatus, listMoleculeIds } from './io.js';
import { openSummaries } from './summaries.js';
import type { MoleculeState, MoleculeStatus, PlanResult } from './types.js';

/** One molecule as a reader sees it: from its summary (`view`), or judged in full (`judged`). */
export type MoleculeLook =
  | {
      id: string;
      state: MoleculeStatus;
      done: number;
      total: number;
      view?: MoleculeView;
      judged?: undefined;
    }
  | { id: string; judged: { state: MoleculeState; plan: PlanResult }; view?: undefined };

/**
 * Every molecule (or those `only` picks), in id order, one at a time: a molecule answered from
 * its summary is yielded as is, one that must be judged in full as a promise of its look, which
 * the caller awaits before asking for the next (a warm reader over 10,000 molecules then awaits
 * nothing). A molecule judged in full (its files, its plan) is let go once the caller has taken
 * what it needs, so a cold reader holds one molecule's files, not all of them. `enough(state)`
 * says when the state alone answers the caller (`current` needs nothing more of a completed
 * molecule): a summary without a view then suffices. The summaries are saved once every molecule
 * was looked at. `journal`: the change journal's answer to a sync made before the call.
 */
export function* lookAtMolecules(
  rootOrCwd: string,
  now: Date,
  enough: (state: MoleculeStatus) => boolean = () => false,
  only?: (id: string) => boolean,
  journal?: JournalAnswer,
): Generator<MoleculeLook | Promise<MoleculeLook>> {
  const root = findRoot(rootOrCwd);
  // Before any stat of this run, as advance takes it (store/cache.ts stampIsSettled).
  const runStartMs = Date.now();
  const notFolders = new Map<string, string>();
  const all = listMoleculeIds(root, notFolders);
  // `only` picks some: the others' summaries are kept as they are.
  const ids = only ? all.filter(only) : all;
  if (ids.length === 0) return;
  const stampWindowMs = stampWindow();
  const stamped = configStamp(root, runStartMs, stampWindowMs);
  const config = loadConfig(root);
  const opts = {
    ...(stampWindowMs === undefined ? {} : { stampWindowMs }),
    ...(only ? { molecules: ids } : {}),
  };
  const store = openSummaries(root, config, opts, { runStartMs, config: stamped, journal });
  const fromFiles = fileMoleculeStatus(root);
  const nowMs = now.getTime();
  const judge = async (id: string): Promise<MoleculeLook> => {
    const [{ judgeMolecule }, { stateProblems }] = await Promise.all([
      import('./verdict.js'),
      import('./reconcile.js'),
    ]);
    const { state, plan } = await judgeMolecule(id, { root, config, now });
    const after = state.meta?.after;
    store?.record(
      id,
      { state, plan, problems: stateProblems(state, plan) },
      after ? fromFiles(after) === 'completed' : undefined,
      true,
    );
    return { id, judged: { state, plan } };
  };
  for (const id of ids) {
    // A link in a molecule's place is never followed: judged (and reported) in full.
    const s = notFolders.has(id) ? undefined : store?.lookup(id, nowMs, fromFiles);
    if (s && (s.view || enough(s.state as MoleculeStatus))) {
      const look: MoleculeLook = { id, state: s.state as MoleculeStatus, done: s.done, total: s.total };
      if (s.view) look.view = s.view;
      yield look;
    } else yield judge(id);
  }
  store?.save();
}
