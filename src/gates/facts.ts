// Facts from git that the human and timer gates plan with: who made a decision, against which
// trust configuration, when a file was committed. Gathered before planning (engine/gates.ts
// registerFactGatherer) and passed in PlanEnv.facts, so the planners stay pure.
import {
  configAt,
  type DecisionAuthor,
  decisionAuthor,
  decisionIn,
  firstCommitTime,
} from '../checkpoint/authors.js';
import { checkpointId, checkpointPaths } from '../checkpoint/file.js';
import {
  addedFromHistory,
  authorFromHistory,
  configAround,
  type History,
  readHistory,
} from '../checkpoint/history.js';
import type { TrustConfig } from '../checkpoint/trust.js';
import { factKey, factsFor, type GatherContext } from '../engine/gates.js';
import { eventPathOf } from '../engine/io.js';
import type { MoleculeState, PlanEnv } from '../engine/types.js';
import { canonicalJson } from '../formula/hash.js';
import type { HumanGate } from '../formula/model.js';
import { blobId } from '../git/blob-id.js';
import { readHead, shallowBoundary } from '../git/head.js';
import { hashHex } from '../hash.js';
import { onCommandStart } from '../scope.js';
import { defaultConfig, parseConfig } from '../store/config.js';
import { CONFIG_FILE } from '../store/layout.js';

import { SETTLED, timedOutPath, trustConfigOf } from './shared.js';

export interface GitFacts {
  /** Molecule-relative path of a decision file → who set its decision. */
  authors: Map<string, DecisionAuthor>;
  /** Molecule-relative path of a decision file → the trust configuration it is judged against. */
  trust: Map<string, VoteTrust>;
  /** Molecule-relative path → committer time of the commit that added it (undefined: not committed). */
  committedAt: Map<string, Date | undefined>;
  /** The same with author times, which a rebase keeps: what a timeout approval is checked by. */
  authoredAt: Map<string, Date | undefined>;
  /** A shallow clone: a decision made past its boundary is attributed to the boundary commit. */
  shallow: boolean;
}

/** Where the planners find these facts in `PlanEnv.facts`. */
export const GIT_FACTS = factKey<GitFacts>('checkpoints');
export const gitFacts = (env: PlanEnv): GitFacts | undefined => factsFor(env, GIT_FACTS);
// Within one process a file's author and first commit do not change; remember them across rounds.
const authorMemo = new Map<string, DecisionAuthor>();
const commitMemo = new Map<string, Date>();
// A commit's trust configuration never changes (keyed by root and commit id).
const trustMemo = new Map<string, VoteTrust>();
// A run that judges many files (a cold `advance` over every molecule) asks git once per file; past
// this many lookups one walk of the history answers the rest (checkpoint/history.ts), while a run
// that judges a molecule or two keeps the per-file walks, which read less of a long history.
const PER_FILE_LOOKUPS = 4;
let perFileLookups = 0;
const walks = new Map<string, Promise<History | undefined>>();
// Remembered for one command: a later command may find the history rewritten.
onCommandStart(() => {
  authorMemo.clear();
  commitMemo.clear();
  trustMemo.clear();
  perFileLookups = 0;
  walks.clear();
});

/** This process judges every checkpoint (an audit): take the one walk from the first lookup. */
export function judgingEverything(): void {
  perFileLookups = PER_FILE_LOOKUPS;
}

/**
 * A run is about to judge many molecules it never saw: start the one walk now, so git walks the
 * history while the molecules are read, and no lookup goes per file first.
 */
export function prefetchHistory(root: string): void {
  perFileLookups = PER_FILE_LOOKUPS;
  // Nobody may wait for it (no molecule has a checkpoint): a failure is met by the next lookup.
  historyAtHead(root).catch(() => undefined);
}

/** The one-walk history at HEAD, once this process has made enough per-file lookups. */
async function historyAtHead(
  root: string,
  start = true,
  head = readHead(root)?.sha,
): Promise<History | undefined> {
  if (head === undefined) return undefined;
  const key = `${root}\0${head}`;
  let walk = walks.get(key);
  if (!walk && start) {
    if (perFileLookups < PER_FILE_LOOKUPS) {
      perFileLookups++;
      return undefined;
    }
    walk = readHistory(root, head);
    walks.set(key, walk);
  }
  return walk;
}

/** What a vote is judged against (trust.ts VoteFact `config`, `refused`). */
interface VoteTrust {
  config?: TrustConfig;
  refused?: string;
}

/** The trust tables of a config file's text, comparable across commits; undefined: unreadable. */
function trustTables(text: string | undefined, file: string): string | undefined {
  try {
    const cfg = text === undefined ? defaultConfig() : parseConfig(text, file);
    return canonicalJson(trustConfigOf(cfg));
  } catch {
    return undefined;
  }
}

/**
 * The configuration a decision is judged against: as committed at the parent of the commit that
 * made it (at HEAD for an uncommitted edit, which HEAD will be the parent of). The commit's own
 * change to who may approve never applies to it; a commit that changes the trust tables and
 * makes a decision is refused outright and reported. An uncommitted edit where HEAD has no
 * config yet is judged against the working tree's (nothing committed to go by).
 */
