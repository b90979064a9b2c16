// Mail addresses and the folders they map to (docs/mail.md, "Addresses"). Pure: everything is
// decided from the config. An agent (`polecat-1`) and a person (`@jgil`) own a folder each; a
// team (`team:leads`) has no folder and fans out one copy to each member; a queue
// (`queue:triage`) owns one folder whose messages one reader claims.
import { type GastownError, UsageError } from '../errors.js';
import type { GastownConfig } from '../store/types.js';
import { mailSettings } from './config.js';

import { type Address, parseAddress, validName } from './syntax.js';

export type { Address, AddressKind } from './syntax.js';
export { parseAddress } from './syntax.js';

/** Who the engine's own messages are from; never an inbox. */
export const ENGINE_SENDER = 'gastown';

// Folder names: an address with every byte outside [A-Za-z0-9_.@-] written as %XX (upper-case
// hex). Only `:` of `queue:` ever needs it, and `:` is not allowed in file names on Windows and
// is shown as `/` by macOS; `@` is safe everywhere. The mapping is one-to-one and reversible.
const SAFE_BYTE = /^[A-Za-z0-9_.@-]$/;

/** The folder under `.beads/mail/` that holds an agent's, a person's or a queue's messages. */
export function addressFolder(address: string): string {
  let out = '';
  for (const ch of address) {
    if (SAFE_BYTE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The address a folder name stands for; undefined when the name is no folder addressFolder makes. */
export function folderAddress(folder: string): string | undefined {
  let text: string;
  try {
    text = decodeURIComponent(folder);
  } catch {
    return undefined;
  }
  const a = parseAddress(text);
  if (!a || a.kind === 'team' || addressFolder(text) !== folder) return undefined;
  return text;
}

/** Every address the config defines, sorted: agents, people, teams, queues. */
export function knownAddresses(config: GastownConfig): string[] {
  const settings = mailSettings(config);
  return [
    ...Object.keys(config.agents).filter(validName).sort(),
    ...Object.keys(config.users)
      .filter(validName)
      .sort()
      .map((h) => `@${h}`),
    ...Object.keys(config.teams)
      .filter(validName)
      .sort()
      .map((t) => `team:${t}`),
    ...Object.keys(settings.queues)
      .filter(validName)
      .sort()
      .map((q) => `queue:${q}`),
  ];
}

/** Is this address one the config defines? */
export function isKnownAddress(config: GastownConfig, text: string): boolean {
  const a = parseAddress(text);
  if (!a) return false;
  if (a.kind === 'agent') return Object.hasOwn(config.agents, a.name);
  if (a.kind === 'person') return Object.hasOwn(config.users, a.name);
  if (a.kind === 'team') return Object.hasOwn(config.teams, a.name);
  return Object.hasOwn(mailSettings(config).queues, a.name);
}

function unknownAddress(config: GastownConfig, text: string, what: string): GastownError {
  const known = knownAddresses(config);
  const list = known.length > 0 ? known.join(', ') : 'none: add [agents.<name>] or [users.<handle>]';
  const syntax = parseAddress(text)
    ? ''
    : ' (an address is an agent name, @person, team:<name> or queue:<name>)';
  return new UsageError(
    `unknown ${what} ${JSON.stringify(text)}${syntax}; known addresses in .beads/config.toml: ${list}`,
  );
}

/** The address, checked against the config; a usage error listing the known ones otherwise. */
export function assertAddress(config: GastownConfig, text: string, what = 'address'): Address {
  const a = parseAddress(text);
  if (!a || !isKnownAddress(config, text)) throw unknownAddress(config, text, what);
  return a;
}

/**
 * A team member or queue reader entry as config.toml writes it: `@handle`, an agent name, a
 * bare user handle (what trust.ts reads), or another `team:`.
 */
function memberAddress(config: GastownConfig, entry: string): string | undefined {
  if (entry.startsWith('@') || entry.startsWith('team:') || entry.startsWith('queue:')) return entry;
  if (Object.hasOwn(config.agents, entry)) return entry;
  if (Object.hasOwn(config.users, entry)) return `@${entry}`;
  return entry;
}

/**
 * The mailboxes (agent, person or queue addresses) a message to `text` lands in: itself, or a
 * team's members (teams inside teams too, each mailbox once). Unknown members are returned in
 * `unknown`, not thrown: a stale team entry must not stop mail to the rest of the team.
 */
export function expandRecipients(
  config: GastownConfig,
  texts: readonly string[],
): { mailboxes: string[]; unknown: string[] } {
  const mailboxes = new Set<string>();
  const unknown: string[] = [];
  const seenTeams = new Set<string>();
  const visit = (text: string) => {
    const a = parseAddress(text);
    if (!a || !isKnownAddress(config, text)) {
      if (!unknown.includes(text)) unknown.push(text);
      return;
    }
    if (a.kind !== 'team') {
      mailboxes.add(text);
      return;
    }
    if (seenTeams.has(a.name)) return;
    seenTeams.add(a.name);
    for (const m of config.teams[a.name] ?? []) {
      const member = memberAddress(config, m);
      if (member) visit(member);
    }
  };
  for (const t of texts) visit(t);
  return { mailboxes: [...mailboxes].sort(), unknown };
}

/** Agents and people who may claim a queue's messages (everyone with a mailbox when it names none). */
export function queueReaders(config: GastownConfig, queue: string): Set<string> {
  const entries = mailSettings(config).queues[queue] ?? [];
  if (entries.length === 0)
    return new Set([...Object.keys(config.agents), ...Object.keys(config.users).map((h) => `@${h}`)]);
  return new Set(
    expandRecipients(
      config,
      entries.map((e) => memberAddress(config, e) ?? e),
    ).mailboxes.filter((m) => !m.startsWith('queue:')),
  );
}

/** The queues `me` reads, by queue name. */
export function queuesOf(config: GastownConfig, me: string): string[] {
  return Object.keys(mailSettings(config).queues)
    .filter((q) => validName(q) && queueReaders(config, q).has(me))
    .sort();
}

/**
 * Checks that `text` is a mailbox owner (an agent or a person): who reads an inbox, marks a
 * message read or sends one. Teams and queues are never "me".
 */
export function assertMailboxOwner(config: GastownConfig, text: string, what: string): Address {
  const a = assertAddress(config, text, what);
  if (a.kind === 'team' || a.kind === 'queue')
    throw new UsageError(
      `${what} must be an agent or a person (@handle), not ${text}: a ${a.kind} has no reader of its own`,
    );
  return a;
}
