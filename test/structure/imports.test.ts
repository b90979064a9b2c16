// The shape of src/: no module reaches itself through its imports, and the engine names no gate
// implementation (gate kinds are installed by the composition root, src/cli/main.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(abs));
    else if (e.name.endsWith('.ts')) out.push(abs);
  }
  return out;
}

// Static and dynamic imports and re-exports, type-only ones included: a cycle through types
// alone is still two modules that cannot be understood apart.
const IMPORT =
  /(?:\bimport|\bexport)\s*(?:type\s+)?(?:[^'"`;]*?\bfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** src-relative path → the src-relative paths it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const abs of sourceFiles(SRC)) {
    const text = readFileSync(abs, 'utf8');
    const edges: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2]) as string;
      edges.push(relative(SRC, resolve(dirname(abs), spec.replace(/\.js$/, '.ts'))));
    }
    graph.set(relative(SRC, abs), edges);
  }
  return graph;
}

/** One cycle per strongly connected group of files, as a path that returns to its start. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      const s = state.get(next);
      if (s === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

describe('imports under src/', () => {
  const graph = importGraph();

  it('are read: the engine and the CLI entry are in the graph with their imports', () => {
    expect(graph.get('engine/reconcile.ts')).toContain('engine/plan.ts');
    expect(graph.get('cli/main.ts')).toContain('gates/index.ts');
  });

  it('form no cycle', () => {
    expect(cycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('the finder sees a cycle when there is one', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('src/engine imports nothing from src/gates', () => {
    const offending: string[] = [];
    for (const [file, edges] of graph)
      if (file.startsWith('engine/'))
        for (const e of edges) if (e.startsWith('gates/')) offending.push(`${file} -> ${e}`);
    expect(offending).toEqual([]);
  });
});
