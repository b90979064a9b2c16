// Exact stats of a list of paths, for answers kept whole (patrol's head, a convoy's view): the
// device, inode and ctime of each path, as raw 64-bit floats, compared byte for byte with the
// ones an answer was kept with. One memcmp instead of a digest: hashing thousands of stats in a
// process too young for the JIT cost more than taking them. Take them before reading anything
// they vouch for, and keep an answer only when every ctime is older than the stamp window
// (store/cache.ts stampIsSettled): a change within one tick of the clock leaves ctime as it was.
import { type StampStat, statInto } from './stat.js';

const scratch: StampStat = { dev: 0, ino: 0, ctimeMs: 0, dir: false };

/**
 * The stats of `paths`, in order; a path that is not there counts as ctime -1 (no file has it:
 * ctime cannot be set from user space).
 */
export function exactStats(paths: readonly string[]): Buffer {
  const out = new Float64Array(paths.length * 3);
  for (let i = 0, j = 0; i < paths.length; i++, j += 3) {
    if (statInto(paths[i] as string, scratch)) {
      out[j] = scratch.dev;
      out[j + 1] = scratch.ino;
      out[j + 2] = scratch.ctimeMs;
    } else out[j + 2] = -1;
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** The newest ctime among stats made by exactStats. */
export function newestCtime(stats: Buffer): number {
  const f = new Float64Array(stats.buffer.slice(stats.byteOffset, stats.byteOffset + stats.length));
  let newest = 0;
  for (let i = 2; i < f.length; i += 3) if ((f[i] as number) > newest) newest = f[i] as number;
  return newest;
}
