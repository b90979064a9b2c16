// A convoy as files (docs/convoys.md): `.beads/convoys/<id>/convoy.toml` says what it is, each
// molecule says which convoy it belongs to (its own molecule.toml), and `landed.toml` /
// `closed.toml` are facts recorded once. Pure: paths, parsing and rendering.
import { FieldError } from '../store/check.js';
import { isMoleculeId } from '../store/ids.js';
import { stringifyToml, type TomlTable } from '../store/toml.js';
import { CONVOY_FILE, CONVOYS_DIR } from './layout.js';

export { CLOSED_FILE, CONVOY_FILE, CONVOYS_DIR, LANDED_FILE } from './layout.js';

/** Repo-relative path of a file in a convoy's folder. */
export function convoyRel(id: string, file = CONVOY_FILE): string {
  return `${CONVOYS_DIR}/${id}/${file}`;
}

/** A member living in another repository (a rig), read from a fetched ref. */
export interface ExternalMember {
  /** The git remote whose fetched ref holds the molecule. */
  remote: string;
  molecule: string;
  /** The ref to read, default `refs/remotes/<remote>/main`. */
  ref?: string;
}

export interface ConvoyMeta {
  id: string;
  name: string;
  owner: string;
  teams: string[];
  description?: string;
  external: ExternalMember[];
}

const KEY_ORDER = ['id', 'name', 'owner', 'teams', 'description'];

export function renderConvoy(meta: ConvoyMeta): string {
  const table: TomlTable = {
    id: meta.id,
    name: meta.name,
    owner: meta.owner,
    teams: meta.teams,
    ...(meta.description !== undefined ? { description: meta.description } : {}),
    ...(meta.external.length > 0 ? { external: meta.external.map((e) => ({ ...e })) } : {}),
  };
  return stringifyToml(table, KEY_ORDER);
}

function str(obj: TomlTable, key: string, file: string, required: boolean, prefix = ''): string | undefined {
  const v = obj[key];
  const path = `${prefix}${key}`;
  if (v === undefined) {
    if (required) throw new FieldError(file, path, `missing required field \`${path}\``);
    return undefined;
  }
  if (typeof v !== 'string' || v === '')
    throw new FieldError(file, path, `\`${path}\` must be a non-empty string`);
  return v;
}

/** Checks a parsed convoy.toml; errors name the file and the field. */
export function checkConvoy(obj: TomlTable, file: string, folderId: string): ConvoyMeta {
  const id = str(obj, 'id', file, false) ?? folderId;
  if (id !== folderId)
    throw new FieldError(file, 'id', `\`id\` is ${JSON.stringify(id)} but the folder is ${folderId}`);
  const teams = obj.teams ?? [];
  if (!Array.isArray(teams) || !teams.every((t) => typeof t === 'string' && t !== ''))
    throw new FieldError(file, 'teams', '`teams` must be an array of strings');
  const rawExternal = obj.external ?? [];
  if (!Array.isArray(rawExternal))
    throw new FieldError(file, 'external', '`external` must be an array of tables ([[external]])');
  const external = rawExternal.map((e, i): ExternalMember => {
    const prefix = `external[${i}].`;
    if (typeof e !== 'object' || e === null || Array.isArray(e))
      throw new FieldError(file, `external[${i}]`, `\`external[${i}]\` must be a table`);
    const t = e as TomlTable;
    const remote = str(t, 'remote', file, true, prefix) as string;
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(remote))
      throw new FieldError(file, `${prefix}remote`, `\`${prefix}remote\` is not a remote name`);
    const molecule = str(t, 'molecule', file, true, prefix) as string;
    if (!isMoleculeId(molecule))
      throw new FieldError(file, `${prefix}molecule`, `\`${prefix}molecule\` is not a molecule id`);
    const ref = str(t, 'ref', file, false, prefix);
    if (ref !== undefined && (!ref.startsWith('refs/') || ref.includes('..')))
      throw new FieldError(
        file,
        `${prefix}ref`,
        `\`${prefix}ref\` must be a full ref such as refs/remotes/origin/main`,
      );
    return { remote, molecule, ...(ref !== undefined ? { ref } : {}) };
  });
  const description = str(obj, 'description', file, false);
  return {
    id,
    name: str(obj, 'name', file, true) as string,
    owner: str(obj, 'owner', file, true) as string,
    teams: teams as string[],
    ...(description !== undefined ? { description } : {}),
    external,
  };
}

/** The bytes of `landed.toml`: the members that landed, no time (the commit has it). */
export function renderLanded(id: string, molecules: readonly string[]): string {
  return stringifyToml({ convoy: id, molecules: [...molecules].sort() }, ['convoy', 'molecules']);
}

export function renderClosed(id: string, reason?: string): string {
  return stringifyToml({ convoy: id, ...(reason ? { reason } : {}) }, ['convoy', 'reason']);
}
