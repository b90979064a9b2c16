// `.beads/.cache/convoys.json`: derived, delete any time. Two things a convoy command would
// otherwise recompute for every molecule on every run:
// - each molecule's `convoy` and `after`, from its molecule.toml, kept with the file's stat
//   (device, inode, ctime, size): every rewrite is a rename or a checkout, a new inode;
// - each member's view (state, attempts, pass rate, checkpoint), keyed by the molecule folder's
//   content key (store/cache.ts), the config and plugins, and its `after` molecule's state; only
//   for a plan that depends on nothing but those files and not on the time (no recheck due).
//   With the key, the stats of every path the key was read from (store/cache.ts Watched), taken
//   before each listing and read: while each is the same, so is the key, and `convoy show`
//   answers from here without listing, reading or hashing anything (read.ts cachedConvoyView).
import { readCacheJson, writeCacheJson } from '../store/cache.js';
import type { MemberInfo } from './plan.js';

export const CONVOY_CACHE_VERSION = 3;

export interface ConvoyInfoEntry {
  key: string;
  recheckAt?: number;
  info: MemberInfo;
  /** What the key was salted with (engine/gates.ts saltOf) and the `after` molecule's state then. */
  salt?: string;
  afterState?: string;
  /** The watched paths (relative to the molecule folder) and the stamp over their stats. */
  watch?: { paths: string[]; stamp: string };
}

export interface ConvoyCacheFile {
  v: number;
  /** The config file's stamp and the hash of the bytes read after it was taken. */
  config?: { stamp: string; hash: string };
  members: Record<string, { stamp: string; convoy?: string; after?: string }>;
  infos: Record<string, ConvoyInfoEntry>;
}

export function readConvoyCache(root: string): { data: ConvoyCacheFile; text?: string } {
  return readCacheJson<ConvoyCacheFile>(
    root,
    'convoys.json',
    (d) => d.v === CONVOY_CACHE_VERSION && !!d.members && !!d.infos,
    () => ({ v: CONVOY_CACHE_VERSION, members: Object.create(null), infos: Object.create(null) }),
  );
}

/** Writes the cache when it changed; a failure costs only time next run. */
export function writeConvoyCache(root: string, data: ConvoyCacheFile, previous?: string): void {
  writeCacheJson(root, 'convoys.json', data, previous);
}
