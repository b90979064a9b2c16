// The history of every checkpoint and wait file from ONE `git log` walk, for runs that judge many
// molecules (a cold `advance`, `molecule list`): the same answers as authors.ts's per-file walks
// (decisionAuthor, firstCommitTime), which cost a git process or two per file. Only for a linear
// history: there every file's own log is the walk's commits that touch it, in the same order. With
// a merge, git simplifies each file's history on its own (which side of a merge it follows differs
// by file), so the per-file walks decide.

import { blobTexts } from '../git/cat-file.js';
import { gitLines } from '../git/exec.js';
import { CONFIG_FILE } from '../store/layout.js';
import type { DecisionAuthor } from './authors.js';

/** What the walk says about one file (repo-relative path). */
export interface FileHistory {
  /** Its blob id at the walk's head; undefined when the head does not have it. */
  head?: string;
  /** The newest commit whose change to the file adds a `decision:` line. */
  decided?: { commit: string; email: string; name: string };
  /** Committer and author time (ISO) of the oldest commit that added the file. */
  added?: { committed: string; authored: string };
}

/** The walk: each file's history, and the trust configuration's blob at every commit. */
export interface History {
  files: Map<string, FileHistory>;
  /** Commit id → its place in the walk, newest first (in a linear history the next is its parent). */
  order: Map<string, number>;
  /** The config file's blob id at each commit of the walk (by place); undefined where it had none. */
  configBlobs: (string | undefined)[];
  configTexts?: Promise<Map<string, string> | undefined>;
}

/** Checkpoint requests and approvals, the wait facts whose commit time starts a clock, the config. */
export const HISTORY_PATHSPECS = [
  CONFIG_FILE,
  ':(glob).beads/molecules/*/checkpoints/**',
  ':(glob).beads/molecules/*/events/*.waiting.toml',
  ':(glob).beads/molecules/*/events/*.timed-out.toml',
];

const HEADER = 'diff --git a/';

/**
 * Every file under HISTORY_PATHSPECS that `head` (a commit id) or an ancestor touched; undefined
 * when the history has a merge, a path git had to quote, or git failed: then ask per file.
 */
export async function readHistory(root: string, head: string): Promise<History | undefined> {
  const walk = new Walk();
  // Read line by line as git writes it, newest commit first (a file's first section is its
  // newest change): the walk over every checkpoint is tens of MB at 10,000 molecules.
  let ok = true;
  const r = await gitLines(walkArgs(head), { cwd: root }, (line) => {
    if (ok) ok = walk.feed(line);
  });
  if (r.exitCode !== 0 || !ok) return undefined;
  walk.end();
  return walk.history();
}

function walkArgs(head: string): string[] {
  // --full-history --sparse lists every commit with its parents, so a merge anywhere is seen;
  // --no-renames as the per-file walks, which never see a rename's other side.
  return [
    '-c',
    'core.quotePath=false',
    'log',
    '--no-color',
    '--no-ext-diff',
    '--no-renames',
    '--full-history',
    '--sparse',
    '--full-index',
    '-U0',
    '-p',
    '--format=%x1e%H%x1f%P%x1f%ae%x1f%an%x1f%cI%x1f%aI',
    head,
    '--',
    ...HISTORY_PATHSPECS,
  ];
}

interface CommitLine {
  commit: string;
  email: string;
  name: string;
  committed: string;
  authored: string;
}

/** One file's section of one commit's patch while it is read. */
interface Section {
  path: string;
  h: FileHistory;
  decides: boolean;
  inHunks: boolean;
}

/** The walk's output read commit by commit, newest first. */
class Walk {
  readonly files = new Map<string, FileHistory>();
  readonly order = new Map<string, number>();
  // Where the config changed: place in the walk → its new blob (undefined: deleted).
  private readonly configChanges = new Map<number, string | undefined>();
  // Files whose blob at the head is not known yet: their newest change was to the mode only.
  private readonly open = new Set<string>();

  // The commit being read and its place in the walk; the file section being read.
  private commit: CommitLine | undefined;
  private place = -1;
  private file: Section | undefined;

  /** One line of the walk; false when the walk cannot answer (a merge, a quoted path). */
  feed(line: string): boolean {
    // Patch lines start with a diff marker, so only a commit header starts with \x1e.
    if (line.startsWith('\x1e')) return this.header(line.slice(1));
    const c = this.commit;
    if (!c) return line === '';
    if (line.startsWith('diff --git ')) {
      this.close(this.file, c);
      this.file = this.section(line);
      return this.file !== undefined;
    }
    if (this.file && line !== '') this.line(this.file, line, c, this.place);
    return true;
  }

  private header(line: string): boolean {
    if (this.commit) this.close(this.file, this.commit);
    this.file = undefined;
    const [commit = '', parents = '', email = '', name = '', committed = '', authored = ''] =
      line.split('\x1f');
    if (parents.includes(' ')) return false;
    this.place = this.order.size;
    this.order.set(commit, this.place);
    this.commit = { commit, email, name, committed, authored };
    return true;
  }

