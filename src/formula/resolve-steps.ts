// Step-list edits the resolver makes while composing: needs added and rewired, loop bodies
// prefixed, lists merged by id, `{target}` and string walks for expansions, aspect pointcuts.
import type { Origin, TargetInfo, WorkStep } from './resolve-types.js';

export function addNeed(s: WorkStep, id: string, origin: Origin): void {
  if (s.needPaths.has(id)) return;
  s.needs.push(id);
  s.needPaths.set(id, origin);
}

export function rewire(s: WorkStep, from: string, to: string): void {
  const i = s.needs.indexOf(from);
  if (i < 0) return;
  const o = s.needPaths.get(from) ?? s.origin;
  s.needPaths.delete(from);
  if (s.needPaths.has(to)) s.needs.splice(i, 1);
  else {
    s.needs[i] = to;
    s.needPaths.set(to, o);
  }
}

export function prefixStep(
  s: WorkStep,
  prefix: string,
  internal: Set<string>,
  loopVars: Record<string, string>,
): WorkStep {
  const needs = s.needs.map((n) => (internal.has(n) ? prefix + n : n));
  const needPaths = new Map<string, Origin>();
  s.needs.forEach((n, i) => {
    needPaths.set(needs[i]!, s.needPaths.get(n) ?? s.origin);
  });
  const sub = (t: string) => {
    let out = t;
    for (const [k, v] of Object.entries(loopVars)) out = out.replaceAll(`{${k}}`, v);
    return out;
  };
  const copy: WorkStep = {
    ...s,
    id: prefix + s.id,
    title: sub(s.title),
    description: sub(s.description),
    needs,
    needPaths,
    labels: [...s.labels],
    extra: { ...s.extra },
    refs: s.refs.map((r) => ({ ...r, id: internal.has(r.id) ? prefix + r.id : r.id })),
  };
  if (s.loop) copy.loop = { ...s.loop, body: s.loop.body.map((b) => (internal.has(b) ? prefix + b : b)) };
  if (s.gate) copy.gate = { ...s.gate } as typeof s.gate;
  return copy;
}

export function mergeById<T extends { id: string }>(base: readonly T[], over: readonly T[]): T[] {
  const out = base.slice();
  const index = new Map(out.map((s, i) => [s.id, i]));
  for (const s of over) {
    const i = index.get(s.id);
    if (i === undefined) {
      index.set(s.id, out.length);
      out.push(s);
    } else out[i] = s;
  }
  return out;
}

export function replaceTarget(s: string, t: TargetInfo): string {
  return s
    .replaceAll('{target.description}', t.description)
    .replaceAll('{target.title}', t.title)
    .replaceAll('{target.id}', t.id)
    .replaceAll('{target}', t.id);
}

/** Calls `f` with every string inside `v` and its key path below `path` (`gate.run[0][1]`). */
export function forEachString(v: unknown, path: string, f: (s: string, path: string) => void): void {
  if (typeof v === 'string') f(v, path);
  else if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) forEachString(x, `${path}[${i}]`, f);
  } else if (v && typeof v === 'object' && !(v instanceof Date))
    for (const [k, x] of Object.entries(v)) forEachString(x, `${path}.${k}`, f);
}

export function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = mapStrings(x, f);
    return out;
  }
  return v;
}

/** beads' glob: `*` and `?` wildcards over the whole id (ids never contain `/`). */
export function matchGlob(pattern: string, id: string): boolean {
  if (pattern === id || pattern === '*') return true;
  if (!pattern.includes('*') && !pattern.includes('?')) return false;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
  );
  return re.test(id);
}

export function matchPointcut(pc: { glob?: string; type?: string; label?: string }, s: WorkStep): boolean {
  if (pc.glob !== undefined && !matchGlob(pc.glob, s.id)) return false;
  if (pc.type !== undefined && s.type !== pc.type) return false;
  if (pc.label !== undefined && !s.labels.includes(pc.label)) return false;
  return true;
}
