// Who made a decision, from git: the author of the newest commit that changed the file's
// `decision:` line, or the local git identity when the working tree differs from HEAD (an
// uncommitted edit, e.g. seen by the watcher). Also when a file was first committed, which is
// when a checkpoint's deadline clock starts, and the trust configuration as committed.

import { blobTexts } from '../git/cat-file.js';
import { git } from '../git/exec.js';
import { shallowBoundary } from '../git/head.js';
import { CONFIG_FILE } from '../store/layout.js';
import { splitFrontMatter } from './frontmatter-split.js';

export interface DecisionAuthor {
  email?: string;
  name?: string;
  committed: boolean;
  commit?: string;
}

const DECISION_LINE = /^decision\s*:\s*["']?([A-Za-z_-]+)/m;

/** The decision a file's text states in its front matter, for comparing versions. */
export function decisionIn(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const split = splitFrontMatter(text);
  return DECISION_LINE.exec('yaml' in split ? split.yaml : text.replace(/\r\n/g, '\n'))?.[1];
}

/** The identity git would author a commit with here (honours GIT_AUTHOR_* and user.*). */
export async function localIdentity(root: string): Promise<{ name?: string; email?: string }> {
  const r = await git(['var', 'GIT_AUTHOR_IDENT'], { cwd: root, allowFailure: true });
  const m = /^(.*?)\s*<([^>]*)>/.exec(r.stdout);
  if (r.exitCode !== 0 || !m) return {};
  return { ...(m[1] ? { name: m[1] } : {}), ...(m[2] ? { email: m[2] } : {}) };
}

/**
 * Who set the decision currently in `relPath` (repo-relative). `workingText` is the file as it
 * is on disk. A decision that differs from HEAD's is uncommitted and belongs to the local identity.
 */
export async function decisionAuthor(
  root: string,
  relPath: string,
  workingText: string,
): Promise<DecisionAuthor> {
  const head = await git(['show', `HEAD:${relPath}`], { cwd: root, allowFailure: true });
  const inHead = head.exitCode === 0 ? decisionIn(head.stdout) : undefined;
  const now = decisionIn(workingText);
  if (head.exitCode !== 0 || inHead !== now) {
    const me = await localIdentity(root);
    return { committed: false, ...me };
  }
  // Newest first: the first commit whose patch adds a `decision:` line set the current value.
  // At a shallow clone's boundary that commit only seems to add it: who decided is unknown.
  const boundary = shallowBoundary(root);
  const log = await git(
    ['log', '--no-color', '--no-ext-diff', '-U0', '-p', '--format=%x1e%H%x1f%ae%x1f%an', '--', relPath],
    { cwd: root, allowFailure: true },
  );
  for (const entry of log.stdout.split('\x1e').slice(1)) {
    const [meta = '', ...rest] = entry.split('\n');
    const [commit, email, name] = meta.split('\x1f');
    if (rest.some((l) => /^\+decision\s*:/.test(l))) {
      if (commit && boundary.has(commit)) return { committed: true, commit };
      return {
        committed: true,
        ...(commit ? { commit } : {}),
        ...(email ? { email } : {}),
        ...(name ? { name } : {}),
      };
    }
  }
  return { committed: true };
}

/**
 * Committer time (or, with `authored`, author time) of the oldest commit that added `relPath`;
 * undefined when not committed. A rebase rewrites committer times and keeps author times.
 */
export async function firstCommitTime(
  root: string,
  relPath: string,
  authored = false,
): Promise<Date | undefined> {
  const r = await git(['log', '--diff-filter=A', `--format=${authored ? '%aI' : '%cI'}`, '--', relPath], {
    cwd: root,
    allowFailure: true,
  });
  if (r.exitCode !== 0) return undefined;
  const lines = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '');
  const oldest = lines[lines.length - 1];
  if (!oldest) return undefined;
  const d = new Date(oldest);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * `.beads/config.toml` as committed at each of `revs` (e.g. `<commit>^` and `<commit>`): its
 * text, or undefined where the revision or the file does not exist. One `git cat-file --batch`.
 */
export function configAt(root: string, revs: readonly string[]): Promise<(string | undefined)[]> {
  return blobTexts(
    root,
    revs.map((r) => `${r}:${CONFIG_FILE}`),
  );
}