  /** After the last line. */
  end(): void {
    if (this.commit) this.close(this.file, this.commit);
    this.file = undefined;
  }

  private close(file: Section | undefined, c: CommitLine): void {
    if (file?.decides && !file.h.decided) file.h.decided = { commit: c.commit, email: c.email, name: c.name };
  }

  /** A `diff --git a/X b/X` header → its section; undefined for a path git quoted. */
  private section(line: string): Section | undefined {
    // A path git quoted (a quote, a backslash, a control character) is not parsed here.
    if (!line.startsWith(HEADER)) return undefined;
    const rest = line.slice(HEADER.length);
    const half = (rest.length - 3) / 2;
    const path = rest.slice(0, half);
    if (!Number.isInteger(half) || rest.slice(half) !== ` b/${path}`) return undefined;
    let h = this.files.get(path);
    if (path === CONFIG_FILE) {
      h = {}; // its changes are kept by commit (configChanges)
      this.open.add(path);
    } else if (!h) {
      h = {};
      this.files.set(path, h);
      this.open.add(path);
    }
    return { path, h, decides: false, inHunks: false };
  }

  private line(file: Section, line: string, c: CommitLine, place: number): void {
    if (file.inHunks || line.startsWith('@@')) {
      file.inHunks = true;
      if (/^\+decision\s*:/.test(line)) file.decides = true;
    } else if (line.startsWith('new file mode')) {
      file.h.added = { committed: c.committed, authored: c.authored };
    } else if (line.startsWith('deleted file mode')) {
      this.open.delete(file.path); // gone at the head: no blob there
      if (file.path === CONFIG_FILE) this.configChanges.set(place, undefined);
    } else if (line.startsWith('index ') && this.open.has(file.path)) {
      const to = /^index [0-9a-f]+\.\.([0-9a-f]+)/.exec(line)?.[1];
      if (to) file.h.head = to;
      this.open.delete(file.path);
      if (file.path === CONFIG_FILE && to) this.configChanges.set(place, to);
    }
  }

  history(): History {
    this.files.delete(CONFIG_FILE);
    // Oldest first: the config at a commit is the one its newest change at or before it made.
    const configBlobs: (string | undefined)[] = new Array(this.order.size);
    let blob: string | undefined;
    for (let i = this.order.size - 1; i >= 0; i--) {
      if (this.configChanges.has(i)) blob = this.configChanges.get(i);
      configBlobs[i] = blob;
    }
    return { files: this.files, order: this.order, configBlobs };
  }
}

/**
 * The config's text at the parent of `commit` and at `commit` (authors.ts configAt with
 * `[<commit>^, <commit>]`), from the walk and one `git cat-file` for every version the walk saw;
 * undefined when the walk does not have the commit or a version could not be read.
 */
export async function configAround(
  root: string,
  h: History,
  commit: string,
): Promise<[string | undefined, string | undefined] | undefined> {
  const place = h.order.get(commit);
  if (place === undefined) return undefined;
  h.configTexts ??= (async () => {
    const blobs = [...new Set(h.configBlobs.filter((b): b is string => b !== undefined))];
    const texts = await blobTexts(root, blobs);
    const out = new Map<string, string>();
    for (const [i, b] of blobs.entries()) {
      const text = texts[i];
      if (text === undefined) return undefined;
      out.set(b, text);
    }
    return out;
  })();
  const texts = await h.configTexts;
  if (!texts) return undefined;
  // The root commit (or a shallow clone's boundary) has no parent: nothing committed before it.
  const before = place + 1 < h.order.size ? h.configBlobs[place + 1] : undefined;
  const after = h.configBlobs[place];
  return [
    before === undefined ? undefined : texts.get(before),
    after === undefined ? undefined : texts.get(after),
  ];
}

/**
 * Who set the decision in `workingText`, from the walk; undefined when the file on disk is not the
 * head's version (authors.ts decisionAuthor judges an uncommitted edit).
 */
export function authorFromHistory(
  h: FileHistory | undefined,
  workingBlob: (idLength: number) => string,
  boundary: ReadonlySet<string>,
): DecisionAuthor | undefined {
  if (!h?.head || workingBlob(h.head.length) !== h.head) return undefined;
  const d = h.decided;
  if (!d) return { committed: true };
  if (boundary.has(d.commit)) return { committed: true, commit: d.commit };
  return {
    committed: true,
    commit: d.commit,
    ...(d.email ? { email: d.email } : {}),
    ...(d.name ? { name: d.name } : {}),
  };
}

/** firstCommitTime from the walk: when the file was first added; undefined when never. */
export function addedFromHistory(h: FileHistory | undefined, authored: boolean): Date | undefined {
  const iso = authored ? h?.added?.authored : h?.added?.committed;
  if (!iso) return undefined;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
