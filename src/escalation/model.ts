// Escalations as files (docs/escalation.md). One folder per escalation; every later fact is a
// file of its own, so acks, closes and re-escalations from two clones merge without conflict:
//
//   .beads/escalations/<id>/escalation.toml     what, severity, molecule, to, by (written once)
//   .beads/escalations/<id>/reescalated.<n>.toml level n: the severity it climbed to (deterministic)
//   .beads/escalations/<id>/ack.<who>.toml       someone acknowledged it
//   .beads/escalations/<id>/closed.<who>.toml    someone closed it
//
// Pure: paths, the `[escalation]` config section, rendering and parsing.
import { parseDuration } from '../formula/duration.js';
import { parseAddress } from '../mail/syntax.js';
import { FieldError } from '../store/check.js';
import { BEADS, CONFIG_FILE } from '../store/layout.js';
import { stringifyToml, type TomlTable } from '../store/toml.js';
import type { GastownConfig } from '../store/types.js';

export const ESCALATIONS_DIR = `${BEADS}/escalations`;
export const ESCALATION_FILE = 'escalation.toml';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/** One severity up, at most critical. */
export function severityAbove(s: Severity, steps = 1): Severity {
  return SEVERITIES[Math.min(SEVERITIES.indexOf(s) + steps, SEVERITIES.length - 1)] as Severity;
}

export const escalationRel = (id: string, file = ESCALATION_FILE) => `${ESCALATIONS_DIR}/${id}/${file}`;
export const levelFile = (n: number) => `reescalated.${n}.toml`;
export const ackFile = (whoFolder: string) => `ack.${whoFolder}.toml`;
export const closedFile = (whoFolder: string) => `closed.${whoFolder}.toml`;

/** A route: a mail address, a notification webhook by name, or the command's log. */
export type Route = { kind: 'mail'; address: string } | { kind: 'webhook'; name: string } | { kind: 'log' };

export interface EscalationSettings {
  routes: Record<Severity, Route[]>;
  /** How long an unacknowledged level waits before the next (ms). */
  staleAfterMs: number;
  maxReescalations: number;
  /** Severity of the escalations the engine raises by itself. */
  checkpointSeverity: Severity;
  gateSeverity: Severity;
}

export const DEFAULT_STALE_AFTER = '4h';
export const DEFAULT_MAX_REESCALATIONS = 2;

function fail(path: string, message: string): never {
  throw new FieldError(CONFIG_FILE, path, message);
}

function parseRoute(text: unknown, path: string): Route {
  if (typeof text !== 'string')
    fail(path, `\`${path}\` must be a string such as "mail:@jgil", "webhook:pager" or "log"`);
  if (text === 'log') return { kind: 'log' };
  if (text.startsWith('mail:')) {
    const address = text.slice(5);
    if (!parseAddress(address)) fail(path, `\`${path}\`: ${JSON.stringify(address)} is not a mail address`);
    return { kind: 'mail', address };
  }
  if (text.startsWith('webhook:')) {
    const name = text.slice(8);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(name))
      fail(path, `\`${path}\`: ${JSON.stringify(name)} is not a webhook name`);
    return { kind: 'webhook', name };
  }
  return fail(
    path,
    `\`${path}\` must be "mail:<address>", "webhook:<name>" or "log", not ${JSON.stringify(text)}`,
  );
}

function severityField(t: TomlTable, key: string, fallback: Severity): Severity {
  const v = t[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !isSeverity(v))
    fail(`escalation.${key}`, `\`escalation.${key}\` must be one of ${SEVERITIES.join(', ')}`);
  return v;
}

const cache = new WeakMap<GastownConfig, EscalationSettings>();

