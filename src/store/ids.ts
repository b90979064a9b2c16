// Identifier rules and ULIDs: the one home of every rule for a name that becomes a path component
// (molecule ids, step ids, leg ids, anything a formula, a flag or a commit trailer names). The
// formula engine checks step ids against the same rule at validate time, so a formula that
// validates can always be stored, and a name can never escape the molecule folder.
import { UsageError } from '../errors.js';

const MOLECULE_ID = /^[a-z0-9][a-z0-9-]*$/;
const PATH_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const FORMULA_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const MAX_ID_LENGTH = 128;

/** The step id rule in words, for messages that name it (formula validate, the store). */
export const STEP_ID_RULE = `ASCII letters, digits, '_', '-' and '.', starting with a letter, digit or '_', no '..', at most ${MAX_ID_LENGTH} characters`;

export function isMoleculeId(id: string): boolean {
  return id.length <= MAX_ID_LENGTH && MOLECULE_ID.test(id);
}

/** Throws a UsageError explaining the molecule id rule when `id` breaks it. */
export function assertMoleculeId(id: string, what = 'molecule id'): string {
  if (isMoleculeId(id)) return id;
  let why = 'use lowercase letters, digits and dashes, starting with a letter or digit';
  if (id.includes('/') || id.includes('\\')) why = 'it must not contain a path separator';
  else if (id.includes('..')) why = 'it must not contain ".."';
  else if (id.includes('\0')) why = 'it must not contain NUL';
  else if (id.length > MAX_ID_LENGTH) why = `it must be at most ${MAX_ID_LENGTH} characters`;
  return usage(`invalid ${what} ${JSON.stringify(id)}: ${why}`);
}

/** A formula's name: its project file is `<name>.formula.toml`. */
export function isFormulaName(name: string): boolean {
  return FORMULA_NAME.test(name) && !name.includes('..');
}

/** A step id (or any other name) that becomes part of a file name. */
export function isPathSegment(name: string): boolean {
  return name.length > 0 && name.length <= MAX_ID_LENGTH && PATH_SEGMENT.test(name) && !name.includes('..');
}

/**
 * Why `name` cannot be a step id (or another path component), undefined when it can. The first
 * broken part of the rule is named, then the rule whole.
 */
export function pathSegmentProblem(name: string): string | undefined {
  if (isPathSegment(name)) return undefined;
  let why: string;
  if (name === '') why = 'it is empty';
  else if (name.length > MAX_ID_LENGTH) why = `it is ${name.length} characters long`;
  else if (name.includes('..')) why = 'it contains ".."';
  else if (!/^[A-Za-z0-9_]/.test(name)) why = `it starts with ${JSON.stringify(name[0])}`;
  else {
    const bad = [...name].find((ch) => !/[A-Za-z0-9_.-]/.test(ch)) as string;
    why = `it contains ${JSON.stringify(bad)}`;
  }
  return `${why}; ids may use ${STEP_ID_RULE}`;
}

export function assertPathSegment(name: string, what: string): string {
  const problem = pathSegmentProblem(name);
  if (problem === undefined) return name;
  return usage(`invalid ${what} ${JSON.stringify(name)}: ${problem}`);
}

function usage(message: string): never {
  throw new UsageError(message);
}

// ULID (https://github.com/ulid/spec): 48-bit millisecond time + 80 random bits, Crockford
// base32. Monotonic within a process: a second id in the same millisecond increments the last.
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = -1;
let lastRandom: number[] = [];

export function ulid(now: number = Date.now()): string {
  let random: number[];
  if (now <= lastTime) {
    now = lastTime;
    random = incrementBase32(lastRandom);
  } else {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    random = Array.from(bytes, (b) => b & 31);
  }
  lastTime = now;
  lastRandom = random;
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time + random.map((d) => CROCKFORD[d]).join('');
}

function incrementBase32(digits: number[]): number[] {
  const out = [...digits];
  for (let i = out.length - 1; i >= 0; i--) {
    const d = out[i] ?? 0;
    if (d < 31) {
      out[i] = d + 1;
      return out;
    }
    out[i] = 0;
  }
  throw new Error('ULID random component overflowed within one millisecond');
}
