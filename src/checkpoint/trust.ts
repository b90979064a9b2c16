// Approval trust, decided by a pure function from gathered facts. An approval counts only when
// the person who made it (the author of the commit that set the decision, or the local git
// identity for an uncommitted edit) is someone the checkpoint allows, and, with
// `prevent_self_approval`, is not the agent that did the work under review. Every vote carries
// the reason it counts or does not, so `molecule status` can say why.

export interface Person {
  name?: string;
  emails: string[];
}

/** The identity part of .beads/config.toml. */
export interface TrustConfig {
  users: Readonly<Record<string, Person>>;
  agents: Readonly<Record<string, Person>>;
  /** Team name → members (`@handle`). */
  teams: Readonly<Record<string, readonly string[]>>;
  /** The engine's own commit identity: never an approver. */
  engineEmail?: string;
}

export interface ApprovalPolicy {
  approvers: readonly string[];
  min_approvals: number;
  prevent_self_approval: boolean;
}

export interface VoteFact {
  decision: 'approved' | 'rejected';
  reason?: string;
  /** Repo-relative file the decision is in. */
  source: string;
  /** Who made it; undefined when it cannot be told (e.g. the commit is outside a shallow clone). */
  email?: string;
  /** False for a working-tree edit not yet committed (the local git identity made it). */
  committed: boolean;
  commit?: string;
  /**
   * The trust configuration this vote is judged against: the one committed before the commit
   * that made it (its parent; HEAD for an uncommitted edit), so a commit cannot rewrite who may
   * approve and approve at once. Absent: the configuration the judgement was given.
   */
  config?: TrustConfig;
  /** Why this vote cannot count whoever made it (its commit also changed the trust tables). */
  refused?: string;
}

export interface JudgedVote extends VoteFact {
  counts: boolean;
  /** `@jgil` when the email belongs to a configured user. */
  who?: string;
  why: string;
}

export interface ApprovalVerdict {
  state: 'pending' | 'approved' | 'rejected';
  votes: JudgedVote[];
  /** Distinct people whose approval counts. */
  approvals: number;
  needed: number;
  /** The counted rejection that decided it, when rejected. */
  rejection?: JudgedVote;
  summary: string;
}

const lower = (s: string) => s.trim().toLowerCase();

function handleOf(cfg: TrustConfig, email: string): string | undefined {
  for (const [handle, p] of Object.entries(cfg.users))
    if (p.emails.some((e) => lower(e) === email)) return handle;
  return undefined;
}

function agentsOf(cfg: TrustConfig, email: string): string[] {
  return Object.entries(cfg.agents)
    .filter(([, p]) => p.emails.some((e) => lower(e) === email))
    .map(([name]) => name);
}

/** How a vote's author is named to people: `@handle` for a user, the agent's name, else the email. */
export function displayActor(cfg: TrustConfig, email: string | undefined): string {
  if (!email) return 'someone unknown';
  const e = lower(email);
  const handle = handleOf(cfg, e);
  if (handle) return `@${handle}`;
  return agentsOf(cfg, e)[0] ?? e;
}

/** Approver entries (`@handle`, `team:<name>`) → allowed handles, plus entries that name nobody. */
export function expandApprovers(
  cfg: TrustConfig,
  approvers: readonly string[],
): { handles: Set<string>; unknown: string[] } {
  const handles = new Set<string>();
  const unknown: string[] = [];
  for (const entry of approvers) {
    if (entry.startsWith('team:')) {
      const team = cfg.teams[entry.slice(5)];
      if (!team) unknown.push(entry);
      else for (const m of team) handles.add(m.replace(/^@/, ''));
    } else {
      const h = entry.replace(/^@/, '');
      if (!cfg.users[h]) unknown.push(entry);
      handles.add(h);
    }
  }
  return { handles, unknown };
}

/**
 * Whether `email` is the one that did the work: `doers` are the `by` of the reviewed steps' done
 * facts or their assignees, each an agent name, a user handle or an email.
 */
function selfApprover(cfg: TrustConfig, email: string, doers: readonly string[]): string | undefined {
  for (const doer of doers) {
    const name = doer.replace(/^@/, '');
    if (lower(doer) === email) return doer;
    if (cfg.agents[name]?.emails.some((e) => lower(e) === email)) return doer;
    if (cfg.users[name]?.emails.some((e) => lower(e) === email)) return doer;
  }
  return undefined;
}

