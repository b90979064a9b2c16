// Heartbeats and claims (docs/patrol.md). A heartbeat is a gitignored file per agent under
// `.beads/.cache/heartbeats/`, written by `gastown heartbeat`; a claim is a step attempt an agent
// started and has not finished. Pure classification here; reading and writing in heartbeat.ts.
import { parseDuration } from '../formula/duration.js';
import { FieldError } from '../store/check.js';
import { CONFIG_FILE, parseEventName } from '../store/layout.js';
import type { TomlTable } from '../store/toml.js';
import type { GastownConfig } from '../store/types.js';

export type AgentState = 'working' | 'stalled' | 'zombie' | 'unknown';

export interface PatrolSettings {
  /** No heartbeat for this long: stalled (reported). */
  stalledAfterMs: number;
  /** No heartbeat for this long: zombie (its claimed steps are released). */
  zombieAfterMs: number;
}

export const DEFAULT_STALLED_AFTER = '15m';
export const DEFAULT_ZOMBIE_AFTER = '1h';

export function patrolSettings(config: GastownConfig): PatrolSettings {
  const raw = ((config.extra as TomlTable | undefined)?.patrol ?? {}) as TomlTable;
  const ms = (key: string, fallback: string): number => {
    const v = raw[key] ?? fallback;
    const d = typeof v === 'string' ? parseDuration(v) : undefined;
    if (d === undefined || d <= 0)
      throw new FieldError(
        CONFIG_FILE,
        `patrol.${key}`,
        `\`patrol.${key}\` must be a duration such as "15m"`,
      );
    return d;
  };
  const stalledAfterMs = ms('stalled_after', DEFAULT_STALLED_AFTER);
  const zombieAfterMs = ms('zombie_after', DEFAULT_ZOMBIE_AFTER);
  if (zombieAfterMs < stalledAfterMs)
    throw new FieldError(
      CONFIG_FILE,
      'patrol.zombie_after',
      '`patrol.zombie_after` must not be shorter than `patrol.stalled_after`',
    );
  return { stalledAfterMs, zombieAfterMs };
}

/** An agent's state from the age of its last heartbeat; `unknown` when it never sent one. */
export function agentState(lastBeat: number | undefined, now: number, s: PatrolSettings): AgentState {
  if (lastBeat === undefined) return 'unknown';
  const age = now - lastBeat;
  return age >= s.zombieAfterMs ? 'zombie' : age >= s.stalledAfterMs ? 'stalled' : 'working';
}

/** A step attempt started and not finished. */
export interface OpenClaim {
  molecule: string;
  step: string;
  attempt: number;
}

/**
 * The step attempts in flight, from the names in a molecule's `events/`: a `started` fact of the
 * step's latest attempt with no `done`, `failed` or `skipped` for it.
 */
export function openClaims(molecule: string, eventNames: readonly string[]): OpenClaim[] {
  const latest = new Map<string, number>();
  const kinds = new Map<string, Set<string>>();
  for (const name of eventNames) {
    const e = parseEventName(name);
    if (!e) continue;
    if (e.scope === 'molecule') {
      if (e.kind === 'completed' || e.kind === 'cancelled') return [];
      continue;
    }
    latest.set(e.step, Math.max(latest.get(e.step) ?? 0, e.attempt));
    const key = `${e.step}\0${e.attempt}`;
    let set = kinds.get(key);
    if (!set) kinds.set(key, (set = new Set()));
    set.add(e.kind);
  }
  const out: OpenClaim[] = [];
  for (const [step, attempt] of latest) {
    const k = kinds.get(`${step}\0${attempt}`);
    if (k?.has('started') && !k.has('done') && !k.has('failed') && !k.has('skipped'))
      out.push({ molecule, step, attempt });
  }
  return out.sort((a, b) => (a.step < b.step ? -1 : 1));
}
