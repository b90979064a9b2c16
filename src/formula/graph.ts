// The step graph: stable topological order, cycle paths, and ready sets. Linear or n log n in the
// number of steps plus edges, so a 1,000-step formula costs well under a millisecond.

interface Node {
  readonly id: string;
  readonly needs: readonly string[];
}

/**
 * Kahn's algorithm with a min-heap on file position, so steps that could go in either order keep
 * the order they were written in. Unknown needs are ignored; steps on a cycle are left out.
 */
export function topoOrder(steps: readonly Node[]): string[] {
  const order = topoIndexes(steps);
  const ids: string[] = new Array(order.length);
  for (let i = 0; i < order.length; i++) ids[i] = steps[order[i]!]!.id;
  return ids;
}

/** topoOrder as positions in `steps` (the first step with an id stands for it). */
export function topoIndexes(steps: readonly Node[]): number[] {
  const n = steps.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = steps[i]!.id;
    if (!index.has(id)) index.set(id, i);
  }
  // Edges need -> dependent in one flat list (CSR): no array per step.
  const pending = new Int32Array(n);
  const edgeFrom: number[] = [];
  const edgeTo: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = steps[i]!;
    if (index.get(s.id) !== i) continue;
    const needs = distinct(s.needs);
    for (let k = 0; k < needs.length; k++) {
      const j = index.get(needs[k]!);
      if (j === undefined) continue;
      pending[i]! += 1;
      // A self-loop only counts: it never resolves.
      if (j !== i) {
        edgeFrom.push(j);
        edgeTo.push(i);
      }
    }
  }
  const start = new Int32Array(n + 1);
  for (let e = 0; e < edgeFrom.length; e++) start[edgeFrom[e]! + 1]! += 1;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, n);
  const dependents = new Int32Array(edgeFrom.length);
  // Edges were added in dependent order, so each need's dependents stay in file order.
  for (let e = 0; e < edgeFrom.length; e++) dependents[fill[edgeFrom[e]!]!++] = edgeTo[e]!;
  const heap = new MinHeap();
  for (let i = 0; i < n; i++) if (pending[i] === 0 && index.get(steps[i]!.id) === i) heap.push(i);
  const order: number[] = [];
  while (heap.size > 0) {
    const i = heap.pop();
    order.push(i);
    for (let e = start[i]!; e < start[i + 1]!; e++) {
      const d = dependents[e]!;
      pending[d]! -= 1;
      if (pending[d] === 0) heap.push(d);
    }
  }
  return order;
}

/** `list` without repeats; short lists (the usual `needs`) without allocating a Set. */
function distinct(list: readonly string[]): readonly string[] {
  if (list.length <= 1) return list;
  if (list.length > 16) return [...new Set(list)];
  return list.filter((x, i) => list.indexOf(x) === i);
}

/** One cycle as a path that starts and ends on the same id (`a, b, c, a`), or undefined. */
export function findCycle(steps: readonly Node[]): string[] | undefined {
  // Steps by position: the first step with an id stands for it.
  const index = new Map<string, number>();
  steps.forEach((s, i) => {
    if (!index.has(s.id)) index.set(s.id, i);
  });
  // 0 unvisited, 1 on the current path, 2 finished. Iterative DFS: deep chains must not blow the stack.
  const state = new Uint8Array(steps.length);
  for (const root of index.values()) {
    if (state[root] !== 0) continue;
    const path: number[] = [root];
    const cursor: number[] = [0];
    state[root] = 1;
    while (path.length > 0) {
      const top = path.length - 1;
      const node = steps[path[top]!]!;
      const k = cursor[top]!;
      if (k >= node.needs.length) {
        state[path[top]!] = 2;
        path.pop();
        cursor.pop();
        continue;
      }
      cursor[top] = k + 1;
      const next = index.get(node.needs[k]!);
      if (next === undefined) continue;
      if (state[next] === 1) {
        const from = path.indexOf(next);
        return [...path.slice(from), next].map((i) => steps[i]!.id);
      }
      if (state[next] === 0) {
        state[next] = 1;
        path.push(next);
        cursor.push(0);
      }
    }
  }
  return undefined;
}

/** Steps not yet done whose needs are all done, in the order given. */
export function readySteps(steps: readonly Node[], done: ReadonlySet<string>): string[] {
  const ready: string[] = [];
  for (const s of steps) {
    if (done.has(s.id)) continue;
    if (s.needs.every((n) => done.has(n))) ready.push(s.id);
  }
  return ready;
}

/**
 * Gas Town's rule: when any ready step is marked `parallel`, all ready parallel steps run together;
 * otherwise only the first ready step runs.
 */
export function parallelReadySteps(
  steps: readonly (Node & { readonly parallel?: boolean })[],
  done: ReadonlySet<string>,
): { parallel: string[]; sequential?: string } {
  const ready = new Set(readySteps(steps, done));
  const parallel: string[] = [];
  let sequential: string | undefined;
  for (const s of steps) {
    if (!ready.has(s.id)) continue;
    if (s.parallel) parallel.push(s.id);
    else sequential ??= s.id;
  }
  if (parallel.length > 0) return { parallel };
  return sequential === undefined ? { parallel: [] } : { parallel: [], sequential };
}

class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(v: number): void {
    const a = this.items;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= v) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
