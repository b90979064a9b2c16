// `gastown verify`'s rules: pure functions from what was read from git (history.ts) to
// findings naming file, commit and rule. Gathering is in verify.ts.
import type { CommitInfo } from './history.js';
import { MOLECULES_PREFIX, moleculeOfPath } from './history.js';

export const RULES = {
  /** doctor's molecule audit (engine/verdict.ts) at HEAD. */
  audit: 'molecule-audit',
  /** Every fact a commit adds could have come about from the facts before it (plan.ts unbackedFacts). */
  transition: 'legal-transition',
  /** A checkpoint decision counts: an allowed approver made it, not who did the work (checkpoint/trust.ts). */
  approver: 'approver',
  /** With `require_signed`, a decision carries a good signature by the approver's own key. */
  signature: 'signed-decision',
  /** A gate report (what a gate ran and saw) arrives in a commit made by the engine. */
  engine: 'engine-commit',
  /** Facts are never rewritten or removed, except by `molecule squash` or `molecule burn`. */
  immutable: 'immutable-file',
} as const;

export type Rule = (typeof RULES)[keyof typeof RULES];

export interface VerifyFinding {
  rule: Rule;
  /** Repo-relative file. */
  file: string;
  /** The commit that made the change; absent for a finding on HEAD as a whole. */
  commit?: string;
  message: string;
}

/** Keys of molecule.toml that `convoy add` may set after create. */
const MEMBERSHIP_KEYS = new Set(['convoy', 'after']);

/** Whether two molecule.toml tables differ only in convoy membership (`convoy add`). */
export function onlyMembershipChanged(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): boolean {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const k of keys)
    if (!MEMBERSHIP_KEYS.has(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k])) return false;
  return true;
}

/** Path of a file inside its molecule folder. */
export function relInMolecule(file: string): string {
  const id = moleculeOfPath(file);
  return id ? file.slice(`${MOLECULES_PREFIX}${id}/`.length) : file;
}

/** Files a person may edit after they exist: checkpoint requests (the decision) and outputs. */
const MUTABLE = [/^checkpoints\/[^/]+\.md$/, /^checkpoints\/[^/]+\.approvals\/[^/]+\.md$/, /^outputs\//];

/**
 * Files under a molecule that a commit modifies or deletes although they are written once,
 * unless the commit squashes that molecule (adds its digest.toml, removes events/) or burns it
 * (removes its molecule.toml with the folder).
 */
export function rewriteFindings(
  commits: readonly CommitInfo[],
  /** `<sha>\0<file>` of changes known to be allowed (`convoy add` setting convoy/after). */
  allowed: ReadonlySet<string> = new Set(),
): VerifyFinding[] {
  const out: VerifyFinding[] = [];
  for (const c of commits) {
    const squashed = new Set<string>();
    const burned = new Set<string>();
    for (const ch of c.changes) {
      const id = moleculeOfPath(ch.file);
      if (!id) continue;
      const rel = relInMolecule(ch.file);
      if (rel === 'digest.toml' && ch.status === 'A') squashed.add(id);
      if (rel === 'molecule.toml' && ch.status === 'D') burned.add(id);
    }
    for (const ch of c.changes) {
      if (ch.status === 'A' || allowed.has(`${c.sha}\0${ch.file}`)) continue;
      const id = moleculeOfPath(ch.file);
      if (!id || burned.has(id)) continue;
      const rel = relInMolecule(ch.file);
      if (MUTABLE.some((r) => r.test(rel))) continue;
      if (squashed.has(id) && ch.status === 'D' && rel.startsWith('events/')) continue;
      out.push({
        rule: RULES.immutable,
        file: ch.file,
        commit: c.sha,
        message: `${ch.status === 'D' ? 'deleted' : 'rewritten'}: state files are written once; only \`molecule squash\` (events/) or \`molecule burn\` (the whole folder) remove them`,
      });
    }
  }
  return out;
}

/** Problems of one molecule at one commit, as `file\0message` keys, for comparing with its parent. */
export type ProblemSet = Map<string, { file: string; message: string }>;

export function problemSet(problems: readonly { file?: string; message: string }[], dir: string): ProblemSet {
  const m: ProblemSet = new Map();
  for (const p of problems) {
    const file = p.file ?? dir;
    m.set(`${file}\0${p.message}`, { file, message: p.message });
  }
  return m;
}

/** Problems a commit brings in: present at the commit and not at its parent. */
export function transitionFindings(commit: string, before: ProblemSet, after: ProblemSet): VerifyFinding[] {
  const out: VerifyFinding[] = [];
  for (const [key, p] of after)
    if (!before.has(key)) out.push({ rule: RULES.transition, file: p.file, commit, message: p.message });
  return out;
}

/** Gate reports a commit adds while its author is not the engine's identity. */
export function engineCommitFindings(
  c: CommitInfo,
  engineEmail: string,
  engineFiles: readonly string[],
): VerifyFinding[] {
  if (c.author.email.trim().toLowerCase() === engineEmail.trim().toLowerCase()) return [];
  return engineFiles.map((file) => ({
    rule: RULES.engine,
    file,
    commit: c.sha,
    message: `a gate report is the record of a run only the engine makes, but this commit's author is ${c.author.name} <${c.author.email}>, not the engine (${engineEmail}); a hand-written report is no gate run (run \`gastown advance --commit\`, or let CI run the gate)`,
  }));
}

/** Whether `rel` (inside a molecule) is a gate report. */
export const isGateReport = (rel: string) => /^reports\/[^/]+\.\d+\.md$/.test(rel);

/** The checkpoint step a decision file belongs to: `checkpoints/<id>.md` or `checkpoints/<id>.approvals/<who>.md`. */
export function checkpointOfFile(rel: string): string | undefined {
  const m = /^checkpoints\/([^/]+?)(?:\.approvals\/[^/]+)?\.md$/.exec(rel);
  if (!m) return undefined;
  return m[1];
}
