// `gastown config get|set|list`: single keys of .beads/config.toml, edited in place with their
// comments kept, and checked against every section's rules before anything is written.
import { join } from 'node:path';
import { GastownError } from '../../errors.js';
import { parseMailSection } from '../../mail/config.js';
import { parseNotificationsSection } from '../../notify/config.js';
import { readIfExists, writeFileAtomic } from '../../store/atomic.js';
import { DEFAULT_ENGINE, parseConfig } from '../../store/config.js';
import {
  flattenConfig,
  getPath,
  parseCliValue,
  parseKeyPath,
  renderTomlValue,
  setConfigText,
} from '../../store/config-edit.js';
import { CONFIG_FILE, findRoot } from '../../store/layout.js';
import { parseToml, type TomlTable } from '../../store/toml.js';
import type { CliContext } from '../context.js';

/** Every rule a config file must pass: the store's sections, `[mail]` and `[notifications]`. */
export function checkConfigText(text: string): void {
  const config = parseConfig(text, CONFIG_FILE);
  parseMailSection(config.extra.mail);
  parseNotificationsSection(config.extra.notifications);
}

function load(ctx: CliContext): { path: string; text: string; doc: TomlTable } {
  const root = findRoot(ctx.cwd);
  const path = join(root, CONFIG_FILE);
  const text = readIfExists(path) ?? '';
  return { path, text, doc: parseToml(text, CONFIG_FILE) };
}

function shown(value: unknown): string {
  return typeof value === 'string' ? value : renderTomlValue(value);
}

export async function get(ctx: CliContext, key: string, flags: { json?: boolean }): Promise<number> {
  const path = parseKeyPath(key);
  const { doc } = load(ctx);
  let value = getPath(doc, path);
  // The engine's settings have defaults: what gastown uses when the file says nothing.
  if (
    value === undefined &&
    path.length === 2 &&
    path[0] === 'engine' &&
    Object.hasOwn(DEFAULT_ENGINE, path[1] as string)
  )
    value = DEFAULT_ENGINE[path[1] as keyof typeof DEFAULT_ENGINE];
  if (value === undefined)
    throw new GastownError('config.no-key', `no key \`${key}\``, {
      location: { file: CONFIG_FILE, path: key },
    });
  if (flags.json) ctx.io.json(value);
  else if (typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date))
    for (const [k, v] of flattenConfig(value as TomlTable, path)) ctx.io.out(`${k} = ${renderTomlValue(v)}`);
  else ctx.io.out(shown(value));
  return 0;
}

export async function list(ctx: CliContext, flags: { json?: boolean }): Promise<number> {
  const { doc } = load(ctx);
  if (flags.json) ctx.io.json(doc);
  else for (const [k, v] of flattenConfig(doc)) ctx.io.out(`${k} = ${renderTomlValue(v)}`);
  return 0;
}

export async function set(
  ctx: CliContext,
  key: string,
  raw: string,
  flags: { string?: boolean; json?: boolean },
): Promise<number> {
  const path = parseKeyPath(key);
  const { path: file, text } = load(ctx);
  const value = parseCliValue(raw, Boolean(flags.string));
  const next = setConfigText(text, path, value, CONFIG_FILE);
  checkConfigText(next);
  if (next !== text) writeFileAtomic(file, next);
  if (flags.json) ctx.io.json({ key, value });
  else ctx.io.out(`${key} = ${renderTomlValue(value)}`);
  return 0;
}
