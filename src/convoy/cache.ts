// `.beads/.cache/convoys.json`: derived, delete any time. Two things a convoy command would
// otherwise recompute for every molecule on every run:
// - each molecule's `convoy` and `after`, from its molecule.toml, kept with the file's stat
//   (device, inode, ctime, size): every rewrite is a rename or a checkout, a new inode;
// - each member's view (state, attempts, pass rate, checkpoint), keyed by the molecule folder's
//   content key (store/cache.ts), the config and plugins, and its `after` molecule's state; only
//   for a plan that depends on nothing but those files and not on the time (no recheck due).
import { join } from 'node:path';
import { readIfExists, writeFileAtomic } from '../store/atomic.js';
import { cacheDir } from '../store/layout.js';
import { ensureCacheDir } from '../store/links.js';
import type { MemberInfo } from './plan.js';

export const CONVOY_CACHE_VERSION = 1;

export interface ConvoyCacheFile {
  v: number;
  members: Record<string, { stamp: string; convoy?: string; after?: string }>;
  infos: Record<string, { key: string; recheckAt?: number; info: MemberInfo }>;
}

const path = (root: string) => join(cacheDir(root), 'convoys.json');

export function readConvoyCache(root: string): { data: ConvoyCacheFile; text?: string } {
  const text = readIfExists(path(root));
  if (text !== undefined) {
    try {
      const data = JSON.parse(text) as ConvoyCacheFile;
      if (data.v === CONVOY_CACHE_VERSION && data.members && data.infos) return { data, text };
    } catch {
      /* torn or foreign: start over */
    }
  }
  return { data: { v: CONVOY_CACHE_VERSION, members: Object.create(null), infos: Object.create(null) } };
}

/** Writes the cache when it changed; a failure costs only time next run. */
export function writeConvoyCache(root: string, data: ConvoyCacheFile, previous?: string): void {
  const text = JSON.stringify(data);
  if (text === previous) return;
  try {
    ensureCacheDir(root);
    writeFileAtomic(path(root), text, { durable: false });
  } catch {
    /* a read-only checkout: nothing cached */
  }
}
