// The content-keyed cache under `.beads/.cache/` (derived data: delete it any time). A
// molecule's key is the set of its file names plus the bytes of its mutable files; never mtimes.
// A stamp (device, inode, ctime) may vouch that a folder is unchanged since its key was checked.
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  type Stats,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { gitDirOf } from '../git/head.js';
import { operationInProgress } from '../git/states.js';
import { hashHex } from '../hash.js';
import { commandEnv } from '../scope.js';
import { fileKind, isUnreadableStateError, readIfExists, readSmallFile, writeFileAtomic } from './atomic.js';
import type { JournalMark } from './journal.js';
import { CONFIG_FILE, cacheDir, DIGEST_FILE, EVENTS, FORMULA_FILE, MOLECULE_FILE } from './layout.js';
import { checkBeadsPath, ensureCacheDir } from './links.js';
import { type StampFields, type StampStat, stampStat, statInto } from './stat.js';

/**
 * Files whose name is the fact: written once, never rewritten (docs/state.md). Everything else
 * in a molecule folder (checkpoints people edit, outputs, reports) is keyed by its bytes.
 */
function isImmutable(rel: string): boolean {
  return rel.startsWith(`${EVENTS}/`) || rel === MOLECULE_FILE || rel === FORMULA_FILE || rel === DIGEST_FILE;
}

function fingerprintLine(rel: string, content: () => string): string {
  return isImmutable(rel) ? rel : `${rel} ${hashHex('sha1', content())}`;
}

/**
 * What a molecule's cache key covers. `all`: every file name plus the bytes of the mutable
 * files. `events`: the names in `events/` only, for molecules whose plan reads nothing else
 * (a completed molecule, or a formula with no gate, loop, on_complete or condition): one
 * readdir instead of two, and checkpoint/output edits cannot change their plan.
 */
export type KeyScope = 'all' | 'events';

/**
 * The lines a molecule folder's content key is made of, from the disk: file names, plus the
 * bytes of mutable files for scope `all`. One readdir per folder; no stat, no mtime.
 * Undefined if the folder (or, for `events`, its events folder) is gone. The listing's types
 * decide: a symlink, fifo or device is never followed or read, and it and a file over the size
 * limit get a line no key recorded from readable files has, so the molecule is reconciled and
 * its problem reported.
 */
export function moleculeKeyLines(
  dir: string,
  scope: KeyScope = 'all',
  watched?: Watched,
): string[] | undefined {
  const lines: string[] = [];
  // String concatenation, not path.join: this runs for every file of every molecule.
  const walk = (abs: string, prefix: string): void => {
    // Stat first, list or read second: a change after the stat leaves a stamp that will not match.
    if (watched) watchOne(watched, abs, prefix);
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const name = e.name;
      if (name.charCodeAt(0) === 46 /* . */) continue;
      const rel = prefix ? `${prefix}/${name}` : name;
      // A folder inside events/ is no fact: fold reports it, so the key marks it like a link.
      if (e.isDirectory() && prefix !== EVENTS) walk(`${abs}/${name}`, rel);
      else if (!e.isFile()) lines.push(`${rel} !${fileKind(e)}`);
      else {
        try {
          if (watched && !isImmutable(rel)) watchOne(watched, `${abs}/${name}`, rel);
          lines.push(fingerprintLine(rel, () => readSmallFile(`${abs}/${name}`)));
        } catch (err) {
          if (!isUnreadableStateError(err)) throw err;
          lines.push(`${rel} !unreadable`);
        }
      }
    }
  };
  try {
    if (scope === 'events') walk(`${dir}/${EVENTS}`, EVENTS);
    else walk(dir, '');
  } catch {
    return undefined;
  }
  return lines;
}

/**
 * `hashKey(moleculeKeyLines(dir, 'events'), salt)` with one readdir and no string per file, for
 * the common folder of fact files only (every name has a dot and none starts with one): the no-op
 * advance computes this for every molecule. Undefined when the folder holds anything else (use
 * moleculeKeyLines then) or is gone.
 */
