// The thin edge between the pure engine and the disk: reading a molecule folder, rendering and
// writing facts.
import { type Dirent, existsSync, lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  fileKind,
  isUnreadableStateError,
  notRegularMessage,
  readSharedFile,
  readSmallFile,
  tempFilePid,
} from '../store/atomic.js';
import { isMoleculeId } from '../store/ids.js';
import {
  BEADS,
  DIGEST_FILE,
  EVENTS,
  FORMULA_FILE,
  MOLECULE_FILE,
  MOLECULES,
  moleculeEventPath,
  moleculesDir,
  stepEventPath,
} from '../store/layout.js';
import { linkMessage } from '../store/links.js';
import { isProcessAlive } from '../store/lock.js';
import { stringifyToml } from '../store/toml.js';
import type { EventFact } from '../store/types.js';
import type { MoleculeStatus } from './types.js';

export const moleculeRelDir = (id: string): string => `${BEADS}/${MOLECULES}/${id}`;

/**
 * Ids of every molecule folder, sorted. Entries with names that are not ids are skipped. An
 * entry named like an id that is not a real folder (a symbolic link, a file) is listed too, so
 * it is reported; `notFolders`, when given, receives each with why (the listing's types, no stat).
 */
export function listMoleculeIds(root: string, notFolders?: Map<string, string>): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(moleculesDir(root), { withFileTypes: true });
  } catch {
    return [];
  }
  const ids: string[] = [];
  for (const e of entries) {
    if (!isMoleculeId(e.name)) continue;
    ids.push(e.name);
    if (notFolders && !e.isDirectory()) notFolders.set(e.name, folderMessage(e));
  }
  return ids.sort();
}

function folderMessage(e: Parameters<typeof fileKind>[0] & { isFile(): boolean }): string {
  return linkMessage(e.isFile() ? 'a file, not a folder' : fileKind(e));
}

/** Something is at the molecule's name (a folder, or a link or file that is reported). */
export function moleculeExists(root: string, id: string): boolean {
  return isMoleculeId(id) && lstatSync(join(moleculesDir(root), id), { throwIfNoEntry: false }) !== undefined;
}

/**
 * Why the molecule's entry is not a real folder (a symbolic link is never followed: its
 * molecule is invalid), undefined when it is one or there is none.
 */
export function moleculeFolderProblem(root: string, id: string): string | undefined {
  const st = lstatSync(`${moleculesDir(root)}/${id}`, { throwIfNoEntry: false });
  return st === undefined || st.isDirectory() ? undefined : folderMessage(st);
}

/**
 * The entries of a molecule's `events/` folder, undefined when it has none (a squashed or
 * broken molecule).
 */
export function listEvents(root: string, id: string): Dirent[] | undefined {
  try {
    return readdirSync(`${moleculesDir(root)}/${id}/${EVENTS}`, { withFileTypes: true });
  } catch {
    return undefined;
  }
}

/** Completed is a recorded fact (or a digest), so another molecule can check it with two stats. */
export function isMoleculeCompleted(root: string, id: string): boolean {
  // Concatenation, not path.join: advance asks this of every molecule it reconciles.
  const dir = `${moleculesDir(root)}/${id}/`;
  return existsSync(dir + COMPLETED_EVENT) || existsSync(dir + DIGEST_FILE);
}
const COMPLETED_EVENT = moleculeEventPath('completed');
export const COMPLETED_EVENT_NAME = COMPLETED_EVENT.slice(EVENTS.length + 1);

/**
 * A molecule's files as read from disk. A file that is not readable state (a symlink, fifo,
 * device or socket, or one over the size limit) is not in the map but in `unreadable`, with
 * why; fold reports each, so that molecule is invalid and the others are not disturbed.
 */
export class FolderFiles extends Map<string, string> {
  readonly unreadable = new Map<string, string>();
  /** Why the molecule's folder itself is unusable (a symbolic link): nothing in it was read. */
  folder?: string;
}

/**
 * A molecule's files where some contents are read from disk only when first asked for with
 * `get`. Iterating entries or values reads everything still pending, so a consumer that does
 * not know about laziness still sees every file's bytes; `keys`, `has` and `size` read nothing.
 * A pending file that turns out unreadable leaves the map (get returns undefined) for `unreadable`.
 */
export class LazyFiles extends FolderFiles {
  private pending = new Map<string, string>();

  /** Registers `rel` to be read from `abs` on first `get`. */
  defer(rel: string, abs: string): void {
    this.pending.set(rel, abs);
    super.set(rel, '');
  }

  override get(rel: string): string | undefined {
    const abs = this.pending.get(rel);
    if (abs !== undefined) {
      this.pending.delete(rel);
      try {
        super.set(rel, readSmallFile(abs));
      } catch (err) {
        if (!isUnreadableStateError(err)) throw err;
        super.delete(rel);
        this.unreadable.set(rel, err.message);
        return undefined;
      }
    }
    return super.get(rel);
  }

  override set(rel: string, value: string): this {
    this.pending?.delete(rel);
    return super.set(rel, value);
  }

  override delete(rel: string): boolean {
    this.pending.delete(rel);
    return super.delete(rel);
  }

