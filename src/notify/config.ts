// The `[notifications]` section of .beads/config.toml: where mail is announced beyond the
// repository. Read from `config.extra.notifications`; errors name the file and key.
import { parseDuration } from '../formula/duration.js';
import { MESSAGE_TYPES } from '../mail/config.js';
import { parseAddress, validName } from '../mail/syntax.js';
import { FieldError } from '../store/check.js';
import { CONFIG_FILE } from '../store/layout.js';
import type { TomlTable } from '../store/toml.js';
import type { GastownConfig } from '../store/types.js';

interface Common {
  /** `webhook.<name>` or `email`: names the endpoint's ledger folder and its idempotency keys. */
  name: string;
  /** Message types to announce (`message` is mail people and agents send); undefined: all. */
  types?: string[];
  /** Mailboxes whose mail to announce (teams stand for their members); undefined: all. */
  addresses?: string[];
  /** Attempts before a delivery is recorded failed. */
  maxAttempts: number;
  /** Wait before the second attempt; each later wait doubles (at most an hour). */
  backoffMs: number;
  /** How long one attempt may take. */
  timeoutMs: number;
}

export interface WebhookEndpoint extends Common {
  kind: 'webhook';
  url?: string;
  /** Environment variable holding the URL (keeps a secret URL out of the repository). */
  urlEnv?: string;
}

export interface EmailEndpoint extends Common {
  kind: 'email';
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  from: string;
  /** Fixed recipients; by default the email configured for the mailbox's agent or person. */
  to?: string[];
  user?: string;
  /** Environment variable holding the SMTP password. */
  passwordEnv?: string;
}

export type Endpoint = WebhookEndpoint | EmailEndpoint;

export const DEFAULTS = { maxAttempts: 8, backoff: '1s', timeout: '10s' } as const;

function isTable(v: unknown): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function fail(path: string, message: string): never {
  throw new FieldError(CONFIG_FILE, path, message);
}

function str(t: TomlTable, key: string, path: string): string | undefined {
  const v = t[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '')
    fail(`${path}.${key}`, `\`${path}.${key}\` must be a non-empty string`);
  return v;
}

function list(t: TomlTable, key: string, path: string): string[] | undefined {
  const v = t[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    fail(`${path}.${key}`, `\`${path}.${key}\` must be an array of strings`);
  return v as string[];
}

function duration(t: TomlTable, key: string, path: string, fallback: string): number {
  const text = str(t, key, path) ?? fallback;
  const ms = parseDuration(text);
  if (ms === undefined)
    fail(`${path}.${key}`, `\`${path}.${key}\` must be a duration such as "1s" or "500ms"`);
  return ms;
}

const COMMON_KEYS = ['types', 'addresses', 'max_attempts', 'backoff', 'timeout'];

function common(t: TomlTable, path: string, name: string, known: readonly string[]): Common {
  for (const key of Object.keys(t))
    if (!COMMON_KEYS.includes(key) && !known.includes(key))
      fail(
        `${path}.${key}`,
        `unknown key \`${path}.${key}\` (known: ${[...known, ...COMMON_KEYS].join(', ')})`,
      );
  const types = list(t, 'types', path);
  const typeNames = ['message', ...MESSAGE_TYPES];
  const badType = types?.find((x) => !typeNames.includes(x));
  if (badType !== undefined)
    fail(`${path}.types`, `unknown message type ${JSON.stringify(badType)} (types: ${typeNames.join(', ')})`);
  const addresses = list(t, 'addresses', path);
  const badAddress = addresses?.find((a) => !parseAddress(a));
  if (badAddress !== undefined)
    fail(
      `${path}.addresses`,
      `${JSON.stringify(badAddress)} is not an address (agent, @person, team:<name>, queue:<name>)`,
    );
  const max = t.max_attempts ?? DEFAULTS.maxAttempts;
  if (!Number.isInteger(max) || (max as number) < 1 || (max as number) > 100)
    fail(`${path}.max_attempts`, `\`${path}.max_attempts\` must be an integer from 1 to 100`);
  return {
    name,
    ...(types ? { types } : {}),
    ...(addresses ? { addresses } : {}),
    maxAttempts: max as number,
    backoffMs: duration(t, 'backoff', path, DEFAULTS.backoff),
    timeoutMs: duration(t, 'timeout', path, DEFAULTS.timeout),
  };
}

function webhook(name: string, raw: unknown): WebhookEndpoint {
  const path = `notifications.webhook.${name}`;
  if (!validName(name))
    fail(path, `webhook name ${JSON.stringify(name)}: use letters, digits, '_', '-' and '.'`);
  if (!isTable(raw)) fail(path, `\`${path}\` must be a table`);
  const url = str(raw, 'url', path);
  const urlEnv = str(raw, 'url_env', path);
  if ((url === undefined) === (urlEnv === undefined))
    fail(`${path}.url`, `\`${path}\` needs exactly one of \`url\` and \`url_env\``);
  if (url !== undefined && !/^https?:\/\/[^\s]+$/.test(url))
    fail(`${path}.url`, `\`${path}.url\` must be an http:// or https:// URL`);
  return {
    kind: 'webhook',
    ...common(raw, path, `webhook.${name}`, ['url', 'url_env']),
    ...(url ? { url } : {}),
    ...(urlEnv ? { urlEnv } : {}),
  };
}

function email(raw: unknown): EmailEndpoint {
  const path = 'notifications.email';
  if (!isTable(raw)) fail(path, `\`${path}\` must be a table`);
  const host = str(raw, 'host', path);
  const from = str(raw, 'from', path);
  if (host === undefined) fail(`${path}.host`, `missing required field \`${path}.host\``);
  if (from === undefined) fail(`${path}.from`, `missing required field \`${path}.from\``);
  const secure = raw.secure ?? false;
  if (typeof secure !== 'boolean') fail(`${path}.secure`, `\`${path}.secure\` must be true or false`);
  const port = raw.port ?? (secure ? 465 : 587);
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)
    fail(`${path}.port`, `\`${path}.port\` must be a port number`);
  const to = list(raw, 'to', path);
  const user = str(raw, 'user', path);
  const passwordEnv = str(raw, 'password_env', path);
  return {
    kind: 'email',
    ...common(raw, path, 'email', ['host', 'port', 'secure', 'from', 'to', 'user', 'password_env']),
    host,
    port: port as number,
    secure,
    from,
    ...(to ? { to } : {}),
    ...(user ? { user } : {}),
    ...(passwordEnv ? { passwordEnv } : {}),
  };
}

export function parseNotificationsSection(raw: unknown): Endpoint[] {
  if (raw === undefined) return [];
  if (!isTable(raw)) fail('notifications', '`notifications` must be a table');
  const endpoints: Endpoint[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'webhook') {
      if (!isTable(value))
        fail('notifications.webhook', '`notifications.webhook` must be a table of webhooks');
      for (const [name, w] of Object.entries(value)) endpoints.push(webhook(name, w));
    } else if (key === 'email') endpoints.push(email(value));
    else fail(`notifications.${key}`, `unknown key \`notifications.${key}\` (known: webhook, email)`);
  }
  return endpoints;
}

const cache = new WeakMap<GastownConfig, Endpoint[]>();

/** The notification endpoints of a loaded config; throws a FieldError naming the key. */
export function notificationEndpoints(config: GastownConfig): Endpoint[] {
  const hit = cache.get(config);
  if (hit) return hit;
  const endpoints = parseNotificationsSection(config.extra.notifications);
  cache.set(config, endpoints);
  return endpoints;
}
