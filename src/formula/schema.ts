// The raw formula as written, in either dialect (Gas Town's and beads'), checked with zod/mini
// (the tree-shakable build of zod 4: the full build costs ~50 ms of start-up in the CLI).
// Every object is loose: unknown keys survive parsing and are reported, then kept under `extra`.
import * as z from 'zod/mini';

export interface RawStep {
  id?: string;
  title?: string;
  description?: string;
  needs?: string[];
  depends_on?: string[];
  acceptance?: string;
  parallel?: boolean;
  interactive?: boolean;
  type?: string;
  priority?: number;
  labels?: string[];
  metadata?: Record<string, unknown>;
  notes?: string;
  assignee?: string;
  condition?: string;
  children?: RawStep[];
  gate?: Record<string, unknown>;
  waits_for?: string;
  expand?: string;
  expand_vars?: Record<string, string>;
  loop?: RawLoop;
  on_complete?: RawOnComplete;
  [key: string]: unknown;
}

export interface RawLoop {
  count?: number;
  until?: string;
  max?: number;
  range?: string;
  var?: string;
  body?: RawStep[];
  [key: string]: unknown;
}

export interface RawOnComplete {
  for_each?: string;
  bond?: string;
  vars?: Record<string, string>;
  parallel?: boolean;
  sequential?: boolean;
  [key: string]: unknown;
}

/**
 * The zod schema, built on first use: the plain predicates below decide every formula that
 * conforms, so most runs never need it, and building it was ~2% of a cold `formula validate`.
 */
let built: z.ZodMiniType<RawFormula> | undefined;
export function rawFormulaSchema(): z.ZodMiniType<RawFormula> {
  built ??= buildSchema() as unknown as z.ZodMiniType<RawFormula>;
  return built;
}

function buildStepSchema(): z.ZodMiniType<RawStep> {
  const str = z.string();
  const strList = z.array(z.string());
  const opt = z.optional;
  const OnComplete = z.looseObject({
    for_each: opt(str),
    bond: opt(str),
    vars: opt(z.record(str, str)),
    parallel: opt(z.boolean()),
    sequential: opt(z.boolean()),
  });

  const RawStepSchema: z.ZodMiniType<RawStep> = z.looseObject({
    id: opt(str),
    title: opt(str),
    description: opt(str),
    needs: opt(strList),
    depends_on: opt(strList),
    acceptance: opt(str),
    parallel: opt(z.boolean()),
    interactive: opt(z.boolean()),
    type: opt(str),
    priority: opt(z.int()),
    labels: opt(strList),
    metadata: opt(z.record(str, z.unknown())),
    notes: opt(str),
    assignee: opt(str),
    condition: opt(str),
    get children() {
      return opt(z.array(RawStepSchema));
    },
    gate: opt(z.looseObject({ type: str })),
    waits_for: opt(str),
    expand: opt(str),
    expand_vars: opt(z.record(str, str)),
    get loop() {
      return opt(
        z.looseObject({
          count: opt(z.int()),
          until: opt(str),
          max: opt(z.int()),
          range: opt(str),
          var: opt(str),
          body: opt(z.array(RawStepSchema)),
        }),
      );
    },
    on_complete: opt(OnComplete),
  }) as unknown as z.ZodMiniType<RawStep>;
  return RawStepSchema;
}

