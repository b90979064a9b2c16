// The `.beads/` layout: every path gastown reads or writes is built here (docs/state.md).
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GastownError } from '../errors.js';
import { commandCwd } from '../scope.js';
import { assertMoleculeId, assertPathSegment } from './ids.js';

export const BEADS = '.beads';
/** Repo-relative; read by store/config.ts. */
export const CONFIG_FILE = `${BEADS}/config.toml`;
export const CACHE_DIR = '.cache';
export const MOLECULES = 'molecules';
export const MOLECULE_FILE = 'molecule.toml';
export const FORMULA_FILE = 'formula.resolved.toml';
/** The key order molecule.toml is written in, by `molecule create` and by every rewrite of it. */
export const MOLECULE_KEY_ORDER: readonly string[] = [
  'id',
  'formula',
  'formula_version',
  'formula_hash',
  'convoy',
  'after',
  'assignee',
  'owner',
  'preset',
  'legs',
];
export const DIGEST_FILE = 'digest.toml';
export const EVENTS = 'events';
export const OUTPUTS = 'outputs';
/** Prefix of temporary files; a crash can leave one behind, readers ignore them, advance removes them. */
export const TEMP_PREFIX = '.gastown-tmp-';

/** Transitions the engine knows about. Gate planners may record other kinds (lowercase words). */
export const STEP_KINDS = ['ready', 'started', 'done', 'failed', 'skipped', 'reopened'] as const;
export type CoreStepKind = (typeof STEP_KINDS)[number];
export const MOLECULE_KINDS = ['completed', 'cancelled'] as const;
export type MoleculeKind = (typeof MOLECULE_KINDS)[number];

const KIND = /^[a-z][a-z-]*$/;
export const isKind = (kind: string): boolean => KIND.test(kind);

export function beadsDir(root: string): string {
  return join(root, BEADS);
}
export function cacheDir(root: string): string {
  return join(root, BEADS, CACHE_DIR);
}
export function moleculesDir(root: string): string {
  // Asked for once per molecule on advance: path.join each time shows up in profiles.
  if (root !== lastRoot) {
    lastRoot = root;
    lastMoleculesDir = join(root, BEADS, MOLECULES);
  }
  return lastMoleculesDir;
}
let lastRoot: string | undefined;
let lastMoleculesDir = '';
export function moleculeDir(root: string, id: string): string {
  return join(root, BEADS, MOLECULES, assertMoleculeId(id));
}
/** Repo-relative path of a file inside a molecule folder (always with '/'). */
export function moleculeRel(id: string, rel: string): string {
  return `${BEADS}/${MOLECULES}/${id}/${rel}`;
}

/**
 * The highest attempt number a fact may carry. Far above any real re-open count, and far below
 * where a number read from a file name stops being exact (2^53): a name over it is no fact.
 */
export const MAX_ATTEMPT = 1_000_000;

/** `events/<step>.<attempt>.<kind>.toml`: the name alone says which fact it is. */
export function stepEventPath(step: string, attempt: number, kind: string): string {
  assertPathSegment(step, 'step id');
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > MAX_ATTEMPT)
    throw new GastownError(
      'store.attempt',
      `invalid attempt ${attempt} (attempts run from 1 to ${MAX_ATTEMPT})`,
    );
  if (!isKind(kind)) throw new GastownError('store.kind', `invalid event kind ${JSON.stringify(kind)}`);
  return `${EVENTS}/${step}.${attempt}.${kind}.toml`;
}

/**
 * `events/molecule.<kind>.toml`: molecule-level facts. A step event always has a numeric
 * attempt before its kind, so this name cannot collide with any step's events.
 */
export function moleculeEventPath(kind: string): string {
  if (!isKind(kind)) throw new GastownError('store.kind', `invalid event kind ${JSON.stringify(kind)}`);
  return `${EVENTS}/molecule.${kind}.toml`;
}

/** `outputs/<step>.md` for the first attempt, `outputs/<step>.<attempt>.md` after a re-open. */
export function outputPath(step: string, attempt: number): string {
  assertPathSegment(step, 'step id');
  return attempt <= 1 ? `${OUTPUTS}/${step}.md` : `${OUTPUTS}/${step}.${attempt}.md`;
}

export type ParsedEventName =
  | { scope: 'step'; step: string; attempt: number; kind: string }
  | { scope: 'molecule'; kind: string };

const STEP_EVENT = /^(.+)\.([1-9][0-9]*)\.([a-z][a-z-]*)\.toml$/;
const MOLECULE_EVENT = /^molecule\.([a-z][a-z-]*)\.toml$/;

/** Why a name inside `events/` is not an event file name (parseEventName said undefined). */
export function eventNameProblem(name: string): string {
  const s = STEP_EVENT.exec(name);
  if (s) return `attempt ${s[2]} is over the limit: attempts run from 1 to ${MAX_ATTEMPT}`;
  return 'not an event file name (expected <step>.<attempt>.<kind>.toml or molecule.<kind>.toml)';
}

/** Parses a file name inside `events/`; undefined when it is not an event file name. */
export function parseEventName(name: string): ParsedEventName | undefined {
  // Memoised: molecules share their event names (s1.1.ready.toml), and a cold advance parses
  // each name twice. The parsed objects are shared: callers must not change them.
  const hit = eventNames.get(name);
  if (hit !== undefined || eventNames.has(name)) return hit;
  const parsed = parseEventNameUncached(name);
  if (eventNames.size < 100_000) eventNames.set(name, parsed);
  return parsed;
}
const eventNames = new Map<string, ParsedEventName | undefined>();

function parseEventNameUncached(name: string): ParsedEventName | undefined {
  const s = STEP_EVENT.exec(name);
  if (s) {
    // Seven digits at most: a longer number is over the limit, and exact only up to 2^53.
    const digits = s[2] as string;
    const attempt = digits.length <= 7 ? Number(digits) : Number.POSITIVE_INFINITY;
    if (attempt > MAX_ATTEMPT) return undefined;
    return { scope: 'step', step: s[1] as string, attempt, kind: s[3] as string };
  }
  const m = MOLECULE_EVENT.exec(name);
  if (m) return { scope: 'molecule', kind: m[1] as string };
  return undefined;
}

/**
 * The repository root that holds `.beads/`: the nearest directory upwards from `start` that has
 * one, stopping at the first directory that is a git work tree root.
 */
export function findRoot(start: string): string {
  let dir = resolve(commandCwd(), start);
  for (;;) {
    if (isDir(join(dir, BEADS))) return dir;
    if (existsSync(join(dir, '.git'))) break;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new GastownError(
    'store.no-beads',
    `no ${BEADS}/ directory in ${resolve(commandCwd(), start)} or its parents (run \`gastown init\`)`,
  );
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
