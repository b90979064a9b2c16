// Round trip: every key of both dialects survives into `formula show --json` (nothing dropped).
import { afterAll, describe, expect, it } from 'vitest';
import { gastown } from '../helpers/repo.js';
import { formulaDir } from './helpers.js';

const beads = `formula = "beads-style"
description = "beads dialect"
version = 1
type = "workflow"
phase = "vapor"
pour = true
agent = "polecat"
squash = { trigger = "on_complete" }
future_key = "kept"

[vars.component]
description = "what"
required = true
pattern = "^[a-z]+$"
type = "string"

[vars.mode]
default = "fast"
enum = ["fast", "slow"]

[[steps]]
id = "design"
title = "Design {{component}}"
type = "task"
priority = 1
labels = ["design"]
assignee = "@lead"
notes = "n"
metadata = { size = "s" }
interactive = true
acceptance = "doc exists"

[[steps]]
id = "epic"
depends_on = ["design"]
waits_for = "all-children"
[[steps.children]]
id = "part-1"
[[steps.children]]
id = "part-2"
needs = ["part-1"]

[[steps]]
id = "approve"
needs = ["epic"]
condition = "design.status == 'done'"
[steps.gate]
type = "human"
approvers = ["@jgil"]
[steps.on_complete]
for_each = "output.items"
bond = "child-formula"
vars = { item = "{item}" }
parallel = true

[[steps]]
id = "retry"
needs = ["approve"]
parallel = true
[steps.loop]
until = "{{done}}"
max = 2
[[steps.loop.body]]
id = "attempt"

[compose]
[[compose.branch]]
from = "design"
steps = ["epic"]
join = "approve"

[[advice]]
target = "approve"
[advice.after]
id = "{step.id}-log"

[[pointcuts]]
glob = "approve"
`;

const gastownConvoy = `formula = "gt-style"
description = "Gas Town dialect"
type = "convoy"
version = 2
review_only = true

[inputs.pr]
description = "PR"
type = "number"
required_unless = ["files"]
[inputs.files]
type = "string"
required_unless = ["pr"]

[prompts]
base = "Review {{.leg.description}}"

[output]
directory = ".reviews/{{.review_id}}"

[[legs]]
id = "correctness"
title = "Correctness"
focus = "logic"
description = "check"
[[legs]]
id = "style"
title = "Style"
focus = "conventions"

[presets.quick]
description = "fast"
legs = ["style"]

[synthesis]
title = "Synthesis"
depends_on = ["correctness", "style"]
`;

const fx = formulaDir({ 'beads-style.formula.toml': beads, 'gt-style.formula.toml': gastownConvoy });
afterAll(() => fx.cleanup());

function keysDeep(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) keysDeep(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      keysDeep(x, out);
    }
  }
  return out;
}

describe('dialect round trip through formula show --json', () => {
  it('keeps every beads key', async () => {
    const r = await gastown(['formula', 'show', fx.path('beads-style.formula.toml'), '--json'], fx.dir);
    expect(r.exitCode).toBe(0);
    const shown = JSON.parse(r.stdout);
    const keys = keysDeep(shown);
    for (const k of [
      'phase',
      'pour',
      'agent',
      'squash',
      'vars',
      'pattern',
      'enum',
      'required',
      'acceptance',
      'priority',
      'labels',
      'assignee',
      'notes',
      'metadata',
      'interactive',
      'waits_for',
      'condition',
      'gate',
      'approvers',
      'on_complete',
      'for_each',
      'bond',
      'loop',
      'until',
      'max',
      'parallel',
      'compose',
      'branch',
      'advice',
      'pointcuts',
      'future_key',
    ]) {
      expect(keys, k).toContain(k);
    }
    expect(shown.extra).toEqual({ future_key: 'kept' });
    expect(shown.warnings).toContainEqual(
      expect.objectContaining({ path: 'future_key', code: 'formula.unknown-key' }),
    );
    const ids = shown.steps.map((s: { id: string }) => s.id);
    expect(ids).toEqual([
      'design',
      'part-1',
      'part-2',
      'epic',
      'approve',
      'approve-log',
      'retry.attempt',
      'retry',
    ]);
    expect(shown.steps.find((s: { id: string }) => s.id === 'epic').needs).toEqual([
      'design',
      'part-1',
      'part-2',
    ]);
  });

  it('keeps every Gas Town key and leaves Go templates as written', async () => {
    const r = await gastown(['formula', 'show', fx.path('gt-style.formula.toml'), '--json'], fx.dir);
    expect(r.exitCode).toBe(0);
    const shown = JSON.parse(r.stdout);
    expect(shown).toMatchObject({
      formula: 'gt-style',
      type: 'convoy',
      version: 2,
      review_only: true,
      prompts: { base: 'Review {{.leg.description}}' },
      output: { directory: '.reviews/{{.review_id}}' },
      presets: { quick: { name: 'quick', legs: ['style'], description: 'fast' } },
      synthesis: { id: 'synthesis', depends_on: ['correctness', 'style'] },
    });
    expect(shown.inputs.pr).toMatchObject({ type: 'number', required_unless: ['files'] });
    expect(shown.legs.map((l: { focus: string }) => l.focus)).toEqual(['logic', 'conventions']);
    expect(shown.steps.map((s: { id: string }) => s.id)).toEqual(['correctness', 'style', 'synthesis']);
  });
});