function buildSchema() {
  const str = z.string();
  const strList = z.array(z.string());
  const opt = z.optional;
  const scalar = z.union([z.string(), z.number(), z.boolean()]);

  const RawStepSchema = buildStepSchema();
  const VarTable = z.looseObject({
    description: opt(str),
    required: opt(z.boolean()),
    default: opt(scalar),
    enum: opt(z.array(scalar)),
    pattern: opt(str),
    type: opt(str),
  });

  const Named = z.looseObject({ id: opt(str), title: opt(str), focus: opt(str), description: opt(str) });
  const AdviceSteps = opt(z.array(RawStepSchema));

  return z.looseObject({
    formula: opt(str),
    description: opt(str),
    type: opt(str),
    version: opt(z.union([z.string(), z.number()])),
    vars: opt(z.record(str, z.union([scalar, VarTable]))),
    steps: opt(z.array(RawStepSchema)),
    pour: opt(z.boolean()),
    phase: opt(str),
    extends: opt(z.union([str, strList])),
    compose: opt(
      z.looseObject({
        expand: opt(z.array(z.looseObject({ target: str, with: str, vars: opt(z.record(str, str)) }))),
        map: opt(z.array(z.looseObject({ select: str, with: str, vars: opt(z.record(str, str)) }))),
        aspects: opt(strList),
        branch: opt(z.array(z.looseObject({ from: str, steps: strList, join: str }))),
        gate: opt(z.array(z.looseObject({ before: str, condition: str }))),
        bond_points: opt(z.array(z.unknown())),
        hooks: opt(z.array(z.unknown())),
      }),
    ),
    template: opt(z.array(RawStepSchema)),
    advice: opt(
      z.array(
        z.looseObject({
          target: str,
          before: opt(RawStepSchema),
          after: opt(RawStepSchema),
          around: opt(z.looseObject({ before: AdviceSteps, after: AdviceSteps })),
        }),
      ),
    ),
    pointcuts: opt(z.array(z.looseObject({ glob: opt(str), type: opt(str), label: opt(str) }))),
    aspects: opt(z.array(z.union([str, Named]))),
    legs: opt(z.array(Named)),
    synthesis: opt(
      z.looseObject({ id: opt(str), title: opt(str), description: opt(str), depends_on: opt(strList) }),
    ),
    inputs: opt(
      z.record(
        str,
        z.looseObject({
          description: opt(str),
          type: opt(str),
          required: opt(z.boolean()),
          required_unless: opt(strList),
          default: opt(z.unknown()),
        }),
      ),
    ),
    prompts: opt(z.record(str, str)),
    output: opt(z.record(str, z.unknown())),
    presets: opt(z.record(str, z.looseObject({ description: opt(str), legs: opt(strList) }))),
    agent: opt(str),
    review_only: opt(z.boolean()),
    squash: opt(z.record(str, z.unknown())),
  });
}

type Scalar = string | number | boolean;
export interface RawNamed {
  id?: string;
  title?: string;
  focus?: string;
  description?: string;
  [key: string]: unknown;
}
export interface RawAdvice {
  target: string;
  before?: RawStep;
  after?: RawStep;
  around?: { before?: RawStep[]; after?: RawStep[]; [key: string]: unknown };
  [key: string]: unknown;
}
export interface RawFormula {
  formula?: string;
  description?: string;
  type?: string;
  version?: string | number;
  vars?: Record<
    string,
    | Scalar
    | {
        description?: string;
        required?: boolean;
        default?: Scalar;
        enum?: Scalar[];
        pattern?: string;
        type?: string;
        [key: string]: unknown;
      }
  >;
  steps?: RawStep[];
  pour?: boolean;
  phase?: string;
  extends?: string | string[];
  compose?: {
    expand?: { target: string; with: string; vars?: Record<string, string> }[];
    map?: { select: string; with: string; vars?: Record<string, string> }[];
    aspects?: string[];
    branch?: { from: string; steps: string[]; join: string }[];
    gate?: { before: string; condition: string }[];
    bond_points?: unknown[];
    hooks?: unknown[];
    [key: string]: unknown;
  };
  template?: RawStep[];
  advice?: RawAdvice[];
  pointcuts?: { glob?: string; type?: string; label?: string }[];
  aspects?: (string | RawNamed)[];
  legs?: RawNamed[];
  synthesis?: {
    id?: string;
    title?: string;
    description?: string;
    depends_on?: string[];
    [key: string]: unknown;
  };
  inputs?: Record<
    string,
    { description?: string; type?: string; required?: boolean; required_unless?: string[]; default?: unknown }
  >;
  prompts?: Record<string, string>;
  output?: Record<string, unknown>;
  presets?: Record<string, { description?: string; legs?: string[] }>;
  agent?: string;
  review_only?: boolean;
  squash?: Record<string, unknown>;
  [key: string]: unknown;
}

