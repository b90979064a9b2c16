// `gastown report`: progress, a mermaid graph of the steps, pending checkpoints, recent events,
// and what a pull request moves. Mermaid's own parser needs a browser (DOMPurify, a DOM), so
// the graph is checked against the molecule's steps and needs instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gastownInProcess as gastown } from '../helpers/inproc.js';
import { gitIn } from '../helpers/repo.js';
import { CONFIG, type Day3Repo, day3Repo, MOL, NOW } from './fixture.js';

interface StatusStep {
  id: string;
  state: string;
  needs: string[];
}

/** Nodes (`sN["label"]:::class`) and edges (`sA --> sB`) of a mermaid flowchart. */
function parseFlowchart(src: string) {
  const lines = src.split('\n').map((l) => l.trim());
  expect(lines[0]).toBe('flowchart TD');
  const nodes = new Map<string, { label: string; cls: string }>();
  const edges: [string, string][] = [];
  const classes = new Set<string>();
  for (const l of lines.slice(1)) {
    const node = /^(s\d+)\["([^"]*)"\]:::(\w+)$/.exec(l);
    const edge = /^(s\d+) --> (s\d+)$/.exec(l);
    const def = /^classDef (\w+) fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6},color:#[0-9a-f]{6}$/.exec(l);
    if (node) nodes.set(node[1] as string, { label: node[2] as string, cls: node[3] as string });
    else if (edge) edges.push([edge[1] as string, edge[2] as string]);
    else if (def) classes.add(def[1] as string);
    else throw new Error(`not a line of the expected flowchart: ${l}`);
  }
  return { nodes, edges, classes };
}

describe('report', () => {
  let repo: Day3Repo;
  let base: string;
  beforeAll(async () => {
    repo = await day3Repo(CONFIG, 'planned');
    base = (await gitIn(repo.path, 'rev-parse', 'HEAD')).trim();
    await repo.done('do-infrastructure');
    await repo.commit('infra');
  }, 120_000);
  afterAll(() => repo.cleanup());

  it('--markdown has a mermaid graph whose nodes and edges are the steps and their needs, coloured by state', async () => {
    const r = await gastown(['report', 'day3', '--markdown'], repo.path, NOW);
    expect(r.exitCode).toBe(0);
    const md = String(r.stdout);
    expect(md).toContain('## day3 — active');
    const graph = /```mermaid\n([\s\S]*?)\n```/.exec(md)?.[1] ?? '';
    const { nodes, edges, classes } = parseFlowchart(graph);
    const status = JSON.parse(
      String((await gastown(['molecule', 'status', 'day3', '--json'], repo.path, NOW)).stdout),
    ) as {
      steps: StatusStep[];
      progress: { done: number; total: number };
    };
    expect(md).toContain(`**${status.progress.done}/${status.progress.total} steps** done`);
    expect(status.progress.done).toBe(5);
    const nodeOf = new Map<string, string>();
    for (const [id, n] of nodes) nodeOf.set(n.label.split(/ \(|<br\/>/)[0] as string, id);
    expect([...nodeOf.keys()]).toEqual(status.steps.map((s) => s.id));
    const expected = status.steps.flatMap((s) => s.needs.map((n) => [nodeOf.get(n), nodeOf.get(s.id)]));
    expect(edges).toEqual(expected);
    const cls = (step: string) => nodes.get(nodeOf.get(step) as string)?.cls;
    expect(cls('analysis')).toBe('done');
    expect(cls('do-red')).toBe('ready');
    expect(cls('test-validation')).toBe('waiting');
    for (const n of nodes.values()) expect(classes.has(n.cls)).toBe(true);
    expect(nodes.get(nodeOf.get('test-validation') as string)?.label).toBe(
      'test-validation (command)<br/>pending',
    );
  });

  it('lists pending checkpoints with links to their files, recent events, and what a pull request moves', async () => {
    const before = await gastown(['report', 'day3', '--markdown'], repo.path, NOW);
    expect(String(before.stdout)).not.toContain('Waiting for a decision');
    await repo.done('do-red');
    await repo.done('do-green');
    await repo.done('do-refactor'); // the gate runs and opens test-validation-checkpoint
    await repo.commit('refactor');
    const r = await gastown(['report', '--markdown', '--base', base], repo.path, NOW);
    const md = String(r.stdout);
    expect(md).toContain(
      `- [test-validation-checkpoint](${MOL}/checkpoints/test-validation-checkpoint.md) (step \`test-validation-checkpoint\`)`,
    );
    expect(md).toMatch(/\| `[0-9a-f]{12}` \| polecat-1 \| do-refactor done \(attempt 1\) by polecat-1 \|/);
    const moved = md.slice(md.indexOf('## This change'));
    expect(moved).toContain('| day3 | do-infrastructure | done | ');
    expect(moved).toContain('| day3 | test-validation | done | ');
    expect(moved).not.toContain('| analysis |');
  });
});