export function eventsKey(dir: string, salt: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(`${dir}/${EVENTS}`);
  } catch {
    return undefined;
  }
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (name.charCodeAt(0) === 46 /* . */ || !name.includes('.')) return undefined;
  }
  // Sorting the names sorts `events/<name>` the same way: they share the prefix.
  const text = names.length === 0 ? '' : `${EVENTS}/${names.sort().join(`\n${EVENTS}/`)}`;
  return hashHex('sha1', `${text}\n|${salt}`);
}

/**
 * How long after a folder last changed its stamp is not trusted: a second change within one tick
 * of the file system's clock leaves ctime as it was (git's "racily clean" problem), so a stamp is
 * recorded only for a folder that last changed well before the run that stats it began.
 */
export const STAMP_WINDOW_MS = 2000;

/** `GASTOWN_STAMP_WINDOW_MS` as advance reads it (tests set 0); undefined: the default. */
export function stampWindow(env: NodeJS.ProcessEnv = commandEnv()): number | undefined {
  const ms = Number.parseInt(env.GASTOWN_STAMP_WINDOW_MS ?? '', 10);
  return Number.isInteger(ms) && ms >= 0 ? ms : undefined;
}

/**
 * A folder's stat, reduced to what says "not touched since": device, inode and ctime. ctime,
 * not mtime: user space cannot set it, and adding, removing or renaming an entry updates it; a
 * folder replaced by a copy has another inode. The stamp never stands for content: it only lets
 * a run skip recomputing a content key that was already computed from this very folder.
 */
export function statStamp(st: StampFields): string {
  return `${st.dev}:${st.ino}:${st.ctimeMs}`;
}

/**
 * A molecule's stamp as its summary records it: its `events/` folder's statStamp and whether the
 * molecule it waits for (`after`) had completed (empty when it waits for none). Advance records
 * it and the quiet check compares with it, so both build it here.
 */
export function moleculeStamp(events: StampFields, afterCompleted: boolean | undefined): string {
  return `${statStamp(events)}|${afterCompleted === undefined ? '' : String(afterCompleted)}`;
}

/**
 * What a whole-folder key (scope `all`) was computed from, as stats taken before each listing
 * and read: the molecule folder (`''`), every folder under it and every mutable file, by path
 * relative to the molecule folder. While each of these stats is the same, so is the key: a new,
 * removed or renamed entry changes its folder's ctime, and writing a file in place changes the
 * file's. Immutable files (facts, molecule.toml, the frozen formula) are keyed by name only, as
 * in the key itself.
 */
export interface Watched {
  paths: string[];
  /** The digest of every path's device, inode and ctime so far (StatDigest). */
  digest: StatDigest;
  /** The newest ctime among them (stampIsSettled). */
  newestMs: number;
  /** A path could not be stat'ed (gone since the listing): nothing is recorded. */
  broken: boolean;
}

export const newWatched = (): Watched => ({
  paths: [],
  digest: new StatDigest(),
  newestMs: 0,
  broken: false,
});

/** Adds path `rel`, with its stat taken before it was listed or read, to `w`. */
export function watchStat(w: Watched, rel: string, st: StampFields): void {
  w.paths.push(rel);
  w.digest.add(st);
  if (st.ctimeMs > w.newestMs) w.newestMs = st.ctimeMs;
}

const scratch: StampStat = { dev: 0, ino: 0, ctimeMs: 0, dir: false };

function watchOne(w: Watched, abs: string, rel: string): void {
  if (statInto(abs, scratch)) watchStat(w, rel, scratch);
  else w.broken = true;
}

const triple = new Float64Array(3);
const tripleWords = new Uint32Array(triple.buffer);

