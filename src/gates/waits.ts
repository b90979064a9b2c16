// Waits and loops as pure evaluators: timers and deadlines, waiting for another molecule,
// `until` loops, and `on_complete.for_each` (which molecules to spawn from a step's output).
// The engine gathers the facts (times, states, files) and applies what these decide.
import { FrontMatterError, parseFrontMatter } from '../checkpoint/frontmatter.js';
import { opensFrontMatter } from '../checkpoint/frontmatter-split.js';
import type { MoleculeGate, OnComplete, RuntimeLoop, TimerGate } from '../formula/model.js';
import { dueSummary, durationMs, formatDuration } from './duration.js';
import { type ExprContext, evaluateExpression } from './expr.js';

export interface Deadline {
  /** The clock has started: the fact it counts from is recorded with a time. */
  started: boolean;
  deadline?: Date;
  overdue: boolean;
  /** What a status line says. */
  summary: string;
}

/**
 * A duration counted from a recorded time. `startedAt` is the commit time of the fact the
 * clock counts from; undefined means that fact is not committed yet, and the clock has not
 * started (see docs/decisions.md, checkpoints and gates: engine-made files carry no wall-clock time).
 */
export function evaluateDeadline(timeout: string, startedAt: Date | undefined, now: Date): Deadline {
  const ms = durationMs(timeout);
  if (ms === undefined)
    return { started: false, overdue: false, summary: `timeout \`${timeout}\` is not a duration` };
  if (!startedAt)
    return {
      started: false,
      overdue: false,
      summary: `${formatDuration(ms)} clock starts when the request is committed`,
    };
  const deadline = new Date(startedAt.getTime() + ms);
  const overdue = now.getTime() >= deadline.getTime();
  return {
    started: true,
    deadline,
    overdue,
    summary: overdue ? `overdue since ${deadline.toISOString()}` : dueSummary(deadline, now),
  };
}

/** A timer gate: the step may proceed once its duration has passed since it became ready. */
export function evaluateTimer(
  gate: TimerGate,
  readyAt: Date | undefined,
  now: Date,
): { ready: boolean; reason: string; due?: Date } {
  const d = evaluateDeadline(gate.timeout, readyAt, now);
  const out: { ready: boolean; reason: string; due?: Date } = {
    ready: d.overdue,
    reason: d.overdue ? `timer ${gate.timeout} elapsed` : `timer ${gate.timeout}: ${d.summary}`,
  };
  if (d.deadline) out.due = d.deadline;
  return out;
}

export interface OtherMolecule {
  exists: boolean;
  state?: string;
}

/** Waiting for another molecule: ready only when it is completed. */
export function evaluateMoleculeWait(
  gate: MoleculeGate,
  other: OtherMolecule,
): { ready: boolean; reason: string } {
  if (!other.exists)
    return { ready: false, reason: `waiting for molecule ${gate.molecule}, which does not exist` };
  if (other.state === gate.state)
    return { ready: true, reason: `molecule ${gate.molecule} is ${gate.state}` };
  return {
    ready: false,
    reason: `waiting for molecule ${gate.molecule} to be ${gate.state} (now ${other.state ?? 'unknown'})`,
  };
}

export type LoopDecision =
  | { action: 'done'; reason: string; seen: string[] }
  | { action: 'repeat'; nextAttempt: number; reason: string; seen: string[] }
  | { action: 'exhausted'; reason: string; seen: string[] };

/**
 * After iteration `iteration` (1-based: the body's attempt number) of a runtime loop finished:
 * stop when `until` holds, run the body again while under `max`, otherwise report exhaustion
 * (the engine blocks the molecule with that reason rather than carrying on unchecked).
 */
export function decideLoop(loop: RuntimeLoop, iteration: number, ctx: ExprContext): LoopDecision {
  const r = evaluateExpression(loop.until, ctx);
  const facts = r.seen.length > 0 ? ` (${r.seen.join(', ')})` : '';
  if (r.holds)
    return {
      action: 'done',
      reason: `\`${loop.until}\` holds after ${iteration} iteration${iteration === 1 ? '' : 's'}${facts}`,
      seen: r.seen,
    };
  if (iteration < loop.max)
    return {
      action: 'repeat',
      nextAttempt: iteration + 1,
      reason: `\`${loop.until}\` does not hold yet${facts}; iteration ${iteration + 1} of at most ${loop.max}`,
      seen: r.seen,
    };
  return {
    action: 'exhausted',
    reason: `loop ran ${loop.max} times and \`${loop.until}\` still does not hold${facts}`,
    seen: r.seen,
  };
}