// Known keys, for reporting unknown ones. Keys a dialect defines that we keep without modelling
// (Gas Town's step `output`, top-level `execution`) are known: kept in `extra`, no warning.
export const STEP_KEYS = new Set([
  'id',
  'title',
  'description',
  'needs',
  'depends_on',
  'acceptance',
  'parallel',
  'interactive',
  'type',
  'priority',
  'labels',
  'metadata',
  'notes',
  'assignee',
  'condition',
  'children',
  'gate',
  'waits_for',
  'expand',
  'expand_vars',
  'loop',
  'on_complete',
]);
export const STEP_KEPT_KEYS = new Set(['output', 'args']);
export const TOP_KEYS = new Set([
  'formula',
  'description',
  'type',
  'version',
  'vars',
  'steps',
  'pour',
  'phase',
  'extends',
  'compose',
  'template',
  'advice',
  'pointcuts',
  'aspects',
  'legs',
  'synthesis',
  'inputs',
  'prompts',
  'output',
  'presets',
  'agent',
  'review_only',
  'squash',
]);
export const TOP_KEPT_KEYS = new Set(['execution']);
export const VAR_KEYS = new Set(['description', 'required', 'default', 'enum', 'pattern', 'type']);
export const LOOP_KEYS = new Set(['count', 'until', 'max', 'range', 'var', 'body']);
export const ON_COMPLETE_KEYS = new Set(['for_each', 'bond', 'vars', 'parallel', 'sequential']);
export const NAMED_KEYS = new Set(['id', 'title', 'focus', 'description']);
export const SYNTHESIS_KEYS = new Set(['id', 'title', 'description', 'depends_on']);
export const INPUT_KEYS = new Set(['description', 'type', 'required', 'required_unless', 'default']);
export const PRESET_KEYS = new Set(['description', 'legs']);
export const COMPOSE_KEYS = new Set(['expand', 'map', 'aspects', 'branch', 'gate', 'bond_points', 'hooks']);
export const ADVICE_KEYS = new Set(['target', 'before', 'after', 'around']);

export interface SchemaIssue {
  path: string;
  message: string;
}

// The same shapes as plain predicates, for the common case of a formula that conforms: in a cold
// process they check the corpus several times faster than zod. They may refuse more than the
// schema (dates, non-finite numbers, a `__proto__` key, where zod is then asked) but never
// accept what it refuses; the parse is then the data itself, which holds what zod's copy holds.
// test/formula/schema-fast.test.ts pins the two together.
type Check = (v: unknown) => boolean;
const isStr: Check = (v) => typeof v === 'string';
const isBool: Check = (v) => typeof v === 'boolean';
const isNum: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isInt: Check = (v) => Number.isSafeInteger(v);
const isAny: Check = () => true;
const isScalar: Check = (v) => isStr(v) || isNum(v) || isBool(v);
const either =
  (a: Check, b: Check): Check =>
  (v) =>
    a(v) || b(v);
const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  !(v instanceof Date) &&
  !Object.hasOwn(v, '__proto__');