/**
 * A 64-bit digest of a sequence of stats (device, inode and ctime, each as the bits of its
 * number), in two murmur3-style lanes. Not node:crypto: loading it and hashing per molecule was a
 * tenth of a warm `molecule list`. A stamp only has to tell the stats it was taken over from
 * other stats of the same paths, which the kernel sets (ctime cannot be set from user space), so
 * an accidental match is all it must rule out; the key it vouches for stays a sha1 of content.
 */
export class StatDigest {
  private a = 0x9747b28c;
  private b = 0x2545f491;
  private n = 0;

  /**
   * Mixes the bits of device, inode and ctime (two 32-bit words each) in one call, the lanes in
   * locals: this runs for each of the ~4,100 stats of a warm reader at 1,000 molecules, before the JIT.
   */
  add(st: StampFields): void {
    triple[0] = st.dev;
    triple[1] = st.ino;
    triple[2] = st.ctimeMs;
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < 6; i++) {
      let k = Math.imul(tripleWords[i] as number, 0xcc9e2d51);
      k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
      a ^= k;
      a = (a << 13) | (a >>> 19);
      a = (Math.imul(a, 5) + 0xe6546b64) | 0;
      b ^= Math.imul((k << 11) | (k >>> 21), 0x85ebca6b);
      b = (b << 17) | (b >>> 15);
      b = (Math.imul(b, 9) + 0x38495ab5) | 0;
    }
    this.a = a;
    this.b = b;
    this.n += 6;
  }

  /** The digest with whether the `after` molecule had completed, as 16 hex digits. */
  finish(afterCompleted: boolean | undefined): string {
    const { a: a0, b: b0, n: n0 } = this;
    this.word(afterCompleted === undefined ? 2 : afterCompleted ? 1 : 0);
    let a = this.a ^ this.n;
    let b = this.b ^ this.n;
    a = fmix(a + Math.imul(b, 0x27d4eb2d));
    b = fmix(b + Math.imul(a, 0x165667b1));
    this.a = a0;
    this.b = b0;
    this.n = n0;
    return hex8(a) + hex8(b);
  }

  private word(w: number): void {
    let k = Math.imul(w, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    let a = this.a ^ k;
    a = (a << 13) | (a >>> 19);
    this.a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let b = this.b ^ Math.imul((k << 11) | (k >>> 21), 0x85ebca6b);
    b = (b << 17) | (b >>> 15);
    this.b = (Math.imul(b, 9) + 0x38495ab5) | 0;
    this.n++;
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/**
 * The stats of every folder and file under folder `dir` (hidden ones too), each folder's taken
 * before it is listed: what `molecule status` keys its kept answer on, since it reads every file,
 * facts included, and reports a problem in any of them (engine/status-cache.ts). `broken` when a
 * path could not be listed or stat'ed.
 */
export function watchTree(dir: string): Watched {
  const w = newWatched();
  const walk = (abs: string, rel: string): void => {
    watchOne(w, abs, rel);
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(`${abs}/${e.name}`, path);
      else watchOne(w, `${abs}/${e.name}`, path);
    }
  };
  try {
    walk(dir, '');
  } catch {
    w.broken = true;
  }
  return w;
}

/**
 * The stamp of a watched whole-folder key when its stats were taken before the run's window
 * (stampIsSettled), else undefined.
 */
export function settledWatchStamp(
  w: Watched,
  afterCompleted: boolean | undefined,
  runStartMs: number,
  windowMs = STAMP_WINDOW_MS,
): string | undefined {
  if (w.broken || w.paths.length === 0 || w.newestMs > runStartMs - windowMs) return undefined;
  return w.digest.finish(afterCompleted);
}

/**
 * The stamp of molecule folder `dir` now, over the paths a summary recorded: one stat each, no
 * listing and no read. Undefined when one is gone.
 */
export function watchStampNow(
  dir: string,
  paths: readonly string[],
  afterCompleted: boolean | undefined,
): string | undefined {
  const digest = new StatDigest();
  const prefix = `${dir}/`;
  for (let i = 0; i < paths.length; i++) {
    const rel = paths[i] as string;
    if (!statInto(rel === '' ? dir : prefix + rel, scratch)) return undefined;
    digest.add(scratch);
  }
  return digest.finish(afterCompleted);
}

/** A folder's stamp fields, or undefined if it is gone or not a folder. */
export function statFolder(path: string): StampStat | undefined {
  const st = stampStat(path);
  return st?.dir ? st : undefined;
}

/**
 * The config file's stamp (`absent` when there is none), taken before it is read: while it
 * holds, the config hash recorded with it does too. Undefined when it changed too recently to
 * vouch for anything (see stampIsSettled).
 */
export function configStamp(root: string, runStartMs?: number, windowMs?: number): string | undefined {
  const st = statSync(join(root, CONFIG_FILE), { throwIfNoEntry: false });
  if (st === undefined) return 'absent';
  if (runStartMs !== undefined && !stampIsSettled(st, runStartMs, windowMs)) return undefined;
  return `${statStamp(st)}:${st.size}`;
}

/** True when a stat taken after `runStartMs` may be recorded as a stamp (see STAMP_WINDOW_MS). */
export function stampIsSettled(
  st: Pick<Stats, 'ctimeMs'>,
  runStartMs: number,
  windowMs = STAMP_WINDOW_MS,
): boolean {
  return st.ctimeMs <= runStartMs - windowMs;
}

/** The same lines from a molecule's files in memory (path relative to its folder → content). */
export function moleculeKeyLinesOf(files: ReadonlyMap<string, string>, scope: KeyScope = 'all'): string[] {
  const lines: string[] = [];
  // Keys, then get only for mutable files: a lazily filled map is not read for names.
  for (const rel of files.keys()) {
    if (scope === 'events' && !rel.startsWith(`${EVENTS}/`)) continue;
    lines.push(fingerprintLine(rel, () => files.get(rel) as string));
  }
  return lines;
}

/** A key from key lines plus whatever else the plan depended on (`salt`): one sha1. */
export function hashKey(lines: string[], salt: string): string {
  lines.sort();
  return hashHex('sha1', `${lines.join('\n')}\n|${salt}`);
}

/** A molecule folder's content key from the disk (scope `all`); undefined if it is gone. */
export function moleculeFingerprint(dir: string): string | undefined {
  const lines = moleculeKeyLines(dir);
  return lines && hashKey(lines, '');
}

/** The same key from a molecule's files in memory. */
export function moleculeKeyOf(files: ReadonlyMap<string, string>): string {
  return hashKey(moleculeKeyLinesOf(files), '');
}

/**
 * True while git is in the middle of a merge, rebase, cherry-pick or revert: files may hold
 * conflict markers under unchanged names, so nothing is skipped then.
 */
export function gitOperationInProgress(root: string): boolean {
  return operationInProgress(gitDirOf(root) ?? join(root, '.git')) !== undefined;
}

/** What `molecule list` and `molecule current` show of a molecule (engine/summaries.ts viewOf). */
export interface MoleculeView {
  formula: string;
  blocked?: string;
  convoy?: string;
  /** Steps in progress or ready, in formula order (a molecule that can move only). */
  work?: {
    step: string;
    title: string;
    state: 'ready' | 'in_progress';
    attempt: number;
    assignee?: string;
    /** The step's gate type, if it has one (`prime` leaves gated steps to people and the engine). */
    gate?: string;
  }[];
}

export interface MoleculeSummary {
  /** Content key (see moleculeKeys) combined with everything else the plan depended on. */
  key: string;
  state: string;
  done: number;
  total: number;
  /** The plan was empty: reconcile has nothing to do while the key holds. */
  quiet: boolean;
  /** ms since epoch after which the plan may change by itself. */
  recheckAt?: number;
  /** The molecule it waits for (`after`); its completion is part of the key. */
  after?: string;
  /** The key covers `events/` names only (see KeyScope); absent: the whole folder. */
  events?: true;
  /**
   * statStamp of `events/` taken before the names the key was checked against were listed,
   * plus `|` and whether `after` had completed: while the folder's stat and that answer are
   * the same, the key is too. For a whole-folder key, the stamp is over the stats of every
   * path in `watch` instead (Watched): a file edited in place changes its own ctime only.
   */
  stamp?: string;
  /** With a whole-folder key's stamp: the paths it was taken over (Watched.paths). */
  watch?: string[];
  /** What readers show; absent where only advance's verdict is known (a settled molecule). */
  view?: MoleculeView;
}

/**
 * What the whole set of summaries says to the quiet check, written ahead of the entries so a no-op
 * `advance` told by the change journal that nothing changed reads only the file's head
 * (engine/quiet.ts). Present only when every summary is quiet, stamped and waits for no other
 * molecule.
 */
export interface QuietHead {
  /** Their ids, sorted, one a line: the quiet check compares the listing of molecules/ with it. */
  ids: string;
  /** The earliest `recheckAt` among them, when any has one. */
  next?: number;
}

export interface SummaryFile {
  version: number;
  /** The change journal's mark (store/journal.ts): first, so a reader finds it in a few bytes. */
  journal?: JournalMark;
  /** What every key was salted with (config, plugins): stamps count only while it holds. */
  salt?: string;
  /** The config file's stamp and the hash of the bytes read after it was taken (quiet.ts). */
  config?: { stamp: string; hash: string };
  quiet?: QuietHead;
  /** Last: everything above it is the file's head (readSummaryHead). */
  molecules: Record<string, MoleculeSummary>;
}

/** The summaries' file as written: the head's fields in their order, then the entries. */
export function summaryFile(
  head: Omit<SummaryFile, 'molecules' | 'quiet'>,
  molecules: SummaryFile['molecules'],
  quiet: QuietHead | undefined,
): SummaryFile {
  const { version, journal, salt, config } = head;
  return {
    version,
    ...(journal ? { journal } : {}),
    ...(salt !== undefined ? { salt } : {}),
    ...(config ? { config } : {}),
    ...(quiet ? { quiet } : {}),
    molecules,
  };
}

/**
 * The QuietHead of the summaries of `ids`, or undefined when one is not quiet, has no stamp or
 * waits for another molecule: the quiet check then reads every entry. Sorts `ids`, unless
 * `joined` is already their QuietHead.ids.
 */
export function quietHeadOf(
  ids: string[],
  get: (id: string) => MoleculeSummary | undefined,
  joined?: string,
): QuietHead | undefined {
  let next: number | undefined;
  for (const id of ids) {
    const s = get(id);
    if (!s?.quiet || s.stamp === undefined || !(s.events || s.watch) || s.after !== undefined)
      return undefined;
    if (s.recheckAt !== undefined && (next === undefined || s.recheckAt < next)) next = s.recheckAt;
  }
  return { ids: joined ?? ids.sort().join('\n'), ...(next !== undefined ? { next } : {}) };
}

export const SUMMARY_VERSION = 6;
const SUMMARY_FILE = 'summaries.json';
// Where the head ends: a key no field of the head has, and no JSON string can hold unescaped.
const ENTRIES = Buffer.from(',"molecules":{');
const CHUNK = 65536;

/**
 * The summaries' head (SummaryFile without its entries) from the first bytes of the file, without
 * parsing the entries; undefined when the file is missing, of another version or layout, or its
 * head is not where and what the writer puts.
 */
export function readSummaryHead(root: string): Omit<SummaryFile, 'molecules'> | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(join(cacheDir(root), SUMMARY_FILE), 'r');
    let buf = Buffer.allocUnsafe(CHUNK);
    let len = 0;
    let end = -1;
    for (;;) {
      if (len === buf.length) buf = Buffer.concat([buf, Buffer.allocUnsafe(buf.length)]);
      const n = readSync(fd, buf, len, buf.length - len, len);
      if (n === 0) return undefined;
      // The marker may straddle two reads.
      end = buf.subarray(0, len + n).indexOf(ENTRIES, Math.max(0, len - ENTRIES.length));
      len += n;
      if (end >= 0) break;
    }
    const head = JSON.parse(`${buf.toString('utf8', 0, end)}}`) as Omit<SummaryFile, 'molecules'>;
    if (head.version !== SUMMARY_VERSION) return undefined;
    const q = head.quiet;
    if (q !== undefined && typeof q.ids !== 'string') return undefined;
    if (q?.next !== undefined && typeof q.next !== 'number') return undefined;
    return head;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Where the summaries are. */
export function summariesPath(root: string): string {
  return join(cacheDir(root), SUMMARY_FILE);
}

export function readSummaries(root: string): { data: SummaryFile; text?: string } {
  let text: string | undefined;
  try {
    text = readFileSync(join(cacheDir(root), SUMMARY_FILE), 'utf8');
    const data = JSON.parse(text) as SummaryFile;
    if (data.version === SUMMARY_VERSION && typeof data.molecules === 'object' && data.molecules !== null)
      return { data, text };
  } catch {
    /* missing or unreadable: start empty */
  }
  return { data: { version: SUMMARY_VERSION, molecules: {} }, ...(text !== undefined ? { text } : {}) };
}

/**
 * A derived JSON file in `.beads/.cache/`: its data when `valid` accepts it, else `empty()` (no
 * file, a torn one, another version), with the text read so an unchanged save writes nothing.
 */
export function readCacheJson<T>(
  root: string,
  name: string,
  valid: (data: T) => boolean,
  empty: () => T,
): { data: T; text?: string } {
  const text = readIfExists(join(cacheDir(root), name));
  if (text !== undefined) {
    try {
      const data = JSON.parse(text) as T;
      if (data && valid(data)) return { data, text };
    } catch {
      /* torn or foreign: start over */
    }
  }
  return { data: empty() };
}

/** Saves a derived JSON file unless it holds exactly this; a failure costs only time next run. */
export function writeCacheJson(root: string, name: string, data: unknown, previous?: string): void {
  const text = JSON.stringify(data);
  if (text === previous) return;
  try {
    ensureCacheDir(root);
    writeFileAtomic(join(cacheDir(root), name), text, { durable: false });
  } catch {
    /* a read-only checkout: nothing cached */
  }
}

/** A kept answer's file in `.beads/.cache/status/` (derived: deleted any time, never committed). */
export function statusCacheFile(root: string, name: string): string {
  return join(cacheDir(root), 'status', name);
}

/** Writes a kept answer's file (statusCacheFile); one that cannot be written costs time only. */
export function writeStatusCacheFile(root: string, file: string, text: string): void {
  try {
    ensureCacheDir(root);
    checkBeadsPath(root, file);
    mkdirSync(join(cacheDir(root), 'status'), { recursive: true });
    writeFileAtomic(file, text, { durable: false });
  } catch {
    /* a cache that cannot be written costs time only */
  }
}

/** Writes the summaries unless the file already holds exactly this (a no-op run writes nothing). */
export function writeSummaries(root: string, data: SummaryFile, previous?: string): void {
  writeSummaryText(root, JSON.stringify(data), previous);
}

/** writeSummaries of a text already made (a few entries replaced in the previous one). */
export function writeSummaryText(root: string, text: string, previous?: string): void {
  if (text === previous) return;
  ensureCacheDir(root);
  // Derived data: atomic (no reader sees half a file) but not fsynced; losing it costs time only.
  writeFileAtomic(join(cacheDir(root), SUMMARY_FILE), text, { durable: false });
}
