// The validators of state files (there is no second, schema-library copy): plain checks, because
// loading zod on the hot paths (status, advance) would double the start-up time (docs/decisions.md,
// "Hot paths avoid zod and execa"). Every error names the file and the field.
import { GastownError } from '../errors.js';
import { isMoleculeId, isPathSegment } from './ids.js';
import { isKind } from './layout.js';
import type { TomlTable } from './toml.js';
import type { Digest, DigestStep, EventFact, MoleculeMeta } from './types.js';

export class FieldError extends GastownError {
  constructor(file: string, path: string, message: string) {
    super('store.invalid', message, { location: { file, path } });
  }
}

type Kind = 'string' | 'integer' | 'boolean' | 'table' | 'string[]';

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return value instanceof Date ? 'a date' : 'a table';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function isTable(v: unknown): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function field<T>(
  obj: TomlTable,
  key: string,
  kind: Kind,
  file: string,
  required: boolean,
  prefix = '',
): T | undefined {
  const value = obj[key];
  const path = prefix ? `${prefix}.${key}` : key;
  if (value === undefined) {
    if (required) throw new FieldError(file, path, `missing required field \`${path}\``);
    return undefined;
  }
  const ok =
    kind === 'string'
      ? typeof value === 'string'
      : kind === 'integer'
        ? Number.isInteger(value)
        : kind === 'boolean'
          ? typeof value === 'boolean'
          : kind === 'table'
            ? isTable(value)
            : Array.isArray(value) && value.every((v) => typeof v === 'string');
  if (!ok)
    throw new FieldError(file, path, `\`${path}\` must be ${kindName(kind)}, found ${describe(value)}`);
  return value as T;
}

function kindName(kind: Kind): string {
  return kind === 'string[]'
    ? 'an array of strings'
    : kind === 'integer'
      ? 'an integer'
      : kind === 'table'
        ? 'a table'
        : `a ${kind}`;
}

export function checkMoleculeMeta(obj: TomlTable, file: string): MoleculeMeta {
  const id = field<string>(obj, 'id', 'string', file, true) as string;
  if (!isMoleculeId(id))
    throw new FieldError(file, 'id', `\`id\` ${JSON.stringify(id)} is not a valid molecule id`);
  const formula = field<string>(obj, 'formula', 'string', file, true) as string;
  const formula_hash = field<string>(obj, 'formula_hash', 'string', file, true) as string;
  const version = obj.formula_version;
  if (version !== undefined && typeof version !== 'string' && typeof version !== 'number') {
    throw new FieldError(file, 'formula_version', '`formula_version` must be a string or a number');
  }
  const vars = field<TomlTable>(obj, 'vars', 'table', file, false) ?? {};
  for (const [k, v] of Object.entries(vars)) {
    if (typeof v !== 'string')
      throw new FieldError(file, `vars.${k}`, `\`vars.${k}\` must be a string, found ${describe(v)}`);
  }
  const after = field<string>(obj, 'after', 'string', file, false);
  if (after !== undefined && !isMoleculeId(after))
    throw new FieldError(file, 'after', `\`after\` ${JSON.stringify(after)} is not a valid molecule id`);
  const meta: MoleculeMeta = {
    id,
    formula,
    formula_hash,
    vars: vars as Record<string, string>,
    inputs: field<TomlTable>(obj, 'inputs', 'table', file, false) ?? {},
  };
  if (version !== undefined) meta.formula_version = version as string | number;
  const optional = ['convoy', 'assignee', 'preset'] as const;
  for (const key of optional) {
    const v = field<string>(obj, key, 'string', file, false);
    if (v !== undefined) meta[key] = v;
  }
  if (after !== undefined) meta.after = after;
  const context = field<TomlTable>(obj, 'context', 'table', file, false);
  if (context !== undefined) meta.context = context;
  const legs = field<string[]>(obj, 'legs', 'string[]', file, false);
  if (legs !== undefined) meta.legs = legs;
  return meta;
}

const EVENT_KEYS = new Set([
  'step',
  'attempt',
  'kind',
  'assignee',
  'by',
  'reason',
  'commit',
  'output',
  'cause',
]);

/**
 * Checks an event file against its name: `step`, `attempt` and `kind` inside must match what
 * the file name says (a hand edit that changes one of them is an error, not a silent move).
 */
