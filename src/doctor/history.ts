// doctor's answers to the git questions an audit asks of every checkpoint (who set a decision,
// when a file was first committed, the trust configuration at a commit) from one walk of the
// history and one `git cat-file --batch`, instead of two or three git processes per file.
// The rules are authors.ts's; this only gathers the same facts in bulk.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  configAt,
  type DecisionAuthor,
  decisionAuthor,
  decisionIn,
  firstCommitTime,
  localIdentity,
} from '../checkpoint/authors.js';
import type { GitFactSource } from '../gates/facts.js';
import { CatFile } from '../git/cat-file.js';
import { GIT_ENV, git } from '../git/exec.js';
import { shallowBoundary } from '../git/head.js';
import { commandEnv } from '../scope.js';
import { CONFIG_FILE } from '../store/layout.js';

/** Every file whose git facts gates/facts.ts asks for: checkpoint files, timer and timeout events. */
const WALKED = [
  ':(glob).beads/molecules/*/checkpoints/**',
  ':(glob).beads/molecules/*/events/*.waiting.toml',
  ':(glob).beads/molecules/*/events/*.timed-out.toml',
];
const DECISION_ADDED = /^\+decision\s*:/;

interface PathHistory {
  /** The newest commit whose patch adds a `decision:` line. */
  decision?: { commit: string; email: string; name: string };
  /** Committer and author time of the oldest commit that added the file. */
  added?: { committed: string; authored: string };
}

interface Walk {
  paths: Map<string, PathHistory>;
  /**
   * A merge anywhere in the history: `git log -- <one file>` simplifies history per file, which
   * one walk over many files cannot reproduce, so each question goes to authors.ts then.
   */
  exact: boolean;
}

/** `diff --git a/X b/X` (renames off, so both names agree) → X; undefined for a quoted name. */
function diffPath(line: string): string | undefined {
  const rest = line.slice('diff --git a/'.length);
  const half = (rest.length - 3) / 2;
  const path = rest.slice(0, half);
  return Number.isInteger(half) && rest === `${path} b/${path}` ? path : undefined;
}

/**
 * Newest first, as `git log -- <file>` lists them: each file's first commit adding a
 * `decision:` line and its last add (the oldest) are kept; memory grows with the files, not
 * with the patches.
 */
async function walkHistory(root: string): Promise<Walk> {
  const merges = await git(['rev-list', '--merges', '--max-count=1', 'HEAD'], {
    cwd: root,
    allowFailure: true,
  });
  if (merges.exitCode !== 0) return { paths: new Map(), exact: false }; // no commit yet
  if (merges.stdout.trim() !== '') return { paths: new Map(), exact: true };
  const child = spawn(
    'git',
    [
      '-c',
      'core.quotePath=false',
      'log',
      '--no-color',
      '--no-ext-diff',
      '--no-renames',
      '-U0',
      '-p',
      '--format=%x1e%H%x1f%ae%x1f%an%x1f%cI%x1f%aI',
      '--',
      ...WALKED,
    ],
    { cwd: root, env: { ...commandEnv(), ...GIT_ENV }, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const paths = new Map<string, PathHistory>();
  let exact = false;
  let commit = { commit: '', email: '', name: '', committed: '', authored: '' };
  let current: PathHistory | undefined;
  const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.startsWith('\x1e')) {
      const [c = '', email = '', name = '', committed = '', authored = ''] = line.slice(1).split('\x1f');
      commit = { commit: c, email, name, committed, authored };
      current = undefined;
    } else if (line.startsWith('diff --git ')) {
      const path = diffPath(line);
      if (path === undefined) {
        exact = true; // a name git quotes: leave such a repository to the exact questions
        current = undefined;
        continue;
      }
      current = paths.get(path);
      if (!current) paths.set(path, (current = {}));
    } else if (current && line.startsWith('new file mode')) {
      current.added = { committed: commit.committed, authored: commit.authored };
    } else if (current && !current.decision && DECISION_ADDED.test(line)) {
      current.decision = { commit: commit.commit, email: commit.email, name: commit.name };
    }
  }
  const code = await new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('close', resolve);
  });
  return { paths, exact: exact || code !== 0 };
}

/** Answers gates/facts.ts's questions for `root` in bulk; `close` when done. */
export class BatchedGitFacts implements GitFactSource {
  private walk: Promise<Walk> | undefined;
  private identity: Promise<{ name?: string; email?: string }> | undefined;
  private boundary: Set<string> | undefined;
  private readonly objects: CatFile;

  constructor(private readonly root: string) {
    this.objects = new CatFile(root);
  }

  private history(): Promise<Walk> {
    this.walk ??= walkHistory(this.root);
    return this.walk;
  }

  async decisionAuthor(root: string, relPath: string, workingText: string): Promise<DecisionAuthor> {
    const walk = await this.history();
    if (root !== this.root || walk.exact) return decisionAuthor(root, relPath, workingText);
    const head = await this.objects.text(`HEAD:${relPath}`);
    if (head === undefined || decisionIn(head) !== decisionIn(workingText)) {
      this.identity ??= localIdentity(root);
      return { committed: false, ...(await this.identity) };
    }
    const d = walk.paths.get(relPath)?.decision;
    if (!d) return { committed: true };
    this.boundary ??= shallowBoundary(root);
    if (this.boundary.has(d.commit)) return { committed: true, commit: d.commit };
    return {
      committed: true,
      ...(d.commit ? { commit: d.commit } : {}),
      ...(d.email ? { email: d.email } : {}),
      ...(d.name ? { name: d.name } : {}),
    };
  }

  async firstCommitTime(root: string, relPath: string, authored = false): Promise<Date | undefined> {
    const walk = await this.history();
    if (root !== this.root || walk.exact) return firstCommitTime(root, relPath, authored);
    const added = walk.paths.get(relPath)?.added;
    if (!added) return undefined;
    const d = new Date(authored ? added.authored : added.committed);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }

  async configAt(root: string, revs: readonly string[]): Promise<(string | undefined)[]> {
    if (root !== this.root) return configAt(root, revs);
    return Promise.all(revs.map((r) => this.objects.text(`${r}:${CONFIG_FILE}`)));
  }

  close(): void {
    this.objects.close();
  }
}