export interface TrustFacts {
  policy: ApprovalPolicy;
  config: TrustConfig;
  votes: readonly VoteFact[];
  /** Who did the step(s) under review. */
  doers: readonly string[];
  /** The reviewed steps, for messages. */
  reviewed?: readonly string[];
}

export function judgeVote(f: Omit<TrustFacts, 'votes'>, vote: VoteFact): JudgedVote {
  const { policy } = f;
  const cfg = vote.config ?? f.config;
  const where = vote.committed ? `commit ${vote.commit?.slice(0, 12) ?? '?'}` : 'an uncommitted edit';
  if (vote.refused) return { ...vote, counts: false, why: vote.refused };
  if (!vote.email)
    return {
      ...vote,
      counts: false,
      why: `the author of ${vote.source} cannot be told (this clone is shallow: the commit that set it is at or past the edge of its history)`,
    };
  const email = lower(vote.email);
  const base = { ...vote, email };
  if (cfg.engineEmail && lower(cfg.engineEmail) === email)
    return { ...base, counts: false, why: `made by the engine's identity (${email}), not a person` };
  const who = handleOf(cfg, email);
  const withWho = who ? { ...base, who: `@${who}` } : base;
  if (policy.prevent_self_approval) {
    const self = selfApprover(cfg, email, f.doers);
    if (self) {
      const what = f.reviewed && f.reviewed.length > 0 ? f.reviewed.join(', ') : 'the work under review';
      return {
        ...withWho,
        counts: false,
        why: `made by ${email} (${where}), which is ${self}, the agent that did ${what}; prevent_self_approval is on`,
      };
    }
  }
  if (policy.approvers.length === 0) {
    const agents = agentsOf(cfg, email);
    if (!who && agents.length > 0) {
      // Anyone may approve, but an agent is not a person.
      return {
        ...withWho,
        counts: false,
        why: `made by ${email} (${where}), an agent identity (${agents.join(', ')}), not a person`,
      };
    }
    // No approvers named: any configured person may decide. An identity the config does not
    // know is not trusted, since anyone can set any email on a commit in their own clone.
    if (!who)
      return {
        ...withWho,
        counts: false,
        why: `made by ${email} (${where}), which is no user in .beads/config.toml ([users.<handle>] emails)`,
      };
    return { ...withWho, counts: true, why: `made by @${who} (${where}); any configured person may decide` };
  }
  const { handles } = expandApprovers(cfg, policy.approvers);
  if (!who)
    return {
      ...withWho,
      counts: false,
      why: `made by ${email} (${where}), which is no user in .beads/config.toml (allowed: ${policy.approvers.join(', ')})`,
    };
  if (!handles.has(who))
    return {
      ...withWho,
      counts: false,
      why: `made by @${who} (${where}), who is not an approver here (allowed: ${policy.approvers.join(', ')})`,
    };
  return { ...withWho, counts: true, why: `made by @${who} (${where}), an allowed approver` };
}

/**
 * The checkpoint's state from its votes: a rejection that counts rejects (any allowed reviewer
 * can stop the work); otherwise `min_approvals` distinct allowed people approve it.
 */
export function judgeApprovals(f: TrustFacts): ApprovalVerdict {
  const votes = f.votes.map((v) => judgeVote(f, v));
  const needed = Math.max(1, f.policy.min_approvals);
  const rejection = votes.find((v) => v.counts && v.decision === 'rejected');
  const approvers = new Set(
    votes.filter((v) => v.counts && v.decision === 'approved').map((v) => v.who ?? v.email),
  );
  const ignored = votes.filter((v) => !v.counts);
  const note =
    ignored.length > 0
      ? `; not counted: ${ignored.map((v) => `${v.decision} in ${v.source}: ${v.why}`).join('; ')}`
      : '';
  if (rejection) {
    return {
      state: 'rejected',
      votes,
      approvals: approvers.size,
      needed,
      rejection,
      summary: `rejected by ${rejection.who ?? rejection.email}: ${rejection.reason ?? ''}`.trim(),
    };
  }
  if (approvers.size >= needed)
    return {
      state: 'approved',
      votes,
      approvals: approvers.size,
      needed,
      summary: `approved by ${[...approvers].join(', ')}`,
    };
  return {
    state: 'pending',
    votes,
    approvals: approvers.size,
    needed,
    summary: `waiting for approval (${approvers.size} of ${needed})${note}`,
  };
}