async function voteTrust(root: string, a: DecisionAuthor): Promise<VoteTrust> {
  if (a.committed && (!a.commit || !a.email)) return {}; // who decided is unknown: never counts
  const head = a.committed ? undefined : (readHead(root)?.sha ?? 'HEAD');
  const rev = a.commit ?? (head as string);
  const key = `${root}\0${rev}`;
  const known = rev !== 'HEAD' ? trustMemo.get(key) : undefined;
  if (known) return known;
  const where = a.committed ? `${CONFIG_FILE} before commit ${rev.slice(0, 12)}` : `${CONFIG_FILE} at HEAD`;
  let trust: VoteTrust;
  if (a.committed) {
    // From the walk when one was made (no process of its own), else from git.
    const walked = await historyAtHead(root, false);
    const around = walked && (await configAround(root, walked, rev));
    const [before, after] = around ?? (await configAt(root, [`${rev}^`, rev]));
    try {
      trust = { config: trustConfigOf(before === undefined ? defaultConfig() : parseConfig(before, where)) };
      const was = trustTables(before, where);
      if (was !== trustTables(after, `${CONFIG_FILE} at ${rev.slice(0, 12)}`))
        trust.refused = `commit ${rev.slice(0, 12)} changes who may approve (${CONFIG_FILE} [users], [agents], [teams]) and makes this decision; a decision is judged against the configuration before its commit and counts only from a commit that leaves it alone`;
    } catch (err) {
      trust = { refused: `${where} cannot be read: ${(err as Error).message}` };
    }
  } else {
    const [atHead] = await configAt(root, [rev]);
    try {
      trust = atHead === undefined ? {} : { config: trustConfigOf(parseConfig(atHead, where)) };
    } catch (err) {
      trust = { refused: `${where} cannot be read: ${(err as Error).message}` };
    }
  }
  if (rev !== 'HEAD') trustMemo.set(key, trust);
  return trust;
}

const sha1 = (s: string) => hashHex('sha1', s);

/**
 * When the commit that added `repoRel` was made (committer time, or author time, which a rebase
 * keeps); undefined while it is not committed. From the one walk once a process asks often.
 */
export async function fileAddedAt(
  root: string,
  repoRel: string,
  authored: boolean,
  head?: string,
): Promise<Date | undefined> {
  const key = `${root}\0${repoRel}${authored ? '\0authored' : ''}`;
  let at = commitMemo.get(key);
  if (!at) {
    const walked = await historyAtHead(root, true, head ?? readHead(root)?.sha);
    at = walked
      ? addedFromHistory(walked.files.get(repoRel), authored)
      : await firstCommitTime(root, repoRel, authored);
    if (at) commitMemo.set(key, at);
  }
  return at;
}

export async function gatherGitFacts(
  state: MoleculeState,
  ctx: GatherContext,
): Promise<GitFacts | undefined> {
  const formula = state.formula;
  if (!formula) return undefined;
  // A completed molecule is planned no more; only an audit (doctor) re-checks its checkpoints.
  const settledMolecule = state.facts.completed || state.facts.cancelled || state.digest;
  if (settledMolecule && !ctx.settled) return undefined;
  const facts: GitFacts = {
    authors: new Map(),
    trust: new Map(),
    committedAt: new Map(),
    authoredAt: new Map(),
    shallow: false,
  };
  const boundary = shallowBoundary(ctx.root);
  facts.shallow = boundary.size > 0;
  // Read once for the molecule: every lookup below is judged at the same HEAD.
  const head = readHead(ctx.root)?.sha;
  const author = async (rel: string, text: string) => {
    const key = `${ctx.root}\0${state.dir}/${rel}\0${sha1(text)}`;
    let a = authorMemo.get(key);
    if (!a) {
      const path = `${state.dir}/${rel}`;
      const walked = await historyAtHead(ctx.root, true, head);
      a =
        authorFromHistory(walked?.files.get(path), (n) => blobId(text, n), boundary) ??
        (await decisionAuthor(ctx.root, path, text));
      if (a.committed) authorMemo.set(key, a);
    }
    facts.authors.set(rel, a);
    facts.trust.set(rel, await voteTrust(ctx.root, a));
  };
  const committed = async (rel: string) => {
    facts.committedAt.set(rel, await fileAddedAt(ctx.root, `${state.dir}/${rel}`, false, head));
  };
  const authored = async (rel: string) => {
    facts.authoredAt.set(rel, await fileAddedAt(ctx.root, `${state.dir}/${rel}`, true, head));
  };
  for (const step of formula.steps) {
    const s = state.stepById.get(step.id);
    if (!s || !step.gate) continue;
    // A done checkpoint is verified (verifyHuman); other settled steps need nothing from git.
    if (SETTLED.has(s.status) && !(s.status === 'done' && step.gate.type === 'human')) continue;
    if (step.gate.type === 'human') {
      const id = checkpointId(step.id, s.attempt);
      const rel = checkpointPaths.request(id);
      const text = state.files.get(rel);
      if (text === undefined) continue;
      const decision = decisionIn(text);
      if (decision !== undefined && decision !== 'pending') await author(rel, text);
      const dir = `${checkpointPaths.approvalsDir(id)}/`;
      for (const [p, t] of state.files) if (p.startsWith(dir) && p.endsWith('.md')) await author(p, t);
      if ((step.gate as HumanGate).timeout && !s.facts['timed-out'] && s.status !== 'done')
        await committed(rel);
      // An approval by timeout is checked again from the times of the commits (verifyHuman).
      if (s.status === 'done' && s.facts.done?.by === 'timeout' && s.facts['timed-out']) {
        await authored(rel);
        await authored(timedOutPath(step.id, s.attempt));
      }
    } else if (step.gate.type === 'timer') {
      const rel = eventPathOf({ step: step.id, attempt: s.attempt, kind: 'waiting', extra: {} });
      if (state.files.has(rel)) await committed(rel);
    }
  }
  return facts;
}
