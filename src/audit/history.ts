// Reading `.beads/` history from git for audit, verify, report and evidence: the commits that
// touched state (with the files each changed), a molecule's files as of any commit, and commit
// signatures. Effects only (git); judging is in the pure modules beside it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GastownError } from '../errors.js';
import {
  blobText,
  type CatFileSession,
  type GitObject,
  SUBMODULE_MODE,
  TREE_MODE,
  type TreeEntry,
  treeEntries,
} from '../git/cat-file.js';
import { git } from '../git/exec.js';
import { isShallowClone, shallowBoundary } from '../git/head.js';

export const MOLECULES_PREFIX = '.beads/molecules/';

export interface FileChange {
  /** A (added), M (modified), D (deleted), T (type changed). */
  status: string;
  /** Repo-relative path. */
  file: string;
}

export interface CommitInfo {
  sha: string;
  parents: string[];
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
  subject: string;
  changes: FileChange[];
}

export interface SignatureInfo {
  /** git's %G?: G good, B bad, U good with unknown validity, X/Y expired, R revoked, E cannot check, N none. */
  status: string;
  /** The signing key's fingerprint (%GK for SSH, %GF for GPG). */
  key?: string;
  /** Who git says signed (the allowed_signers principal for SSH, the uid for GPG). */
  signer?: string;
}

