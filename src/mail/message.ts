// One message file: YAML front matter (machine fields, one per line, fixed order) and a markdown
// body. The file carries no time and no host: the commit that adds it says when and who. Pure.
import { formatBytes } from '../store/atomic.js';

/**
 * The largest body a message may have (docs/mail.md). Mail is a note with a pointer, not a
 * transport for files: an engine message quoting an output is cut to fit and names the file.
 * Every check of a body's size uses this one constant.
 */
export const MAX_MAIL_BODY_BYTES = 256 * 1024;

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** What a message says about itself, in the order the file lists it. */
export interface MailHeader {
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  /** `message` for mail people and agents send; a MessageType for the engine's. */
  type: string;
  /** The id of the first message of the conversation (for engine mail: the molecule id). */
  thread?: string;
  reply_to?: string;
  priority?: Priority;
  molecule?: string;
  step?: string;
  attempt?: number;
}

export const HEADER_FIELDS = [
  'from',
  'to',
  'cc',
  'subject',
  'type',
  'thread',
  'reply_to',
  'priority',
  'molecule',
  'step',
  'attempt',
] as const;

export interface ParsedMessage {
  header: MailHeader;
  body: string;
}

/** A problem with one message file: the field (when one is at fault) and why. */
export class MessageError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

// Message ids. Mail people and agents send is named by a ULID (time-ordered, unique without
// coordination); the engine's is named by what happened, so two runs or two clones name it alike:
// `<molecule>[.<step>.<attempt>].<type>[.<hash>]`.
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export function isUlid(id: string): boolean {
  return ULID.test(id);
}

/** Is `id` usable as a message file's name (`<id>.md`)? */
export function isMessageId(id: string): boolean {
  return id.length <= 300 && ID.test(id) && !id.includes('..');
}

/** The sender, recipients and body size checked before anything is written. */
export function checkBodySize(body: string, label = 'message body'): void {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_MAIL_BODY_BYTES)
    throw new MessageError(
      `${label} is ${formatBytes(bytes)}; a message body is limited to ${formatBytes(MAX_MAIL_BODY_BYTES)} (commit a file and point to it instead)`,
      'body',
    );
}

/** Renders a value as YAML that is also JSON, so the fast reader below can read it back. */
function yamlValue(value: string | number | readonly string[]): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return plainSafe(value) ? value : JSON.stringify(value);
  return `[${value.map((v) => (plainSafe(v) ? v : JSON.stringify(v))).join(', ')}]`;
}

// Words YAML would read as something other than the same string, or that need quoting.
const PLAIN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const YAML_WORDS = /^(true|false|null|yes|no|on|off|y|n|~)$/i;
function plainSafe(s: string): boolean {
  return PLAIN.test(s) && !YAML_WORDS.test(s);
}

/** The file's text: front matter in HEADER_FIELDS order, a blank line, the body ending in a newline. */
export function renderMessage(header: MailHeader, body: string): string {
  const lines = ['---'];
  for (const key of HEADER_FIELDS) {
    const v = header[key];
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    // One recipient reads as a plain value; several as a list.
    const value = key === 'to' && Array.isArray(v) && v.length === 1 ? (v[0] as string) : v;
    lines.push(`${key}: ${yamlValue(value as string | number | string[])}`);
  }
  lines.push('---');
  const text = body.replace(/\r\n/g, '\n');
  return `${lines.join('\n')}\n\n${text.endsWith('\n') || text === '' ? text : `${text}\n`}`;
}

// The fast reader: the front matter renderMessage writes (`key: value`, values plain words,
// JSON strings, numbers or flow lists of those). Anything else goes to the YAML parser.
const LINE = /^([a-z_]+): (.*)$/s; // s: a value may hold U+2028, which `.` would stop at
const PLAIN_LIST_ITEM = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function fastValue(raw: string): unknown {
  if (raw.startsWith('"')) return JSON.parse(raw);
  if (raw.startsWith('[')) {
    const inner = raw.slice(1, -1).trim();
    if (!raw.endsWith(']')) throw new Error('list');
    if (inner === '') return [];
    // Split on commas outside JSON strings.
    const items: unknown[] = [];
    let i = 0;
    while (i < inner.length) {
      while (inner[i] === ' ') i++;
      let end: number;
      if (inner[i] === '"') {
        end = i + 1;
        while (end < inner.length && inner[end] !== '"') end += inner[end] === '\\' ? 2 : 1;
        end++;
        items.push(JSON.parse(inner.slice(i, end)));
      } else {
        end = inner.indexOf(',', i);
        if (end < 0) end = inner.length;
        const word = inner.slice(i, end).trim();
        if (!PLAIN_LIST_ITEM.test(word) || YAML_WORDS.test(word)) throw new Error('item');
        items.push(word);
      }
      i = end;
      while (inner[i] === ' ') i++;
      if (i < inner.length) {
        if (inner[i] !== ',') throw new Error('list');
        i++;
      }
    }
    return items;
  }
  if (/^(0|[1-9][0-9]{0,8})$/.test(raw)) return Number(raw);
  if (PLAIN.test(raw) && !YAML_WORDS.test(raw)) return raw;
  throw new Error('plain');
}