/** The `[escalation]` section; a malformed one is an error naming the key. */
export function escalationSettings(config: GastownConfig): EscalationSettings {
  const hit = cache.get(config);
  if (hit) return hit;
  const raw = (config.extra as TomlTable | undefined)?.escalation ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail('escalation', '`escalation` must be a table');
  const t = raw as TomlTable;
  const staleText = t.stale_after ?? DEFAULT_STALE_AFTER;
  const staleAfterMs = typeof staleText === 'string' ? parseDuration(staleText) : undefined;
  if (staleAfterMs === undefined || staleAfterMs <= 0)
    fail('escalation.stale_after', '`escalation.stale_after` must be a duration such as "30m" or "4h"');
  const max = t.max_reescalations ?? DEFAULT_MAX_REESCALATIONS;
  if (!Number.isInteger(max) || (max as number) < 0 || (max as number) > 100)
    fail('escalation.max_reescalations', '`escalation.max_reescalations` must be an integer from 0 to 100');
  const rawRoutes = t.routes ?? {};
  if (typeof rawRoutes !== 'object' || rawRoutes === null || Array.isArray(rawRoutes))
    fail('escalation.routes', '`escalation.routes` must be a table');
  const routes = {} as Record<Severity, Route[]>;
  for (const key of Object.keys(rawRoutes as TomlTable))
    if (!isSeverity(key))
      fail(`escalation.routes.${key}`, `unknown severity \`${key}\`: use ${SEVERITIES.join(', ')}`);
  for (const s of SEVERITIES) {
    const list = (rawRoutes as TomlTable)[s] ?? ['log'];
    if (!Array.isArray(list))
      fail(`escalation.routes.${s}`, `\`escalation.routes.${s}\` must be an array of strings`);
    routes[s] = list.map((r, i) => parseRoute(r, `escalation.routes.${s}[${i}]`));
  }
  const out: EscalationSettings = {
    routes,
    staleAfterMs,
    maxReescalations: max as number,
    checkpointSeverity: severityField(t, 'checkpoint_severity', 'medium'),
    gateSeverity: severityField(t, 'gate_severity', 'high'),
  };
  cache.set(config, out);
  return out;
}

/** What escalation.toml holds. */
export interface EscalationRecord {
  id: string;
  severity: Severity;
  what: string;
  /** `manual` (a person or agent), `checkpoint` (overdue) or `gate` (at max_attempts). */
  source: 'manual' | 'checkpoint' | 'gate';
  molecule?: string;
  step?: string;
  to?: string[];
  by?: string;
}

const KEY_ORDER = ['id', 'severity', 'what', 'source', 'molecule', 'step', 'to', 'by'];

export function renderEscalation(r: EscalationRecord): string {
  return stringifyToml({ ...r } as TomlTable, KEY_ORDER);
}

export function checkEscalation(obj: TomlTable, file: string, folderId: string): EscalationRecord {
  const s = (key: string, required: boolean): string | undefined => {
    const v = obj[key];
    if (v === undefined) {
      if (required) throw new FieldError(file, key, `missing required field \`${key}\``);
      return undefined;
    }
    if (typeof v !== 'string' || v === '')
      throw new FieldError(file, key, `\`${key}\` must be a non-empty string`);
    return v;
  };
  const id = s('id', true) as string;
  if (id !== folderId)
    throw new FieldError(file, 'id', `\`id\` is ${JSON.stringify(id)} but the folder is ${folderId}`);
  const severity = s('severity', true) as string;
  if (!isSeverity(severity))
    throw new FieldError(file, 'severity', `\`severity\` must be one of ${SEVERITIES.join(', ')}`);
  const source = s('source', false) ?? 'manual';
  if (source !== 'manual' && source !== 'checkpoint' && source !== 'gate')
    throw new FieldError(file, 'source', '`source` must be manual, checkpoint or gate');
  const to = obj.to;
  if (to !== undefined && (!Array.isArray(to) || !to.every((x) => typeof x === 'string')))
    throw new FieldError(file, 'to', '`to` must be an array of strings');
  const molecule = s('molecule', false);
  const step = s('step', false);
  const by = s('by', false);
  return {
    id,
    severity,
    what: s('what', true) as string,
    source,
    ...(molecule ? { molecule } : {}),
    ...(step ? { step } : {}),
    ...(to ? { to: to as string[] } : {}),
    ...(by ? { by } : {}),
  };
}

export function renderLevel(level: number, severity: Severity): string {
  return stringifyToml({ level, severity }, ['level', 'severity']);
}

export function renderMark(by: string, reason?: string): string {
  return stringifyToml({ by, ...(reason ? { reason } : {}) }, ['by', 'reason']);
}
