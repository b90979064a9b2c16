// Property tests on random graphs: topological order, ready sets and cycle detection.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findCycle, parallelReadySteps, readySteps, topoOrder } from '../../src/formula/index.js';

interface Node {
  id: string;
  needs: string[];
  parallel?: boolean;
}

/** A random DAG: step i may only need steps before it, then the list is shuffled. */
const dag = fc
  .integer({ min: 1, max: 40 })
  .chain((n) =>
    fc.tuple(
      fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: n, maxLength: n }),
      fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    ),
  )
  .map(([picks, parallel, order]) => {
    const nodes: Node[] = picks.map((p, i) => ({
      id: `s${i}`,
      needs: i === 0 ? [] : [...new Set(p.map((x) => `s${x % i}`))],
      parallel: parallel[i]!,
    }));
    return order.map((i) => nodes[i]!);
  });

/** Any directed graph, cycles allowed. */
const anyGraph = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc
      .array(fc.array(fc.nat({ max: n - 1 }), { maxLength: 3 }), { minLength: n, maxLength: n })
      .map((adj) => adj.map((needs, i) => ({ id: `n${i}`, needs: [...new Set(needs.map((x) => `n${x}`))] }))),
  );

function referenceHasCycle(nodes: Node[]): boolean {
  // Repeatedly remove nodes with no remaining needs; anything left is on or behind a cycle.
  let left = new Map(nodes.map((n) => [n.id, n.needs]));
  for (;;) {
    const removable = [...left].filter(([, needs]) => needs.every((x) => !left.has(x)));
    if (removable.length === 0) return left.size > 0;
    left = new Map([...left].filter(([id]) => !removable.some(([r]) => r === id)));
  }
}

describe('graph properties', () => {
  it('topological order contains every step once and respects every edge', () => {
    fc.assert(
      fc.property(dag, (nodes) => {
        const order = topoOrder(nodes);
        expect(order).toHaveLength(nodes.length);
        expect(new Set(order).size).toBe(nodes.length);
        const pos = new Map(order.map((id, i) => [id, i]));
        for (const n of nodes)
          for (const need of n.needs) expect(pos.get(need)!).toBeLessThan(pos.get(n.id)!);
      }),
    );
  });

  it('keeps file order among steps that could go either way', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 20 }), (raw) => {
        const ids = [...new Set(raw)];
        expect(topoOrder(ids.map((id) => ({ id, needs: [] })))).toEqual(ids);
      }),
    );
  });

  it('readySteps never offers a step with an unmet need, and offers one while work remains', () => {
    fc.assert(
      fc.property(dag, fc.infiniteStream(fc.nat()), (nodes, picks) => {
        const done = new Set<string>();
        const it = picks[Symbol.iterator]();
        while (done.size < nodes.length) {
          const ready = readySteps(nodes, done);
          expect(ready.length).toBeGreaterThan(0);
          for (const id of ready) {
            expect(done.has(id)).toBe(false);
            expect(nodes.find((n) => n.id === id)!.needs.every((x) => done.has(x))).toBe(true);
          }
          const { parallel, sequential } = parallelReadySteps(nodes, done);
          if (parallel.length > 0) {
            expect(sequential).toBeUndefined();
            for (const id of parallel) expect(ready).toContain(id);
          } else expect(sequential).toBe(ready[0]);
          done.add(ready[(it.next().value as number) % ready.length]!);
        }
        expect(readySteps(nodes, done)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('cycle detection agrees with a simple reference, and a reported cycle is real', () => {
    fc.assert(
      fc.property(anyGraph, (nodes) => {
        const cycle = findCycle(nodes);
        expect(cycle !== undefined).toBe(referenceHasCycle(nodes));
        if (cycle) {
          expect(cycle[0]).toBe(cycle.at(-1));
          for (let i = 0; i + 1 < cycle.length; i++) {
            expect(nodes.find((n) => n.id === cycle[i])!.needs).toContain(cycle[i + 1]);
          }
        } else {
          expect(topoOrder(nodes)).toHaveLength(nodes.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});