  override clear(): void {
    this.pending.clear();
    super.clear();
  }

  private loadAll(): void {
    for (const rel of [...this.pending.keys()]) this.get(rel);
  }

  override entries(): MapIterator<[string, string]> {
    this.loadAll();
    return super.entries();
  }

  override values(): MapIterator<string> {
    this.loadAll();
    return super.values();
  }

  override forEach(
    fn: (value: string, key: string, map: Map<string, string>) => void,
    thisArg?: unknown,
  ): void {
    this.loadAll();
    super.forEach(fn, thisArg);
  }

  override [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }
}

/**
 * Every file of a molecule folder by path relative to it. Temp files (a crashed writer's) are
 * skipped, and removed when their process is gone and `cleanTemp` is set. With `lazyEvents`,
 * files under `events/` are listed but read only when looked at (a LazyFiles map).
 * `listedEvents`: the listing of `events/` the caller already made (advance), used instead of
 * listing it again.
 */
export function readMoleculeFiles(
  root: string,
  id: string,
  cleanTemp = false,
  lazyEvents = false,
  listedEvents?: Dirent[],
): FolderFiles {
  const files = lazyEvents ? new LazyFiles() : new FolderFiles();
  const odd = moleculeFolderProblem(root, id);
  if (odd !== undefined) files.folder = odd;
  else walk({ files, cleanTemp, lazyEvents, listedEvents }, `${moleculesDir(root)}/${id}`, '');
  return files;
}

/**
 * A cold advance's read of a molecule whose plan reads nothing but its facts, molecule.toml and
 * the frozen formula (`readsOnlyFacts` says so from the formula's text): those two files by
 * name and `events/` from the listing the caller made, read lazily, without listing the folder
 * itself. Other files (outputs, feedback) cannot change such a plan; `status`, `doctor` and
 * pre-commit check them. Undefined when the plan may read more, or when either file is not a
 * readable regular file: then read the whole folder, which reports what is wrong.
 */
export function readFactsOnly(
  root: string,
  id: string,
  listedEvents: Dirent[],
  cleanTemp: boolean,
  readsOnlyFacts: (formulaText: string) => boolean,
): LazyFiles | undefined {
  const base = `${moleculesDir(root)}/${id}`;
  let formula: string;
  let meta: string;
  try {
    formula = readSharedFile(`${base}/${FORMULA_FILE}`);
    if (!readsOnlyFacts(formula)) return undefined;
    meta = readSmallFile(`${base}/${MOLECULE_FILE}`);
  } catch {
    return undefined;
  }
  const files = new LazyFiles();
  files.set(MOLECULE_FILE, meta);
  files.set(FORMULA_FILE, formula);
  walk({ files, cleanTemp, lazyEvents: true, listedEvents }, `${base}/${EVENTS}`, EVENTS);
  return files;
}

/** A name starting with a dot (a writer's temp file, editor litter) is never part of state. */
export function isHiddenName(name: string): boolean {
  return name.startsWith('.');
}

interface Walk {
  files: FolderFiles;
  cleanTemp: boolean;
  lazyEvents: boolean;
  listedEvents: Dirent[] | undefined;
}

// String concatenation, not path.join, and a three-syscall read: a cold advance reads many files.
function walk(w: Walk, dir: string, prefix: string): void {
  const entries =
    w.listedEvents !== undefined && prefix === EVENTS
      ? w.listedEvents
      : readdirSync(dir, { withFileTypes: true });
  for (const entry of entries) {
    const name = entry.name;
    if (isHiddenName(name)) {
      const pid = tempFilePid(name);
      if (w.cleanTemp && pid !== undefined && !isProcessAlive(pid)) {
        try {
          unlinkSync(`${dir}/${name}`);
        } catch {
          /* gone */
        }
      }
      continue;
    }
    const rel = prefix ? `${prefix}/${name}` : name;
    // The listing's types, not a stat: a symlink is reported, never followed. Every entry of
    // events/ is a fact file, so a folder there is reported too.
    if (entry.isDirectory() && prefix !== EVENTS) walk(w, `${dir}/${name}`, rel);
    else if (!entry.isFile()) w.files.unreadable.set(rel, notRegularMessage(fileKind(entry)));
    else if (w.lazyEvents && prefix === EVENTS) (w.files as LazyFiles).defer(rel, `${dir}/${name}`);
    else {
      try {
        w.files.set(
          rel,
          rel === FORMULA_FILE ? readSharedFile(`${dir}/${name}`) : readSmallFile(`${dir}/${name}`),
        );
      } catch (err) {
        if (!isUnreadableStateError(err)) throw err;
        w.files.unreadable.set(rel, err.message);
      }
    }
  }
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

/** Another molecule's status from its files alone (a few stats), for molecules waiting on it. */
export function fileMoleculeStatus(root: string): (id: string) => MoleculeStatus | undefined {
  return (id) => {
    if (isMoleculeCompleted(root, id)) return 'completed';
    if (!moleculeExists(root, id)) return undefined;
    // A cancelled molecule never completes: say so to whoever waits for it.
    return existsSync(join(moleculesDir(root), id, moleculeEventPath('cancelled'))) ? 'cancelled' : 'active';
  };
}