const FIELDS = ['%H', '%P', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%s'];

/** The merge base of `base` and HEAD; a usage problem naming the ref when it does not resolve. */
export async function mergeBase(root: string, base: string): Promise<string> {
  if (base.startsWith('-'))
    throw new GastownError('verify.base', `--base ${base}: not a revision`, { exitCode: 2 });
  const r = await git(['merge-base', '--', base, 'HEAD'], { cwd: root, allowFailure: true });
  if (r.exitCode !== 0) {
    const known = await git(['rev-parse', '--verify', '--quiet', `${base}^{commit}`], {
      cwd: root,
      allowFailure: true,
    });
    throw new GastownError(
      'verify.base',
      known.exitCode === 0
        ? `--base ${base} shares no history with HEAD (a shallow clone? fetch with fetch-depth: 0)`
        : `--base ${base}: no such revision (fetch it first, e.g. git fetch origin ${base.replace(/^origin\//, '')})`,
      { exitCode: 2 },
    );
  }
  return r.stdout.trim();
}

/**
 * Commits reachable from HEAD (and not from `since`, when given) that changed anything under
 * `paths`, oldest first, each with the files it changed there. Merge commits list no files:
 * the commits they bring in do.
 */
export async function stateCommits(
  root: string,
  opts: { since?: string; paths?: readonly string[]; after?: string } = {},
): Promise<CommitInfo[]> {
  const range = opts.since ? `${opts.since}..HEAD` : 'HEAD';
  const r = await git(
    [
      '-c',
      'core.quotePath=false',
      'log',
      '--reverse',
      '--no-renames',
      '--name-status',
      `--format=%x1e${FIELDS.join('%x1f')}`,
      ...(opts.after ? [`--since=${opts.after}`] : []),
      range,
      '--',
      ...(opts.paths ?? ['.beads']),
    ],
    { cwd: root, allowFailure: true },
  );
  if (r.exitCode !== 0) {
    if (/does not have any commits|unknown revision|bad revision/.test(r.stderr)) return [];
    throw new GastownError('git.log', `git log failed: ${r.stderr.trim()}`);
  }
  const out: CommitInfo[] = [];
  for (const entry of r.stdout.split('\x1e').slice(1)) {
    const [head = '', ...rest] = entry.split('\n');
    const [sha = '', parents = '', an = '', ae = '', ad = '', cn = '', ce = '', cd = '', subject = ''] =
      head.split('\x1f');
    const changes: FileChange[] = [];
    for (const line of rest) {
      const m = /^([AMDT])\t(.+)$/.exec(line);
      if (m) changes.push({ status: m[1] as string, file: m[2] as string });
    }
    out.push({
      sha,
      parents: parents === '' ? [] : parents.split(' '),
      author: { name: an, email: ae, date: ad },
      committer: { name: cn, email: ce, date: cd },
      subject,
      changes,
    });
  }
  return out;
}

/** The molecule id a repo-relative path belongs to, if any. */
export function moleculeOfPath(file: string): string | undefined {
  if (!file.startsWith(MOLECULES_PREFIX)) return undefined;
  const id = file.slice(MOLECULES_PREFIX.length).split('/')[0];
  return id === undefined || id === '' ? undefined : id;
}

/**
 * Every file of each molecule in `ids` as of `rev`, keyed by its path inside the molecule folder
 * (as io.ts readMoleculeFiles gives them) in the order `git ls-tree -r` lists them, read through
 * `cat`: each folder level of every molecule in one round, then every blob in one. A molecule
 * whose folder does not exist there is left out.
 */
export async function moleculesFilesAt(
  cat: CatFileSession,
  rev: string,
  ids: readonly string[],
): Promise<Map<string, Map<string, string>>> {
  const result = new Map<string, Map<string, string>>();
  const tops = await cat.read(ids.map((id) => `${rev}:${MOLECULES_PREFIX}${id}`));
  const folders = new Map<string, TreeEntry[]>();
  let round: GitObject[] = [];
  for (const o of tops) if (o?.type === 'tree') round.push(o);
  while (round.length > 0) {
    const subtrees = new Set<string>();
    for (const o of round) {
      if (folders.has(o.id)) continue;
      const entries = treeEntries(o.bytes, o.id.length / 2);
      folders.set(o.id, entries);
      for (const e of entries) if (e.mode === TREE_MODE && !folders.has(e.id)) subtrees.add(e.id);
    }
    round = (await cat.read([...subtrees])).filter((o): o is GitObject => o?.type === 'tree');
  }
  // Blobs (files and symbolic links) in ls-tree -r order; submodules are no files.
  const files: { id: string; rel: string; blob: string }[] = [];
  const walk = (id: string, tree: string, prefix: string) => {
    for (const e of folders.get(tree) ?? []) {
      if (e.mode === TREE_MODE) walk(id, e.id, `${prefix}${e.name}/`);
      else if (e.mode !== SUBMODULE_MODE) files.push({ id, rel: `${prefix}${e.name}`, blob: e.id });
    }
  };
  ids.forEach((id, i) => {
    const top = tops[i];
    if (top?.type === 'tree') walk(id, top.id, '');
  });
  const blobs = await cat.read(files.map((f) => f.blob));
  files.forEach((f, i) => {
    let mol = result.get(f.id);
    if (!mol) result.set(f.id, (mol = new Map()));
    mol.set(f.rel, blobText(blobs[i]) ?? '');
  });
  return result;
}

/**
 * Signature status of each commit, checked by git against `allowedSigners` (the text of an SSH
 * allowed_signers file; GPG keys come from the keyring). A temporary file holds it for the call.
 */
export async function commitSignatures(
  root: string,
  commits: readonly string[],
  allowedSigners = '',
): Promise<Map<string, SignatureInfo>> {
  const result = new Map<string, SignatureInfo>();
  if (commits.length === 0) return result;
  const dir = mkdtempSync(join(tmpdir(), 'gastown-signers-'));
  try {
    const file = join(dir, 'allowed_signers');
    writeFileSync(file, allowedSigners);
    const r = await git(
      [
        '-c',
        `gpg.ssh.allowedSignersFile=${file}`,
        'log',
        '--no-walk=unsorted',
        '--format=%x1e%H%x1f%G?%x1f%GK%x1f%GF%x1f%GS',
        '--stdin',
      ],
      { cwd: root, input: `${[...new Set(commits)].join('\n')}\n`, allowFailure: true },
    );
    for (const entry of r.stdout.split('\x1e').slice(1)) {
      const [sha = '', status = 'N', gk = '', gf = '', gs = ''] = entry.trim().split('\x1f');
      const key = gf || gk;
      result.set(sha, { status, ...(key ? { key } : {}), ...(gs ? { signer: gs } : {}) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/** What a shallow clone cannot show: undefined in a full clone. */
export function shallowNote(root: string): string | undefined {
  if (!isShallowClone(root)) return undefined;
  const edge = [...shallowBoundary(root)].map((s) => s.slice(0, 12));
  return `shallow clone: history before ${edge.join(', ')} is not here, so who made a file added at or before that edge cannot be told (fetch with --unshallow, or fetch-depth: 0 in CI)`;
}
