// The `[mail]` section of .beads/config.toml: queues and which typed messages go to whom.
// Read from `config.extra.mail` (store/config.ts keeps sections it does not know), checked here
// with errors that name the file and key.

import { FieldError } from '../store/check.js';
import { CONFIG_FILE } from '../store/layout.js';
import type { TomlTable } from '../store/toml.js';
import type { GastownConfig } from '../store/types.js';
import { parseAddress } from './syntax.js';

/** The transitions the engine writes a message for (docs/mail.md, "Typed messages"). */
export const MESSAGE_TYPES = [
  'STEP_READY',
  'CHECKPOINT_READY',
  'CHECKPOINT_DECIDED',
  'GATE_FAILED',
  'BLOCKED',
  'MOLECULE_DONE',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Roles a route may name besides plain addresses; the engine fills them in per transition. */
export const ROUTE_ROLES = ['assignee', 'approvers', 'owner'] as const;
export type RouteRole = (typeof ROUTE_ROLES)[number];

/** Who gets each typed message unless `[mail.routes]` says otherwise. */
export const DEFAULT_ROUTES: Readonly<Record<MessageType, readonly string[]>> = {
  STEP_READY: ['assignee'],
  CHECKPOINT_READY: ['approvers'],
  CHECKPOINT_DECIDED: ['assignee'],
  GATE_FAILED: ['assignee'],
  BLOCKED: ['assignee', 'owner'],
  MOLECULE_DONE: ['owner'],
};

export interface MailSettings {
  /** Queue name → who may claim its messages (agents, `@people`, `team:`s; empty: anyone). */
  queues: Record<string, string[]>;
  /** Message type → roles and addresses it goes to (an empty list: not sent). */
  routes: Record<MessageType, readonly string[]>;
}

function isTable(v: unknown): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function strings(v: unknown, path: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new FieldError(CONFIG_FILE, path, `\`${path}\` must be an array of strings`);
  return v as string[];
}

/** `routes` keys are the type names in lower case (`checkpoint_ready`), as TOML keys usually are. */
export function routeKey(type: MessageType): string {
  return type.toLowerCase();
}

const cache = new WeakMap<GastownConfig, MailSettings>();

/** The `[mail]` settings of a loaded config; throws a FieldError naming the key when malformed. */
export function mailSettings(config: GastownConfig): MailSettings {
  const hit = cache.get(config);
  if (hit) return hit;
  const settings = parseMailSection(config.extra.mail);
  cache.set(config, settings);
  return settings;
}

export function parseMailSection(raw: unknown): MailSettings {
  const settings: MailSettings = { queues: {}, routes: { ...DEFAULT_ROUTES } };
  if (raw === undefined) return settings;
  if (!isTable(raw)) throw new FieldError(CONFIG_FILE, 'mail', '`mail` must be a table');
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'queues') {
      if (!isTable(value)) throw new FieldError(CONFIG_FILE, 'mail.queues', '`mail.queues` must be a table');
      for (const [name, readers] of Object.entries(value))
        settings.queues[name] = strings(readers, `mail.queues.${name}`);
    } else if (key === 'routes') {
      if (!isTable(value)) throw new FieldError(CONFIG_FILE, 'mail.routes', '`mail.routes` must be a table');
      for (const [name, to] of Object.entries(value)) {
        const type = MESSAGE_TYPES.find((t) => routeKey(t) === name);
        if (!type)
          throw new FieldError(
            CONFIG_FILE,
            `mail.routes.${name}`,
            `unknown message type \`${name}\`; the types are ${MESSAGE_TYPES.map(routeKey).join(', ')}`,
          );
        const entries = strings(to, `mail.routes.${name}`);
        const bad = entries.find((e) => !(ROUTE_ROLES as readonly string[]).includes(e) && !parseAddress(e));
        if (bad !== undefined)
          throw new FieldError(
            CONFIG_FILE,
            `mail.routes.${name}`,
            `${JSON.stringify(bad)} is neither a role (${ROUTE_ROLES.join(', ')}) nor an address (agent, @person, team:<name>, queue:<name>)`,
          );
        settings.routes[type] = entries;
      }
    } else {
      throw new FieldError(CONFIG_FILE, `mail.${key}`, `unknown key \`mail.${key}\` (known: queues, routes)`);
    }
  }
  return settings;
}
