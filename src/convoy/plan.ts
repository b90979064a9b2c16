// What a convoy is now, from its file and its members' states: progress, order, what blocks
// what, the next checkpoint, and whether it has landed. Pure: the caller reads the files. The
// landing's mail is in landing.ts, so showing a convoy does not load the mail code.
import type { ConvoyMeta } from './model.js';

/** What the convoy needs to know about one member molecule. */
export interface MemberInfo {
  id: string;
  /** The molecule's state (`molecule status`), or `missing` for an external one not fetched. */
  state: string;
  after?: string;
  blocked_reason?: string;
  progress: { done: number; total: number };
  /** Attempts made, over every step that has begun. */
  attempts: number;
  /** The latest gate report's pass rate (percent), when a gate ran. */
  pass_rate?: number;
  /** The first checkpoint waiting for a decision: its step and repo-relative path. */
  checkpoint?: { step: string; path: string };
  /** `<remote>` for a member read from another repository's fetched ref. */
  remote?: string;
}

export interface MemberView extends MemberInfo {
  /** Molecules that must complete before this one can start (its `after`, not completed). */
  blocked_by: string[];
}

export type ConvoyState = 'open' | 'landing' | 'landed' | 'closed';

export interface ConvoyView {
  id: string;
  name: string;
  owner: string;
  teams: string[];
  description?: string;
  state: ConvoyState;
  progress: { done: number; total: number; percent: number };
  molecules: MemberView[];
  next_checkpoint?: { molecule: string; step: string; path: string };
}

/** Members ordered so each comes after the one it waits for; ties by id. */
export function orderMembers(members: readonly MemberInfo[]): MemberInfo[] {
  const byId = new Map(members.map((m) => [m.id, m]));
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out: MemberInfo[] = [];
  const placed = new Set<string>();
  const place = (m: MemberInfo, seen: Set<string>) => {
    if (placed.has(m.id) || seen.has(m.id)) return;
    seen.add(m.id);
    const before = m.after ? byId.get(m.after) : undefined;
    if (before) place(before, seen);
    placed.add(m.id);
    out.push(m);
  };
  for (const m of sorted) place(m, new Set());
  return out;
}

export function percentOf(done: number, total: number): number {
  return total === 0 ? 0 : Math.round((done / total) * 1000) / 10;
}

export function convoyView(
  meta: ConvoyMeta,
  members: readonly MemberInfo[],
  facts: { landed: boolean; closed: boolean },
): ConvoyView {
  const ordered = orderMembers(members);
  const stateOf = new Map(members.map((m) => [m.id, m.state]));
  const molecules: MemberView[] = ordered.map((m) => ({
    ...m,
    blocked_by: m.after && stateOf.get(m.after) !== 'completed' ? [m.after] : [],
  }));
  const done = members.filter((m) => m.state === 'completed').length;
  const total = members.length;
  const state: ConvoyState = facts.closed
    ? 'closed'
    : facts.landed
      ? 'landed'
      : total > 0 && done === total
        ? 'landing'
        : 'open';
  const next = molecules.find((m) => m.checkpoint);
  return {
    id: meta.id,
    name: meta.name,
    owner: meta.owner,
    teams: meta.teams,
    ...(meta.description !== undefined ? { description: meta.description } : {}),
    state,
    progress: { done, total, percent: percentOf(done, total) },
    molecules,
    ...(next?.checkpoint ? { next_checkpoint: { molecule: next.id, ...next.checkpoint } } : {}),
  };
}

/**
 * The chain of `after` links that `mol --after after` would close into a cycle, or undefined.
 * `afterOf` gives each molecule's current `after`.
 */
export function afterCycle(
  mol: string,
  after: string,
  afterOf: (id: string) => string | undefined,
): string[] | undefined {
  const chain = [mol, after];
  const seen = new Set(chain);
  let cur: string | undefined = afterOf(after);
  while (cur !== undefined) {
    chain.push(cur);
    if (cur === mol) return chain;
    if (seen.has(cur)) return undefined;
    seen.add(cur);
    cur = afterOf(cur);
  }
  return undefined;
}
