// Reading `.beads/` history from git for audit, verify, report and evidence: the commits that
// touched state (with the files each changed), a molecule's files as of any commit, and commit
// signatures. Effects only (git); judging is in the pure modules beside it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GastownError } from '../errors.js';
import { blobTexts } from '../git/cat-file.js';
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
 * Every file of molecule `id` as of `rev`, keyed by its path inside the molecule folder (as
 * io.ts readMoleculeFiles gives them), read with one `ls-tree` and one `cat-file --batch`.
 * Empty when the folder does not exist there.
 */
export async function moleculeFilesAt(root: string, rev: string, id: string): Promise<Map<string, string>> {
  return (await moleculesFilesAt(root, rev, [id])).get(id) ?? new Map();
}

/** moleculeFilesAt for several molecules at once. */
export async function moleculesFilesAt(
  root: string,
  rev: string,
  ids: readonly string[],
): Promise<Map<string, Map<string, string>>> {
  const result = new Map<string, Map<string, string>>();
  if (ids.length === 0) return result;
  const ls = await git(['ls-tree', '-r', '-z', rev, '--', ...ids.map((id) => `${MOLECULES_PREFIX}${id}/`)], {
    cwd: root,
    allowFailure: true,
  });
  if (ls.exitCode !== 0) return result;
  const entries: { id: string; rel: string; blob: string }[] = [];
  for (const rec of ls.stdout.split('\0')) {
    const m = /^\d+ blob ([0-9a-f]+)\t(.+)$/.exec(rec);
    if (!m) continue;
    const file = m[2] as string;
    const id = moleculeOfPath(file);
    if (!id) continue;
    entries.push({ id, rel: file.slice(`${MOLECULES_PREFIX}${id}/`.length), blob: m[1] as string });
  }
  const texts = await blobTexts(
    root,
    entries.map((e) => e.blob),
  );
  entries.forEach((e, i) => {
    let files = result.get(e.id);
    if (!files) result.set(e.id, (files = new Map()));
    files.set(e.rel, texts[i] ?? '');
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
