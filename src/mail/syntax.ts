// The syntax of mail addresses, apart from what the config defines (address.ts), so the config
// reader can check route entries without importing the module that reads the config.

export type AddressKind = 'agent' | 'person' | 'team' | 'queue';

export interface Address {
  kind: AddressKind;
  /** The name without its prefix: `jgil` for `@jgil`, `leads` for `team:leads`. */
  name: string;
  /** The address as written: `polecat-1`, `@jgil`, `team:leads`, `queue:triage`. */
  text: string;
}

/** A name that becomes part of a folder name: letters, digits, `_`, `-`, `.`; no `..`. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const MAX_NAME = 128;

export function validName(name: string): boolean {
  return name.length <= MAX_NAME && NAME.test(name) && !name.includes('..');
}

/** Parses an address's syntax (not whether the config knows it); undefined when malformed. */
export function parseAddress(text: string): Address | undefined {
  let kind: AddressKind = 'agent';
  let name = text;
  if (text.startsWith('@')) {
    kind = 'person';
    name = text.slice(1);
  } else if (text.startsWith('team:')) {
    kind = 'team';
    name = text.slice(5);
  } else if (text.startsWith('queue:')) {
    kind = 'queue';
    name = text.slice(6);
  }
  return validName(name) ? { kind, name, text } : undefined;
}
