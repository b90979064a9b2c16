// Variables: the one placeholder syntax (`{{name}}`, used by cook, the planner's conditions and
// assignees, command gates and expansions), cook-time step conditions, and loop range arithmetic.
// Go-template actions such as `{{.leg.id}}` or `{{if .pr}}` are not ours: the placeholder pattern
// only matches a var name, and unknown names stay as written.

import { UsageError } from '../errors.js';

/**
 * Names no var may have: a plain object's own machinery. As a key, `__proto__` is dropped
 * silently and `constructor` reads back as a function, so they are refused wherever a var is
 * named (`--var`, an inputs file's `[vars]`, a formula's `[vars]`).
 */
export const RESERVED_VAR_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Why `name` cannot be a var name, or undefined when it can. */
export function reservedVarProblem(name: string): string | undefined {
  return RESERVED_VAR_NAMES.has(name)
    ? `"${name}" is a reserved name and cannot be a var (reserved: ${[...RESERVED_VAR_NAMES].join(', ')})`
    : undefined;
}

/** `key=value` pairs given with `flag` (`--var`, `--input`) as a record with no prototype. */
export function parseVarPairs(pairs: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} ${JSON.stringify(pair)} must look like key=value`);
    const name = pair.slice(0, eq);
    const reserved = reservedVarProblem(name);
    if (reserved) throw new UsageError(`${flag} ${JSON.stringify(pair)}: ${reserved}`);
    out[name] = pair.slice(eq + 1);
  }
  return out;
}

/** Values the engine supplies at run time (command gates): `{{molecule}}`, `{{step}}`, `{{attempt}}`. */
export const RUNTIME_PLACEHOLDERS = ['molecule', 'step', 'attempt'] as const;

/** What a var may be called, and so what `{{name}}` may hold. */
const NAME = '[A-Za-z_][A-Za-z0-9_-]*';
const VAR_NAME = new RegExp(`^${NAME}$`);
const PLACEHOLDER = new RegExp(`\\{\\{\\s*(${NAME})\\s*\\}\\}`, 'g');
/** A var named in a loop range: `{name}`. */
const RANGE_REF = new RegExp(`\\{(${NAME})\\}`, 'g');

export function isVarName(name: string): boolean {
  return VAR_NAME.test(name);
}

/** Replaces `{{name}}` with `vars[name]`; placeholders for names not in `vars` are left intact. */
export function substituteVars(text: string, vars: Readonly<Record<string, string>>): string {
  if (!text.includes('{{')) return text;
  return text.replace(PLACEHOLDER, (whole, name: string) =>
    Object.hasOwn(vars, name) ? (vars[name] as string) : whole,
  );
}

/** Names used as `{{name}}` in the text. */
export function placeholderNames(text: string): string[] {
  if (!text.includes('{{')) return [];
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

const COND_TRUTHY = new RegExp(`^(!?)\\s*\\{\\{\\s*(${NAME})\\s*\\}\\}$`);
const COND_COMPARE = new RegExp(`^\\{\\{\\s*(${NAME})\\s*\\}\\}\\s*(==|!=)\\s*(.+)$`);

export type CookCondition =
  | { kind: 'truthy'; name: string; negate: boolean }
  | { kind: 'compare'; name: string; op: '==' | '!='; value: string };

/**
 * A condition that depends only on variables (`{{v}}`, `!{{v}}`, `{{v}} == x`, `{{v}} != x`), as
 * beads evaluates at cook time. Anything else is a runtime condition: undefined here.
 */
export function parseCookCondition(text: string): CookCondition | undefined {
  const s = text.trim();
  let m = COND_TRUTHY.exec(s);
  if (m) return { kind: 'truthy', name: m[2]!, negate: m[1] === '!' };
  m = COND_COMPARE.exec(s);
  if (m) {
    let value = m[3]!.trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
      value = value.slice(1, -1);
    }
    return { kind: 'compare', name: m[1]!, op: m[2] as '==' | '!=', value };
  }
  return undefined;
}

/** Empty, `false`, `0`, `no` and `off` are false; anything else is true. */
export function isTruthy(value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  return !['false', '0', 'no', 'off'].includes(value.toLowerCase());
}

export function evaluateCookCondition(c: CookCondition, vars: Record<string, string>): boolean {
  const v = vars[c.name];
  if (c.kind === 'truthy') return c.negate ? !isTruthy(v) : isTruthy(v);
  return c.op === '==' ? (v ?? '') === c.value : (v ?? '') !== c.value;
}

/**
 * Evaluates a loop range such as `1..2^{disks}`: integers, `{var}` references, + - * / ^ and
 * parentheses. Throws an Error with a readable message on bad input or a missing variable.
 */
export function evaluateRange(text: string, vars: Record<string, string>): { start: number; end: number } {
  const sep = text.indexOf('..');
  if (sep < 0) throw new Error(`range "${text}" must look like start..end`);
  return { start: evaluateExpr(text.slice(0, sep), vars), end: evaluateExpr(text.slice(sep + 2), vars) };
}

/** Variables a range refers to as `{name}`. */
export function rangeVarNames(text: string): string[] {
  return [...text.matchAll(RANGE_REF)].map((m) => m[1]!);
}

function evaluateExpr(source: string, vars: Record<string, string>): number {
  const text = source.replace(RANGE_REF, (_w, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`range refers to {${name}}, which has no value`);
    if (!/^\s*-?\d+\s*$/.test(v)) throw new Error(`range variable ${name} = "${v}" is not an integer`);
    return `(${v.trim()})`;
  });
  let pos = 0;
  const peek = (): string => {
    while (text[pos] === ' ') pos++;
    return text[pos] ?? '';
  };
  const fail = (what: string): never => {
    throw new Error(`range expression "${source.trim()}": ${what}`);
  };
  const primary = (): number => {
    const c = peek();
    if (c === '(') {
      pos++;
      const v = sum();
      if (peek() !== ')') fail('missing )');
      pos++;
      return v;
    }
    if (c === '-') {
      pos++;
      return -primary();
    }
    const m = /^\d+/.exec(text.slice(pos));
    if (!m) fail(c === '' ? 'unexpected end' : `unexpected "${c}"`);
    pos += m![0].length;
    return Number(m![0]);
  };
  const power = (): number => {
    const base = primary();
    if (peek() === '^') {
      pos++;
      return base ** power();
    }
    return base;
  };
  const product = (): number => {
    let v = power();
    for (let c = peek(); c === '*' || c === '/'; c = peek()) {
      pos++;
      const r = power();
      if (c === '/' && r === 0) fail('division by zero');
      v = c === '*' ? v * r : Math.trunc(v / r);
    }
    return v;
  };
  function sum(): number {
    let v = product();
    for (let c = peek(); c === '+' || c === '-'; c = peek()) {
      pos++;
      v = c === '+' ? v + product() : v - product();
    }
    return v;
  }
  const v = sum();
  if (peek() !== '') fail(`unexpected "${peek()}"`);
  if (!Number.isSafeInteger(v)) fail('result is not a safe integer');
  return v;
}
