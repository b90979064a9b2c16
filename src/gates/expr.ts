// A small, safe expression language for `until` (runtime loops) and runtime `condition`s.
// No eval, no functions, no arithmetic: names, literals, comparisons and boolean logic.
//
//   expr    := or
//   or      := and (("||" | "or") and)*
//   and     := unary (("&&" | "and") unary)*
//   unary   := ("!" | "not") unary | compare
//   compare := primary (("==" | "!=" | ">=" | "<=" | ">" | "<") primary)?
//   primary := name | string | number | true | false | null | "(" expr ")"
//   name    := segment ("." segment)*      segment: letters, digits, `_`, `-`
//
// Names: `vars.<name>`, `output.<step>.<field>` (front matter of outputs/<step>.md),
// `gate.<step>.<field>` (front matter of the step's latest gate report: verdict, pass_rate,
// total, passed, failed, skipped, forbidden), `<step>.state|status|attempt`,
// `<step>.output.<field>` and, for the step being evaluated, `step.…` and `output.<field>`
// (beads' spelling). `status` is beads' word for a state: `complete` for done.

export type ExprValue = string | number | boolean | null | readonly unknown[] | Record<string, unknown>;

export class ExprError extends Error {
  constructor(
    message: string,
    readonly expression: string,
    readonly column?: number,
  ) {
    super(
      column === undefined
        ? `${message} in \`${expression}\``
        : `${message} at column ${column} in \`${expression}\``,
    );
  }
}

type Token =
  | { t: 'name'; v: string; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'num'; v: number; at: number }
  | { t: 'op'; v: string; at: number };

export type Expr =
  | { kind: 'or' | 'and'; left: Expr; right: Expr }
  | { kind: 'not'; expr: Expr }
  | { kind: 'cmp'; op: '==' | '!=' | '>=' | '<=' | '>' | '<'; left: Expr; right: Expr }
  | { kind: 'ref'; path: string[]; text: string }
  | { kind: 'lit'; value: string | number | boolean | null };

const OPS = ['==', '!=', '>=', '<=', '&&', '||', '>', '<', '!', '(', ')'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let v = '';
      let j = i + 1;
      for (; j < src.length && src[j] !== c; j++) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const n = src[++j] as string;
          v += n === 'n' ? '\n' : n === 't' ? '\t' : n;
        } else v += src[j];
      }
      if (j >= src.length) throw new ExprError('unterminated string', src, i + 1);
      out.push({ t: 'str', v, at: i + 1 });
      i = j + 1;
      continue;
    }
    const num = /^-?\d+(?:\.\d+)?/.exec(src.slice(i));
    if (num && (c !== '-' || out.length === 0 || out[out.length - 1]?.t === 'op')) {
      out.push({ t: 'num', v: Number(num[0]), at: i + 1 });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_][A-Za-z0-9_-]*)*/.exec(src.slice(i));
    if (name) {
      out.push({ t: 'name', v: name[0], at: i + 1 });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ t: 'op', v: op, at: i + 1 });
      i += op.length;
      continue;
    }
    throw new ExprError(`unexpected \`${c}\``, src, i + 1);
  }
  return out;
}