export function checkEvent(
  obj: TomlTable,
  file: string,
  expected: { step?: string; attempt?: number; kind: string },
): EventFact {
  const kind = field<string>(obj, 'kind', 'string', file, true) as string;
  if (!isKind(kind) || kind !== expected.kind) {
    throw new FieldError(
      file,
      'kind',
      `\`kind\` is ${JSON.stringify(kind)} but the file name says ${JSON.stringify(expected.kind)}`,
    );
  }
  const fact: EventFact = { kind, extra: {} };
  if (expected.step !== undefined) {
    const step = field<string>(obj, 'step', 'string', file, true) as string;
    if (step !== expected.step)
      throw new FieldError(
        file,
        'step',
        `\`step\` is ${JSON.stringify(step)} but the file name says ${JSON.stringify(expected.step)}`,
      );
    const attempt = field<number>(obj, 'attempt', 'integer', file, true) as number;
    if (attempt !== expected.attempt)
      throw new FieldError(
        file,
        'attempt',
        `\`attempt\` is ${attempt} but the file name says ${expected.attempt}`,
      );
    fact.step = step;
    fact.attempt = attempt;
  }
  for (const key of ['assignee', 'by', 'reason', 'commit', 'output', 'cause'] as const) {
    const v = field<string>(obj, key, 'string', file, false);
    if (v !== undefined) fact[key] = v;
  }
  if (fact.output !== undefined && (fact.output.startsWith('/') || fact.output.split('/').includes('..'))) {
    throw new FieldError(file, 'output', '`output` must be a path inside the molecule folder');
  }
  for (const [k, v] of Object.entries(obj)) if (!EVENT_KEYS.has(k)) fact.extra[k] = v;
  return fact;
}

export function checkDigest(obj: TomlTable, file: string): Digest {
  const id = field<string>(obj, 'id', 'string', file, true) as string;
  const state = field<string>(obj, 'state', 'string', file, true);
  if (state !== 'completed') throw new FieldError(file, 'state', '`state` must be "completed"');
  const rawSteps = obj.steps;
  if (!Array.isArray(rawSteps)) throw new FieldError(file, 'steps', '`steps` must be an array of tables');
  const steps: DigestStep[] = rawSteps.map((s, i) => {
    const at = `steps[${i}]`;
    if (!isTable(s)) throw new FieldError(file, at, `\`${at}\` must be a table`);
    const sid = field<string>(s, 'id', 'string', file, true, at) as string;
    if (!isPathSegment(sid)) throw new FieldError(file, `${at}.id`, `\`${at}.id\` is not a valid step id`);
    const attempt = field<number>(s, 'attempt', 'integer', file, true, at) as number;
    const st = field<string>(s, 'state', 'string', file, true, at);
    if (st !== 'done' && st !== 'skipped')
      throw new FieldError(file, `${at}.state`, `\`${at}.state\` must be "done" or "skipped"`);
    const step: DigestStep = { id: sid, attempt, state: st };
    const assignee = field<string>(s, 'assignee', 'string', file, false, at);
    const by = field<string>(s, 'by', 'string', file, false, at);
    if (assignee !== undefined) step.assignee = assignee;
    if (by !== undefined) step.by = by;
    return step;
  });
  return { id, state: 'completed', steps };
}

/**
 * The frozen formula (`formula.resolved.toml`): the formula engine validated it when the
 * molecule was created, so here we check only what the planner relies on.
 */
export function checkFrozenFormula(
  obj: TomlTable,
  file: string,
): import('../formula/model.js').ResolvedFormula {
  field<string>(obj, 'formula', 'string', file, true);
  const steps = obj.steps ?? [];
  if (!Array.isArray(steps)) throw new FieldError(file, 'steps', '`steps` must be an array of tables');
  const seen = new Set<string>();
  steps.forEach((s, i) => {
    const at = `steps[${i}]`;
    if (!isTable(s)) throw new FieldError(file, at, `\`${at}\` must be a table`);
    const id = field<string>(s, 'id', 'string', file, true, at) as string;
    if (!isPathSegment(id))
      throw new FieldError(
        file,
        `${at}.id`,
        `\`${at}.id\` ${JSON.stringify(id)} cannot be used in a file name`,
      );
    if (seen.has(id)) throw new FieldError(file, `${at}.id`, `duplicate step id ${JSON.stringify(id)}`);
    seen.add(id);
    const needs = field<string[]>(s, 'needs', 'string[]', file, false, at) ?? [];
    s.needs = needs;
    s.title ??= id;
    s.labels ??= [];
    s.extra ??= {};
  });
  steps.forEach((s: TomlTable, i) => {
    (s.needs as string[]).forEach((n, j) => {
      if (!seen.has(n))
        throw new FieldError(file, `steps[${i}].needs[${j}]`, `needs unknown step ${JSON.stringify(n)}`);
    });
  });
  obj.steps = steps;
  obj.vars ??= {};
  obj.legs ??= [];
  obj.inputs ??= {};
  obj.presets ??= {};
  obj.prompts ??= {};
  obj.warnings ??= [];
  obj.extra ??= {};
  return obj as unknown as import('../formula/model.js').ResolvedFormula;
}