/** Splits the front matter off; undefined fields when the shape is not the one gastown writes. */
function fastFields(text: string): { fields: Record<string, unknown>; body: string } | undefined {
  if (!text.startsWith('---\n')) return undefined;
  const close = text.indexOf('\n---\n', 3);
  if (close < 0) return undefined;
  const fields: Record<string, unknown> = {};
  for (const line of text.slice(4, close).split('\n')) {
    const m = LINE.exec(line);
    if (!m || Object.hasOwn(fields, m[1] as string)) return undefined;
    try {
      fields[m[1] as string] = fastValue(m[2] as string);
    } catch {
      return undefined;
    }
  }
  let body = text.slice(close + 5);
  if (body.startsWith('\n')) body = body.slice(1);
  return { fields, body };
}

/**
 * Parses a message file. The fast reader takes what gastown writes; anything else (a message
 * written by hand) is read by the YAML parser, loaded only then. Throws MessageError.
 */
export async function parseMessage(text: string): Promise<ParsedMessage> {
  const fast = fastFields(text);
  if (fast) return { header: checkHeader(fast.fields), body: fast.body };
  const { parseFrontMatter, FrontMatterError } = await import('../checkpoint/frontmatter.js');
  try {
    const fm = parseFrontMatter(text);
    let body = fm.body;
    if (body.startsWith('\n')) body = body.slice(1);
    return { header: checkHeader(fm.data), body };
  } catch (err) {
    if (err instanceof FrontMatterError)
      throw new MessageError(err.line === undefined ? err.message : `line ${err.line}: ${err.message}`);
    throw err;
  }
}

/** parseMessage for text known to take the fast path; undefined when it does not. */
export function parseMessageFast(text: string): ParsedMessage | undefined {
  const fast = fastFields(text);
  return fast ? { header: checkHeader(fast.fields), body: fast.body } : undefined;
}

function str(fields: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const v = fields[key];
  if (v === undefined || v === null) {
    if (required) throw new MessageError(`missing field \`${key}\``, key);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') throw new MessageError(`\`${key}\` must be a non-empty string`, key);
  if (/[\r\n]/.test(v)) throw new MessageError(`\`${key}\` must be one line`, key);
  return v;
}

function list(fields: Record<string, unknown>, key: string, required: boolean): string[] | undefined {
  const v = fields[key];
  if (v === undefined || v === null) {
    if (required) throw new MessageError(`missing field \`${key}\``, key);
    return undefined;
  }
  const items = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(items) || !items.every((x) => typeof x === 'string' && x !== ''))
    throw new MessageError(`\`${key}\` must be an address or a list of addresses`, key);
  if (required && items.length === 0) throw new MessageError(`\`${key}\` must name a recipient`, key);
  return items as string[];
}

/** Checks the fields a message must have and the types of the ones it may have. */
export function checkHeader(fields: Record<string, unknown>): MailHeader {
  const header: MailHeader = {
    from: str(fields, 'from', true) as string,
    to: list(fields, 'to', true) as string[],
    subject: str(fields, 'subject', true) as string,
    type: str(fields, 'type', false) ?? 'message',
  };
  const cc = list(fields, 'cc', false);
  if (cc && cc.length > 0) header.cc = cc;
  for (const key of ['thread', 'reply_to', 'molecule', 'step'] as const) {
    const v = str(fields, key, false);
    if (v !== undefined) header[key] = v;
  }
  const priority = str(fields, 'priority', false);
  if (priority !== undefined) {
    if (!(PRIORITIES as readonly string[]).includes(priority))
      throw new MessageError(`\`priority\` must be one of ${PRIORITIES.join(', ')}`, 'priority');
    header.priority = priority as Priority;
  }
  const attempt = fields.attempt;
  if (attempt !== undefined && attempt !== null) {
    if (!Number.isInteger(attempt) || (attempt as number) < 1)
      throw new MessageError('`attempt` must be a positive integer', 'attempt');
    header.attempt = attempt as number;
  }
  return header;
}
