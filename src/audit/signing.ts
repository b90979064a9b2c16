// Signed decisions: the `[verify]` part of .beads/config.toml and whether a commit's signature
// is one the approver's own key made. Pure; git checks the signatures (history.ts).
//
//   [verify]
//   require_signed = true
//   [verify.keys.jgil]                 # a [users.<handle>]
//   ssh = ["ssh-ed25519 AAAA… jgil"]   # public keys, as in an allowed_signers file
//   gpg = ["0123…CDEF"]                # fingerprints of keys in the verifier's keyring
import { FieldError } from '../store/check.js';
import type { TomlTable } from '../store/toml.js';
import type { SignatureInfo } from './history.js';

export interface SignerKeys {
  ssh: string[];
  gpg: string[];
}

export interface SigningConfig {
  requireSigned: boolean;
  /** User handle (no `@`) → their keys. */
  keys: Record<string, SignerKeys>;
}

const isTable = (v: unknown): v is TomlTable =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

function strings(v: unknown, file: string, path: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.trim() !== ''))
    throw new FieldError(file, path, `\`${path}\` must be an array of non-empty strings`);
  return v as string[];
}

const SSH_KEY =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/;

/** The `[verify]` table of a config (GastownConfig `extra.verify`); a bad field names itself. */
export function parseSigningConfig(extra: TomlTable, file: string): SigningConfig {
  const out: SigningConfig = { requireSigned: false, keys: {} };
  const v = extra.verify;
  if (v === undefined) return out;
  if (!isTable(v)) throw new FieldError(file, 'verify', '`verify` must be a table');
  if (v.require_signed !== undefined) {
    if (typeof v.require_signed !== 'boolean')
      throw new FieldError(file, 'verify.require_signed', '`verify.require_signed` must be true or false');
    out.requireSigned = v.require_signed;
  }
  if (v.keys !== undefined) {
    if (!isTable(v.keys)) throw new FieldError(file, 'verify.keys', '`verify.keys` must be a table');
    for (const [handle, k] of Object.entries(v.keys)) {
      const path = `verify.keys.${handle}`;
      if (!isTable(k)) throw new FieldError(file, path, `\`${path}\` must be a table (ssh, gpg)`);
      const ssh = strings(k.ssh, file, `${path}.ssh`).map((s) => s.trim());
      for (const key of ssh)
        if (!SSH_KEY.test(key))
          throw new FieldError(
            file,
            `${path}.ssh`,
            `\`${path}.ssh\`: not an SSH public key line: ${key.slice(0, 40)}`,
          );
      const gpg = strings(k.gpg, file, `${path}.gpg`).map(normalFingerprint);
      for (const f of gpg)
        if (!/^[0-9A-F]{16,64}$/.test(f))
          throw new FieldError(file, `${path}.gpg`, `\`${path}.gpg\`: not a key fingerprint: ${f}`);
      out.keys[handle.replace(/^@/, '')] = { ssh, gpg };
    }
  }
  return out;
}

const normalFingerprint = (s: string) => s.replace(/\s+/g, '').toUpperCase();

/** Principal names in the allowed_signers file: the handle, prefixed so no pattern matches two. */
export const principalOf = (handle: string) => `gastown-user-${handle}`;

/** The allowed_signers text (one line per SSH key) git checks SSH signatures against. */
export function allowedSignersText(cfg: SigningConfig): string {
  const lines: string[] = [];
  for (const [handle, k] of Object.entries(cfg.keys))
    for (const key of k.ssh) lines.push(`${principalOf(handle)} ${key.split(/\s+/).slice(0, 2).join(' ')}`);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/**
 * Why `sig` is not a good signature by `handle`'s own key, or undefined when it is. `handle`
 * is the configured user the commit's author email belongs to (undefined: nobody configured).
 */
export function signatureProblem(
  cfg: SigningConfig,
  handle: string | undefined,
  sig: SignatureInfo | undefined,
): string | undefined {
  const status = sig?.status ?? 'N';
  if (status === 'N') return 'the commit is not signed';
  if (!handle) return 'the author is no user in config.toml, so no key of theirs is known';
  const keys = cfg.keys[handle];
  if (!keys || keys.ssh.length + keys.gpg.length === 0)
    return `no key is configured for @${handle} ([verify.keys.${handle}] in config.toml)`;
  if (status === 'B') return 'the signature is bad (the commit was changed after it was signed)';
  if (sig?.signer === principalOf(handle) && status === 'G') return undefined;
  const fp = sig?.key ? normalFingerprint(sig.key) : undefined;
  if ((status === 'G' || status === 'U') && fp && keys.gpg.some((k) => fp.endsWith(k) || k.endsWith(fp)))
    return undefined;
  return `signed by ${sig?.signer?.startsWith('gastown-user-') ? `@${sig.signer.slice(13)}'s key` : `a key that is not @${handle}'s`}${sig?.key ? ` (${sig.key})` : ''}, status ${status}`;
}

/** A readable word for git's %G? letter. */
export function signatureWord(status: string | undefined): string {
  switch (status) {
    case 'G':
      return 'good';
    case 'U':
      return 'good (key validity unknown)';
    case 'B':
      return 'bad';
    case 'X':
      return 'good, expired signature';
    case 'Y':
      return 'good, expired key';
    case 'R':
      return 'good, revoked key';
    case 'E':
      return 'cannot be checked (key not known here)';
    default:
      return 'unsigned';
  }
}