export interface OutputDoc {
  data: Record<string, unknown>;
  body: string;
}

/** Reads outputs/<step>.md: front matter when present, otherwise all body. */
export function parseOutputFile(text: string): OutputDoc {
  if (!opensFrontMatter(text)) return { data: {}, body: text };
  const fm = parseFrontMatter(text);
  return { data: fm.data, body: fm.body };
}

const norm = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '-');

/**
 * A list from a step's output, by field: a front matter list (`polecats: [a, b]`, items may be
 * tables) or, when the front matter has no such field, the markdown bullet list under a heading
 * with that name (`## Polecats` then `- a` lines; `_`, `-` and spaces are alike, case ignored).
 */
export function outputList(doc: OutputDoc, field: readonly string[]): unknown[] | undefined {
  let cur: unknown = doc.data;
  for (const k of field)
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  if (Array.isArray(cur)) return cur;
  if (cur !== undefined || field.length !== 1) return undefined;
  const want = norm(field[0] as string);
  const lines = doc.body.split(/\r?\n/);
  let inSection = false;
  let items: string[] | undefined;
  for (const line of lines) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      if (inSection) break;
      inSection = norm(heading[1] as string) === want;
      if (inSection) items = [];
      continue;
    }
    if (!inSection) continue;
    const bullet = /^\s*(?:[-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (bullet) items?.push((bullet[1] as string).trim().replace(/^`(.*)`$/, '$1'));
  }
  return items;
}

export interface SpawnSpec {
  /**
   * Deterministic: `<parent>-<step>-<n>` (n from 1; `<parent>-<step>-a<attempt>-<n>` for a
   * re-opened step's later attempts), so re-running reconcile, or another clone, finds the same ids.
   */
  id: string;
  formula: string;
  vars: Record<string, string>;
  index: number;
}

export class ForEachError extends Error {}

/** A step id as part of a molecule id: lowercase letters, digits and `-`. */
export function idPart(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

function itemText(item: unknown): string {
  if (typeof item === 'string') return item;
  if (typeof item === 'number' || typeof item === 'boolean') return String(item);
  return JSON.stringify(item);
}

/**
 * The molecules `on_complete` asks for once `step` of molecule `parent` is done. `for_each`
 * is `output.<field>` (beads' spelling: a field of this step's output); `vars` values may use
 * `{item}`, `{item.<field>}`, `{index}` (0-based) and the parent's `{{vars}}` are already cooked.
 */
export function forEachSpawns(
  onComplete: OnComplete,
  parent: string,
  step: string,
  output: OutputDoc | undefined,
  attempt = 1,
): SpawnSpec[] {
  const path = onComplete.for_each.split('.');
  if (path[0] !== 'output' || path.length < 2)
    throw new ForEachError(
      `for_each \`${onComplete.for_each}\` must name a field of the step's output: output.<field>`,
    );
  if (!output)
    throw new ForEachError(
      `for_each \`${onComplete.for_each}\`: step ${step} has no output file (outputs/${step}.md)`,
    );
  const list = outputList(output, path.slice(1));
  if (!list)
    throw new ForEachError(
      `for_each \`${onComplete.for_each}\`: outputs/${step}.md has no list \`${path.slice(1).join('.')}\` (front matter list or a bullet list under a heading of that name)`,
    );
  return list.map((item, index) => {
    const vars: Record<string, string> = {};
    for (const [k, v] of Object.entries(onComplete.vars)) {
      vars[k] = v.replace(/\{(item(?:\.[A-Za-z0-9_-]+)*|index)\}/g, (whole, ref: string) => {
        if (ref === 'index') return String(index);
        if (ref === 'item') return itemText(item);
        let cur: unknown = item;
        for (const key of ref.split('.').slice(1))
          cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
        return cur === undefined ? whole : itemText(cur);
      });
    }
    const round = attempt > 1 ? `a${attempt}-` : '';
    return {
      id: `${idPart(parent)}-${idPart(step)}-${round}${index + 1}`,
      formula: onComplete.bond,
      vars,
      index,
    };
  });
}

export { FrontMatterError };