const listOf =
  (c: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(c);
const recordOf =
  (c: Check): Check =>
  (v) => {
    if (!isTable(v)) return false;
    for (const k in v) if (!c(v[k])) return false;
    return true;
  };
/** A loose table: each listed key absent (unless required) or passing its check; others free. */
const tableOf = (shape: Record<string, Check>, required: readonly string[] = []): Check => {
  // By the table's own keys (a step has a few of its 22): a Map, so `constructor` finds nothing.
  const checks = new Map(Object.entries(shape));
  return (v) => {
    if (!isTable(v)) return false;
    for (const k of required) if (!Object.hasOwn(v, k)) return false;
    for (const k in v) {
      const check = checks.get(k);
      if (check && !check(v[k])) return false;
    }
    return true;
  };
};
const isStrList = listOf(isStr);
const isStep: Check = (v) => stepShape(v);
const isSteps = listOf(isStep);
const stepShape = tableOf({
  id: isStr,
  title: isStr,
  description: isStr,
  needs: isStrList,
  depends_on: isStrList,
  acceptance: isStr,
  parallel: isBool,
  interactive: isBool,
  type: isStr,
  priority: isInt,
  labels: isStrList,
  metadata: recordOf(isAny),
  notes: isStr,
  assignee: isStr,
  condition: isStr,
  children: isSteps,
  gate: tableOf({ type: isStr }, ['type']),
  waits_for: isStr,
  expand: isStr,
  expand_vars: recordOf(isStr),
  loop: tableOf({ count: isInt, until: isStr, max: isInt, range: isStr, var: isStr, body: isSteps }),
  on_complete: tableOf({
    for_each: isStr,
    bond: isStr,
    vars: recordOf(isStr),
    parallel: isBool,
    sequential: isBool,
  }),
});
const isNamed = tableOf({ id: isStr, title: isStr, focus: isStr, description: isStr });
const isFormulaShape = tableOf({
  formula: isStr,
  description: isStr,
  type: isStr,
  version: either(isStr, isNum),
  vars: recordOf(
    either(
      isScalar,
      tableOf({
        description: isStr,
        required: isBool,
        default: isScalar,
        enum: listOf(isScalar),
        pattern: isStr,
        type: isStr,
      }),
    ),
  ),
  steps: isSteps,
  pour: isBool,
  phase: isStr,
  extends: either(isStr, isStrList),
  compose: tableOf({
    expand: listOf(tableOf({ target: isStr, with: isStr, vars: recordOf(isStr) }, ['target', 'with'])),
    map: listOf(tableOf({ select: isStr, with: isStr, vars: recordOf(isStr) }, ['select', 'with'])),
    aspects: isStrList,
    branch: listOf(tableOf({ from: isStr, steps: isStrList, join: isStr }, ['from', 'steps', 'join'])),
    gate: listOf(tableOf({ before: isStr, condition: isStr }, ['before', 'condition'])),
    bond_points: listOf(isAny),
    hooks: listOf(isAny),
  }),
  template: isSteps,
  advice: listOf(
    tableOf(
      {
        target: isStr,
        before: isStep,
        after: isStep,
        around: tableOf({ before: isSteps, after: isSteps }),
      },
      ['target'],
    ),
  ),
  pointcuts: listOf(tableOf({ glob: isStr, type: isStr, label: isStr })),
  aspects: listOf(either(isStr, isNamed)),
  legs: listOf(isNamed),
  synthesis: tableOf({ id: isStr, title: isStr, description: isStr, depends_on: isStrList }),
  inputs: recordOf(
    tableOf({
      description: isStr,
      type: isStr,
      required: isBool,
      required_unless: isStrList,
      default: isAny,
    }),
  ),
  prompts: recordOf(isStr),
  output: recordOf(isAny),
  presets: recordOf(tableOf({ description: isStr, legs: isStrList })),
  agent: isStr,
  review_only: isBool,
  squash: recordOf(isAny),
});

/** True only when zod would accept `data` as a raw formula (see the predicates above). */
export function plainlyConforms(data: unknown): data is RawFormula {
  return isFormulaShape(data);
}

/** Validates parsed data; every issue carries a key path like `steps[3].needs[0]`. */
export function checkRawFormula(data: unknown): { raw?: RawFormula; issues: SchemaIssue[] } {
  if (plainlyConforms(data)) return { raw: data, issues: [] };
  const result = rawFormulaSchema().safeParse(data);
  if (result.success) return { raw: result.data as RawFormula, issues: [] };
  const issues: SchemaIssue[] = [];
  for (const issue of result.error.issues) describeIssue(issue as unknown as ZodIssueLike, [], data, issues);
  return { issues };
}

interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  expected?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  errors?: ZodIssueLike[][];
  message: string;
}

function describeIssue(issue: ZodIssueLike, prefix: PropertyKey[], root: unknown, out: SchemaIssue[]): void {
  const path = [...prefix, ...issue.path];
  const value = valueAt(root, path);
  let message: string;
  switch (issue.code) {
    case 'invalid_type':
      message =
        value === undefined
          ? `${issue.expected} is required`
          : `expected ${issue.expected}, got ${kindOf(value)}`;
      break;
    case 'invalid_union': {
      // Report the branch that got furthest (its issues are below the union's own path).
      const deeper = issue.errors?.find((branch) => branch.some((i) => i.path.length > 0));
      if (deeper) {
        for (const i of deeper) describeIssue(i, path, root, out);
        return;
      }
      const expected = [...new Set(issue.errors?.flat().map((i) => i.expected ?? 'value'))];
      message = `expected ${expected.join(' or ')}, got ${kindOf(value)}`;
      break;
    }
    case 'too_small':
      message = `must be at least ${issue.minimum}`;
      break;
    case 'too_big':
      message = `must be at most ${issue.maximum}`;
      break;
    default:
      message = issue.message;
  }
  out.push({ path: formatPath(path), message });
}

export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s === '' ? String(p) : `.${String(p)}`;
  }
  return s;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

export function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (v instanceof Date) return 'date';
  if (typeof v === 'object') return 'table';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'float';
  return typeof v;
}
