// `.beads/config.toml`: engine settings, people, agents and teams. A missing file means the
// defaults; a malformed one is an error naming the file and key; sections we do not know are
// kept in `extra` for other parts of gastown.
import { join } from 'node:path';
import { hashHex } from '../hash.js';
import { readIfExists } from './atomic.js';
import { FieldError } from './check.js';
import { parseConfigTomlCached } from './config-cache.js';
import { CONFIG_FILE } from './layout.js';
import { parseToml, type TomlTable } from './toml.js';
import type { EngineConfig, GastownConfig } from './types.js';

export const DEFAULT_ENGINE: EngineConfig = {
  commit: true,
  author_name: 'gastown',
  author_email: 'gastown@localhost',
  hook_timeout: '5s',
};

export function defaultConfig(): GastownConfig {
  return { engine: { ...DEFAULT_ENGINE }, users: {}, agents: {}, teams: {}, extra: {}, hash: '' };
}

export function loadConfig(root: string): GastownConfig {
  const text = readIfExists(join(root, CONFIG_FILE));
  if (text === undefined) return defaultConfig();
  return parseConfig(text, CONFIG_FILE, parseConfigTomlCached(root, text, CONFIG_FILE));
}

function isTable(v: unknown): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function table(v: unknown, file: string, path: string): TomlTable {
  if (v === undefined) return {};
  if (!isTable(v)) throw new FieldError(file, path, `\`${path}\` must be a table`);
  return v;
}

function strings(v: unknown, file: string, path: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new FieldError(file, path, `\`${path}\` must be an array of strings`);
  return v as string[];
}

export function parseConfig(
  text: string,
  file: string,
  raw: TomlTable = parseToml(text, file),
): GastownConfig {
  const config = defaultConfig();
  // Hashed on first use: most commands never read it, and hashing loads node:crypto (~5 ms).
  let hash: string | undefined;
  Object.defineProperty(config, 'hash', { enumerable: true, get: () => (hash ??= hashHex('sha1', text)) });
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'engine') {
      const engine = table(value, file, 'engine');
      for (const [k, v] of Object.entries(engine)) {
        const path = `engine.${k}`;
        if (k === 'commit') {
          if (typeof v !== 'boolean') throw new FieldError(file, path, `\`${path}\` must be true or false`);
          config.engine.commit = v;
        } else if (k === 'author_name' || k === 'author_email' || k === 'hook_timeout') {
          if (typeof v !== 'string' || v === '')
            throw new FieldError(file, path, `\`${path}\` must be a non-empty string`);
          if (k === 'hook_timeout' && !/^\d+(ms|s|m|h|d)$/.test(v))
            throw new FieldError(file, path, `\`${path}\` must be a duration such as "5s" or "500ms"`);
          config.engine[k] = v;
        } else {
          // Keys added by later versions or other parts of gastown stay readable.
          (config.extra.engine ??= {}) as TomlTable;
          (config.extra.engine as TomlTable)[k] = v;
        }
      }
    } else if (key === 'users') {
      for (const [handle, u] of Object.entries(table(value, file, 'users'))) {
        const user = table(u, file, `users.${handle}`);
        if (user.name !== undefined && typeof user.name !== 'string')
          throw new FieldError(file, `users.${handle}.name`, `\`users.${handle}.name\` must be a string`);
        config.users[handle] = {
          ...(typeof user.name === 'string' ? { name: user.name } : {}),
          emails: strings(user.emails, file, `users.${handle}.emails`),
        };
      }
    } else if (key === 'agents') {
      for (const [name, a] of Object.entries(table(value, file, 'agents'))) {
        const agent = table(a, file, `agents.${name}`);
        config.agents[name] = { emails: strings(agent.emails, file, `agents.${name}.emails`) };
      }
    } else if (key === 'teams') {
      for (const [name, members] of Object.entries(table(value, file, 'teams'))) {
        config.teams[name] = strings(members, file, `teams.${name}`);
      }
    } else {
      config.extra[key] = value;
    }
  }
  return config;
}

/** The handle (`@jgil`) or agent name an email belongs to, if the config names it. */
export function identityForEmail(config: GastownConfig, email: string): string | undefined {
  const e = email.toLowerCase();
  for (const [name, a] of Object.entries(config.agents))
    if (a.emails.some((x) => x.toLowerCase() === e)) return name;
  for (const [handle, u] of Object.entries(config.users))
    if (u.emails.some((x) => x.toLowerCase() === e)) return `@${handle}`;
  return undefined;
}

/**
 * Why `name` (given as `--as` or `GASTOWN_AGENT`) is no one the config knows, or undefined when
 * it is: an agent's name, a person's handle (`@jgil` or `jgil`) or one of their emails. A config
 * that lists nobody has no one to check against, so any name goes.
 */
export function unknownActorProblem(config: GastownConfig, name: string): string | undefined {
  const agents = Object.keys(config.agents);
  const people = Object.keys(config.users);
  if (agents.length === 0 && people.length === 0) return undefined;
  const bare = name.replace(/^@/, '');
  if (Object.hasOwn(config.agents, name) || Object.hasOwn(config.users, bare)) return undefined;
  if (name.includes('@') && identityForEmail(config, name) !== undefined) return undefined;
  const known = [
    agents.length > 0 ? `agents: ${agents.join(', ')}` : '',
    people.length > 0 ? `people: ${people.map((p) => `@${p}`).join(', ')}` : '',
  ].filter(Boolean);
  return `${JSON.stringify(name)} is no agent or person in ${CONFIG_FILE} (${known.join('; ')})`;
}