export function parseExpression(src: string): Expr {
  const tokens = tokenize(src);
  if (tokens.length === 0) throw new ExprError('empty expression', src);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (v: string) => {
    const t = peek();
    if (!t) return false;
    if (t.t === 'op' && t.v === v) return true;
    const word = v === '||' ? 'or' : v === '&&' ? 'and' : v === '!' ? 'not' : undefined;
    return word !== undefined && t.t === 'name' && t.v === word;
  };
  const or = (): Expr => {
    let left = and();
    while (isOp('||')) {
      pos++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): Expr => {
    let left = unary();
    while (isOp('&&')) {
      pos++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): Expr => {
    if (isOp('!')) {
      pos++;
      return { kind: 'not', expr: unary() };
    }
    const left = primary();
    const t = peek();
    if (t?.t === 'op' && ['==', '!=', '>=', '<=', '>', '<'].includes(t.v)) {
      pos++;
      return { kind: 'cmp', op: t.v as '==', left, right: primary() };
    }
    return left;
  };
  const primary = (): Expr => {
    const t = tokens[pos++];
    if (!t) throw new ExprError('unexpected end', src);
    if (t.t === 'str' || t.t === 'num') return { kind: 'lit', value: t.v };
    if (t.t === 'op' && t.v === '(') {
      const inner = or();
      const close = tokens[pos++];
      if (close?.t !== 'op' || close.v !== ')') throw new ExprError('missing `)`', src, close?.at);
      return inner;
    }
    if (t.t === 'name') {
      if (t.v === 'true' || t.v === 'false') return { kind: 'lit', value: t.v === 'true' };
      if (t.v === 'null') return { kind: 'lit', value: null };
      if (['and', 'or', 'not'].includes(t.v)) throw new ExprError(`unexpected \`${t.v}\``, src, t.at);
      return { kind: 'ref', path: t.v.split('.'), text: t.v };
    }
    throw new ExprError(`unexpected \`${t.v}\``, src, t.at);
  };
  const tree = or();
  const rest = peek();
  if (rest) throw new ExprError(`unexpected \`${String(rest.v)}\``, src, rest.at);
  return tree;
}

export interface StepFacts {
  state: string;
  attempt: number;
}

/** What an expression can see. Built by the engine from the molecule's files. */
export interface ExprContext {
  vars: Readonly<Record<string, string>>;
  /** Step id → front matter of outputs/<step>.md. */
  outputs: Readonly<Record<string, Record<string, unknown>>>;
  /** Step id → front matter of its latest gate report. */
  gates: Readonly<Record<string, Record<string, unknown>>>;
  steps: Readonly<Record<string, StepFacts>>;
  /** The step the expression belongs to (for `step.…` and `output.<field>`). */
  current?: string;
}

export interface ExprResult {
  holds: boolean;
  /** Each name the evaluation read and its value, e.g. `gate.check.pass_rate = 91.4`. */
  seen: string[];
}

const RESERVED = new Set(['vars', 'output', 'gate', 'step', 'steps']);

function dig(value: unknown, path: readonly string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? cur[Number(key)] : (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function stepField(ctx: ExprContext, id: string, rest: readonly string[], src: string): unknown {
  const facts = ctx.steps[id];
  if (!facts) throw new ExprError(`unknown step \`${id}\``, src);
  const [field, ...more] = rest;
  if (field === 'state') return facts.state;
  if (field === 'status') return facts.state === 'done' ? 'complete' : facts.state;
  if (field === 'attempt') return facts.attempt;
  if (field === 'output') return dig(ctx.outputs[id], more);
  throw new ExprError(`\`${id}.${field ?? ''}\`: a step has state, status, attempt and output.<field>`, src);
}

/** Step ids may contain dots (`loop.body`, `parent.child`): the longest known prefix is the step. */
function splitStep(ctx: ExprContext, parts: readonly string[]): { id: string; rest: string[] } | undefined {
  for (let n = parts.length; n >= 1; n--) {
    const id = parts.slice(0, n).join('.');
    if (ctx.steps[id]) return { id, rest: parts.slice(n) };
  }
  return undefined;
}

export function resolveName(ctx: ExprContext, path: readonly string[], src: string): unknown {
  const [root, ...rest] = path;
  if (root === undefined) return undefined;
  switch (root) {
    case 'vars':
      return ctx.vars[rest.join('.')] ?? '';
    case 'output': {
      const hit = splitStep(ctx, rest);
      if (hit && hit.rest.length > 0) return dig(ctx.outputs[hit.id], hit.rest);
      if (ctx.current !== undefined) return dig(ctx.outputs[ctx.current], rest);
      if (rest.length > 1) throw new ExprError(`unknown step \`${rest.slice(0, -1).join('.')}\``, src);
      throw new ExprError('`output.<step>.<field>` needs a step and a field', src);
    }
    case 'gate': {
      const hit = splitStep(ctx, rest);
      if (!hit) throw new ExprError(`unknown step \`${rest.join('.')}\` in gate.…`, src);
      return dig(ctx.gates[hit.id], hit.rest);
    }
    case 'step':
      if (ctx.current === undefined) throw new ExprError('`step.…` is only known inside a step', src);
      return stepField(ctx, ctx.current, rest, src);
    case 'steps': {
      const wanted = rest[0] === 'complete' ? 'done' : rest[0];
      return Object.values(ctx.steps).filter((s) => s.state === wanted).length;
    }
    default: {
      const hit = splitStep(ctx, path);
      if (!hit)
        throw new ExprError(
          `unknown name \`${path.join('.')}\` (use vars., output., gate., step. or a step id)`,
          src,
        );
      return stepField(ctx, hit.id, hit.rest, src);
    }
  }
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false) return false;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v !== '' && v !== 'false' && v !== '0';
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

function show(v: unknown): string {
  return v === undefined ? '(missing)' : JSON.stringify(v);
}

export function compare(op: string, a: unknown, b: unknown): boolean {
  const an = asNumber(a);
  const bn = asNumber(b);
  if (op === '==' || op === '!=') {
    let eq: boolean;
    if (an !== undefined && bn !== undefined) eq = an === bn;
    else if (a === undefined || a === null || b === undefined || b === null) eq = (a ?? null) === (b ?? null);
    else if (typeof a === 'object' || typeof b === 'object') eq = JSON.stringify(a) === JSON.stringify(b);
    else eq = String(a) === String(b);
    return op === '==' ? eq : !eq;
  }
  let order: number;
  if (an !== undefined && bn !== undefined) order = an - bn;
  else if (typeof a === 'string' && typeof b === 'string') order = a < b ? -1 : a > b ? 1 : 0;
  else return false;
  return op === '>' ? order > 0 : op === '>=' ? order >= 0 : op === '<' ? order < 0 : order <= 0;
}

export function evaluate(expr: Expr, ctx: ExprContext, src = ''): ExprResult {
  const seen: string[] = [];
  const value = (e: Expr): unknown => {
    switch (e.kind) {
      case 'lit':
        return e.value;
      case 'ref': {
        const v = resolveName(ctx, e.path, src);
        seen.push(`${e.text} = ${show(v)}`);
        return v;
      }
      case 'not':
        return !truthy(value(e.expr));
      case 'and':
        return truthy(value(e.left)) && truthy(value(e.right));
      case 'or':
        return truthy(value(e.left)) || truthy(value(e.right));
      case 'cmp':
        return compare(e.op, value(e.left), value(e.right));
    }
  };
  return { holds: truthy(value(expr)), seen };
}

/** Parses and evaluates in one go. Throws ExprError for syntax errors and unknown names. */
export function evaluateExpression(src: string, ctx: ExprContext): ExprResult {
  return evaluate(parseExpression(src), ctx, src);
}

/** Names an expression refers to that no step or namespace provides (for validation). */
export function unknownNames(src: string, stepIds: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const walk = (e: Expr): void => {
    if (e.kind === 'ref') {
      const [root, second] = e.path;
      if (root === undefined) return;
      if (root === 'gate' && (second === undefined || !stepIds.has(second))) out.push(e.text);
      else if (!RESERVED.has(root) && !stepIds.has(root)) out.push(e.text);
    } else if (e.kind === 'not') walk(e.expr);
    else if (e.kind !== 'lit') {
      walk(e.left);
      walk(e.right);
    }
  };
  walk(parseExpression(src));
  return out;
}
