// `on_complete.for_each`: a step's output lists conflicts, and one `fix` molecule per item
// appears without anyone remembering to pour it. Real git repositories, the CLI run in this process.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gastownInProcess as gastown } from '../helpers/inproc.js';
import { gitIn, makeRepo, tempDir } from '../helpers/repo.js';

const REFINERY = `formula = "refinery"
type = "workflow"

[[steps]]
id = "merge"
title = "Merge the queue"

[steps.on_complete]
for_each = "output.conflicts"
bond = "fix"
vars = { file = "{item}", nth = "{index}" }

[[steps]]
id = "report"
title = "Report"
needs = ["merge"]
`;

const FIX = `formula = "fix"
type = "workflow"

[vars.file]
description = "the file with the conflict"
required = true

[vars.nth]
description = "which conflict of the list"
default = "?"

[[steps]]
id = "resolve"
title = "Resolve the conflict in {{file}}"
`;

const OUTPUT = `# Merge queue

Merged 5 branches.

## Conflicts

- \`src/api/user.ts\`
- \`src/db/schema.sql\`
`;

interface Entry {
  id: string;
  formula: string;
  state: string;
}

describe('on_complete for_each spawns molecules', () => {
  let repo: { path: string; cleanup(): void };
  const extra: { cleanup(): void }[] = [];
  const ok = async (args: string[], cwd = repo.path) => {
    const r = await gastown(args, cwd, { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: '2026-01-06T10:00:00Z' });
    if (r.exitCode !== 0) throw new Error(`gastown ${args.join(' ')}: ${r.stderr}`);
    return String(r.stdout);
  };
  const list = async (cwd = repo.path) =>
    JSON.parse(await ok(['molecule', 'list', '--json'], cwd)) as Entry[];
  const status = async (id: string, cwd = repo.path) =>
    JSON.parse(await ok(['molecule', 'status', id, '--json'], cwd)) as {
      state: string;
      vars: Record<string, string>;
      ready: string[];
    };

  beforeEach(async () => {
    repo = await makeRepo();
    mkdirSync(join(repo.path, '.beads/formulas'), { recursive: true });
    writeFileSync(join(repo.path, '.beads/formulas/refinery.formula.toml'), REFINERY);
    writeFileSync(join(repo.path, '.beads/formulas/fix.formula.toml'), FIX);
    writeFileSync(join(repo.path, '.beads/.gitignore'), '.cache/\n');
    await ok(['molecule', 'create', '--formula', 'refinery', '--name', 'r1']);
    // The refinery agent writes its output and finishes the step with a commit trailer.
    mkdirSync(join(repo.path, '.beads/molecules/r1/outputs'), { recursive: true });
    writeFileSync(join(repo.path, '.beads/molecules/r1/outputs/merge.md'), OUTPUT);
    await gitIn(repo.path, 'add', '-A');
    await gitIn(repo.path, 'commit', '-qm', 'merge queue\n\nGastown-Done: r1/merge');
  });
  afterEach(() => {
    repo.cleanup();
    for (const d of extra.splice(0)) d.cleanup();
  });

  it('a conflict list in the output becomes one fix molecule per item; advancing again creates nothing', async () => {
    const first = JSON.parse(await ok(['advance', '--from-commit', 'HEAD', '--json'])) as {
      transitions: { molecule: string; kind: string }[];
      written: string[];
    };
    expect(first.transitions.filter((t) => t.kind === 'created').map((t) => t.molecule)).toEqual([
      'r1-merge-1',
      'r1-merge-2',
    ]);
    // The new molecules' files are part of what advance reports, so an engine commit includes them.
    expect(first.written).toContain('.beads/molecules/r1-merge-2/molecule.toml');

    expect(await list()).toMatchObject([
      { id: 'r1', state: 'active' },
      { id: 'r1-merge-1', formula: 'fix', state: 'active' },
      { id: 'r1-merge-2', formula: 'fix', state: 'active' },
    ]);
    const fix1 = await status('r1-merge-1');
    expect(fix1.vars).toEqual({ file: 'src/api/user.ts', nth: '0' });
    expect(fix1.ready).toEqual(['resolve']);
    expect((await status('r1-merge-2')).vars).toEqual({ file: 'src/db/schema.sql', nth: '1' });
    expect((await status('r1')).ready).toEqual(['report']);

    const again = JSON.parse(await ok(['advance', '--json'])) as {
      transitions: unknown[];
      written: unknown[];
    };
    expect(again).toMatchObject({ transitions: [], written: [] });
    expect((await list()).map((m) => m.id)).toEqual(['r1', 'r1-merge-1', 'r1-merge-2']);
  });

  it('two clones that both spawn the fixes write the same files: the merge is clean', async () => {
    const other = tempDir();
    extra.push(other);
    await gitIn(other.path, 'clone', '-q', repo.path, 'b');
    const b = join(other.path, 'b');

    await ok(['advance', '--from-commit', 'HEAD'], repo.path);
    await gitIn(repo.path, 'add', '-A');
    await gitIn(repo.path, 'commit', '-qm', 'engine (clone a)');

    await ok(['advance', '--from-commit', 'HEAD'], b);
    await gitIn(b, 'add', '-A');
    await gitIn(b, 'commit', '-qm', 'engine (clone b)');
    await gitIn(b, 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main');

    expect(await gitIn(b, 'status', '--porcelain')).toBe('');
    expect((await list(b)).map((m) => m.id)).toEqual(['r1', 'r1-merge-1', 'r1-merge-2']);
    expect(readFileSync(join(b, '.beads/molecules/r1-merge-1/molecule.toml'), 'utf8')).toBe(
      readFileSync(join(repo.path, '.beads/molecules/r1-merge-1/molecule.toml'), 'utf8'),
    );
  });

  it('a bond formula that does not exist blocks the parent with the reason, and creates nothing', async () => {
    writeFileSync(
      join(repo.path, '.beads/formulas/refinery.formula.toml'),
      REFINERY.replace('bond = "fix"', 'bond = "no-such-formula"'),
    );
    await ok(['molecule', 'create', '--formula', 'refinery', '--name', 'r2']);
    writeFileSync(join(repo.path, 'out.md'), OUTPUT);
    await ok(['step', 'done', 'r2', 'merge', '--output', 'out.md']);
    const s = JSON.parse(await ok(['molecule', 'status', 'r2', '--json'])) as {
      state: string;
      blocked_reason?: string;
    };
    expect(s.state).toBe('blocked');
    expect(s.blocked_reason).toMatch(/^on_complete of merge: creating r2-merge-1: .*no-such-formula/);
    expect((await list()).map((m) => m.id)).not.toContain('r2-merge-1');
  });
});
