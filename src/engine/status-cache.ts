// `molecule status` (and `prime`'s step view) of a molecule nothing changed in: its last answer,
// kept in `.beads/.cache/status/<id>.json` (`<id>.step.<step>.json`; derived, delete any time) with
// what it was judged from, and shown again while all of that holds. Status reads every file of the molecule (facts included:
// it reports a hand edit inside one), asks git who committed checkpoints and decisions, and reads
// the config and other molecules' states; so the answer is kept with the stat of every folder and
// file of the molecule, HEAD, the config's stamp, the registered planners and each other
// molecule's state it asked for, and is shown only while each is the same, no git operation is in
// progress and its recheck time has not come. A plan that depends on more (`volatile`: a vote,
// a request not committed yet, a timer) is never kept.
import { isShallowClone, readHead, unbornBranch } from '../git/head.js';
import { readIfExists } from '../store/atomic.js';
import {
  configStamp,
  gitOperationInProgress,
  settledWatchStamp,
  stampWindow,
  statusCacheFile,
  watchStampNow,
  watchTree,
  writeStatusCacheFile,
} from '../store/cache.js';
import { isMoleculeId, isPathSegment } from '../store/ids.js';
import { moleculesDir } from '../store/layout.js';
import { VERSION } from '../version.js';
import { registrySignature } from './gates.js';
import { fileMoleculeStatus, moleculeFolderProblem } from './io.js';
import type { MoleculeStatus } from './types.js';

const FORMAT = 1;

interface Kept<T> {
  v: number;
  gastown: string;
  head: string;
  config: string;
  planners: string;
  /** Each other molecule the judgement asked about, with its state then (null: none). */
  others: Record<string, MoleculeStatus | null>;
  recheckAt?: number;
  /** The molecule folder's paths and the stamp over their stats (store/cache.ts Watched). */
  watch: string[];
  stamp: string;
  answer: T;
}

/** What is kept of a molecule: its status, or the view of one step (`step.<id>`). */
export type KeptKind = 'status' | `step.${string}`;

/** The file `kind` of molecule `id` is kept in; undefined for a name that is no id (nothing kept). */
function fileOf(root: string, id: string, kind: KeptKind): string | undefined {
  if (!isMoleculeId(id) || (kind !== 'status' && !isPathSegment(kind.slice('step.'.length))))
    return undefined;
  return statusCacheFile(root, kind === 'status' ? `${id}.json` : `${id}.${kind}.json`);
}

/**
 * HEAD's commit, when history is one this can key on (not shallow: a deepen changes it); before
 * the first commit, the branch HEAD names (git then has nothing to say, and a commit moves HEAD).
 */
function headOf(root: string): string | undefined {
  const head = readHead(root)?.sha;
  if (head === undefined) {
    const unborn = unbornBranch(root);
    return unborn === undefined ? undefined : `unborn ${unborn}`;
  }
  return isShallowClone(root) ? undefined : head;
}

/** What was kept of molecule `id` when nothing it was judged from changed, else undefined. */
export function keptAnswer<T>(root: string, id: string, kind: KeptKind, now: Date): T | undefined {
  const file = fileOf(root, id, kind);
  const text = file === undefined ? undefined : readIfExists(file);
  if (text === undefined) return undefined;
  let k: Kept<T>;
  try {
    k = JSON.parse(text) as Kept<T>;
  } catch {
    return undefined;
  }
  if (k.v !== FORMAT || k.gastown !== VERSION || !Array.isArray(k.watch)) return undefined;
  if (k.recheckAt !== undefined && now.getTime() >= k.recheckAt) return undefined;
  if (k.planners !== registrySignature() || configStamp(root) !== k.config) return undefined;
  if (gitOperationInProgress(root) || headOf(root) !== k.head) return undefined;
  const stateOf = fileMoleculeStatus(root);
  for (const [other, was] of Object.entries(k.others)) if ((stateOf(other) ?? null) !== was) return undefined;
  if (moleculeFolderProblem(root, id) !== undefined) return undefined;
  const dir = `${moleculesDir(root)}/${id}`;
  if (watchStampNow(dir, k.watch, undefined) !== k.stamp) return undefined;
  return k.answer;
}

/** What a judgement about to be made is keyed on, taken before it reads anything. */
export interface Keeper<T> {
  /** Reads other molecules' states as the judgement does, and records each answer. */
  moleculeStatus: (id: string) => MoleculeStatus | undefined;
  /** Keeps the answer judged (never for a volatile plan) when every stat was settled. */
  keep(answer: T, recheckAt: number | undefined): void;
}

/**
 * Takes the stats, HEAD and the config's stamp before molecule `id` is read and judged (a change
 * after a stat leaves a stamp that will not match). Undefined when nothing can be kept: no HEAD,
 * a shallow clone, a git operation in progress, a folder that is not one.
 */
export function beforeJudging<T>(root: string, id: string, kind: KeptKind): Keeper<T> | undefined {
  const runStartMs = Date.now();
  const window = stampWindow();
  const head = headOf(root);
  const config = configStamp(root, runStartMs, window);
  if (head === undefined || config === undefined || gitOperationInProgress(root)) return undefined;
  const file = fileOf(root, id, kind);
  if (file === undefined || moleculeFolderProblem(root, id) !== undefined) return undefined;
  const dir = `${moleculesDir(root)}/${id}`;
  const watched = watchTree(dir);
  const planners = registrySignature();
  const others: Record<string, MoleculeStatus | null> = {};
  const stateOf = fileMoleculeStatus(root);
  return {
    moleculeStatus: (other) => {
      const state = stateOf(other);
      others[other] = state ?? null;
      return state;
    },
    keep(answer, recheckAt) {
      const stamp = settledWatchStamp(watched, undefined, runStartMs, window);
      if (stamp === undefined) return;
      const kept: Kept<T> = {
        v: FORMAT,
        gastown: VERSION,
        head,
        config,
        planners,
        others,
        ...(recheckAt !== undefined ? { recheckAt } : {}),
        watch: watched.paths,
        stamp,
        answer,
      };
      const text = JSON.stringify(kept);
      if (readIfExists(file) !== text) writeStatusCacheFile(root, file, text);
    },
  };
}
