// Resolution features on small hand-written formulas (real files in temp folders).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  cookFormula,
  formulaHash,
  loadFormula,
  parseDuration,
  resolveFormula,
  substituteVars,
  validateFormulaFile,
} from '../../src/formula/index.js';
import { countingLibrary, formulaDir } from './helpers.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
function lib(files: Record<string, string>) {
  const fx = formulaDir(files);
  cleanups.push(fx.cleanup);
  return fx;
}
const ids = (f: { steps: { id: string }[] } | undefined) => f?.steps.map((s) => s.id);
const needsOf = (f: { steps: { id: string; needs: string[] }[] } | undefined) =>
  Object.fromEntries(f!.steps.map((s) => [s.id, s.needs]));

describe('loops', () => {
  it('unrolls count loops into chained iterations and rewires dependents to the last step', () => {
    const fx = lib({
      'l.formula.toml': `formula = "l"
[[steps]]
id = "start"
[[steps]]
id = "poll"
needs = ["start"]
[steps.loop]
count = 2
[[steps.loop.body]]
id = "check"
[[steps.loop.body]]
id = "wait"
needs = ["check"]
[[steps]]
id = "end"
needs = ["poll"]
`,
    });
    const { formula } = resolveFormula('l', fx.lib);
    expect(ids(formula)).toEqual([
      'start',
      'poll.iter1.check',
      'poll.iter1.wait',
      'poll.iter2.check',
      'poll.iter2.wait',
      'end',
    ]);
    expect(needsOf(formula)).toMatchObject({
      'poll.iter1.check': ['start'],
      'poll.iter2.check': ['poll.iter1.wait'],
      end: ['poll.iter2.wait'],
    });
  });

  it('evaluates range arithmetic with {var} bounds and exposes the loop variable', () => {
    const fx = lib({
      'h.formula.toml': `formula = "h"
[vars]
disks = "2"
[[steps]]
id = "moves"
[steps.loop]
range = "1..2^{disks}-1"
var = "n"
[[steps.loop.body]]
id = "move"
title = "Move {n}"
`,
    });
    expect(resolveFormula('h', fx.lib).formula!.steps.map((s) => s.title)).toEqual([
      'Move 1',
      'Move 2',
      'Move 3',
    ]);
    expect(loadFormula('h', fx.lib, { vars: { disks: '3' } }).formula!.steps).toHaveLength(7);
    const bad = loadFormula('h', fx.lib, { vars: { disks: 'lots' } });
    expect(bad.formula).toBeUndefined();
    expect(bad.diagnostics[0]).toMatchObject({ path: 'steps[0].loop.range', line: 7 });
    expect(bad.diagnostics[0]!.message).toContain('not an integer');
  });

  it('keeps until loops for the engine: body once, the loop step waits for it', () => {
    const fx = lib({
      'u.formula.toml': `formula = "u"
[[steps]]
id = "prep"
[[steps]]
id = "retry"
needs = ["prep"]
[steps.loop]
until = "{{green}}"
max = 3
[[steps.loop.body]]
id = "fix"
[[steps.loop.body]]
id = "test"
needs = ["fix"]
`,
    });
    const f = resolveFormula('u', fx.lib).formula!;
    expect(ids(f)).toEqual(['prep', 'retry.fix', 'retry.test', 'retry']);
    const retry = f.steps.find((s) => s.id === 'retry')!;
    expect(retry.loop).toEqual({ until: '{{green}}', max: 3, body: ['retry.fix', 'retry.test'] });
    expect(f.steps.find((s) => s.id === 'retry.fix')!.needs).toEqual(['prep']);
    const missingMax = lib({
      'm.formula.toml':
        'formula = "m"\n[[steps]]\nid = "r"\n[steps.loop]\nuntil = "x"\n[[steps.loop.body]]\nid = "b"\n',
    });
    expect(resolveFormula('m', missingMax.lib).diagnostics[0]).toMatchObject({
      path: 'steps[0].loop.max',
      code: 'formula.loop',
    });
  });
});

describe('conditions, vars and cooking', () => {
  const text = `formula = "c"
description = "Deploy {{env}}"
[vars]
env = "staging"
[vars.notify]
default = "no"
[vars.region]
enum = ["eu", "us"]
default = "eu"
[[steps]]
id = "build"
title = "Build for {{env}} in {{region}} ({{unknown}})"
[[steps]]
id = "announce"
needs = ["build"]
condition = "{{notify}}"
[[steps]]
id = "deploy"
needs = ["announce"]
condition = "build.status == 'done'"
`;

  it('drops a step whose var-only condition is false and rewires its dependents', () => {
    const fx = lib({ 'c.formula.toml': text });
    const f = loadFormula('c', fx.lib).formula!;
    expect(ids(f)).toEqual(['build', 'deploy']);
    expect(f.steps[1]!.needs).toEqual(['build']);
    // A runtime condition stays on the step for the engine.
    expect(f.steps[1]!.condition).toBe("build.status == 'done'");
    expect(f.steps[0]!.title).toBe('Build for staging in eu ({{unknown}})');
    const on = loadFormula('c', fx.lib, { vars: { notify: 'yes' } }).formula!;
    expect(ids(on)).toEqual(['build', 'announce', 'deploy']);
    expect(on.steps[1]!.condition).toBeUndefined();
  });

  it('names the var that fails its enum, and leaves Go templates alone', () => {
    const fx = lib({ 'c.formula.toml': text });
    const r = loadFormula('c', fx.lib, { vars: { region: 'mars' } });
    expect(r.formula).toBeUndefined();
    expect(r.diagnostics).toContainEqual(
      expect.objectContaining({ path: 'vars.region', code: 'formula.var-enum' }),
    );
    expect(substituteVars('{{.leg.id}} {{ x }} {{if .pr}}{{y}}{{end}}', { x: '1', y: '2' })).toBe(
      '{{.leg.id}} 1 {{if .pr}}2{{end}}',
    );
  });

  it('keeps placeholders intact when only resolving, and hashes deterministically', () => {
    const fx = lib({ 'c.formula.toml': text });
    const a = resolveFormula('c', fx.lib).formula!;
    expect(a.steps[0]!.title).toContain('{{env}}');
    expect(a.hash).toBe(formulaHash(a));
    expect(resolveFormula('c', fx.lib).formula!.hash).toBe(a.hash);
    const cooked = cookFormula(a, { vars: { env: 'prod' } }).formula!;
    expect(cooked.hash).not.toBe(a.hash);
  });
});

describe('composition', () => {
  it('maps an expansion over steps selected by a glob, and applies advice before and after', () => {
    const fx = lib({
      'twice.formula.toml': `formula = "twice"
type = "expansion"
[[template]]
id = "{target}.a"
title = "A of {target.title}"
[[template]]
id = "{target}.b"
needs = ["{target}.a"]
`,
      'w.formula.toml': `formula = "w"
[[steps]]
id = "x.build"
title = "Build"
[[steps]]
id = "y.build"
needs = ["x.build"]
[[steps]]
id = "ship"
needs = ["y.build"]
[compose]
[[compose.map]]
select = "*.build"
with = "twice"
[[advice]]
target = "ship"
[advice.before]
id = "{step.id}-check"
[advice.after]
id = "{step.id}-notify"
`,
    });
    const f = resolveFormula('w', fx.lib).formula!;
    expect(ids(f)).toEqual([
      'x.build.a',
      'x.build.b',
      'y.build.a',
      'y.build.b',
      'ship-check',
      'ship',
      'ship-notify',
    ]);
    expect(needsOf(f)).toMatchObject({
      'y.build.a': ['x.build.b'],
      'ship-check': ['y.build.b'],
      ship: ['ship-check'],
      'ship-notify': ['ship'],
    });
    expect(f.steps[0]!.title).toBe('A of Build');
  });

  it('expands a step inline, lets a child override a parent step, and reads the JSON dialect', () => {
    const fx = lib({
      'exp.formula.json': JSON.stringify({
        formula: 'exp',
        type: 'expansion',
        version: 1,
        template: [
          { id: '{target}.one', title: 'one {{who}}' },
          { id: '{target}.two', depends_on: ['{target}.one'] },
        ],
      }),
      'base.formula.toml':
        'formula = "base"\n[[steps]]\nid = "a"\ntitle = "base a"\n[[steps]]\nid = "b"\nneeds = ["a"]\n',
      'child.formula.toml': `formula = "child"
extends = ["base"]
[[steps]]
id = "a"
title = "child a"
[[steps]]
id = "c"
needs = ["b"]
expand = "exp"
expand_vars = { who = "me" }
[[steps]]
id = "d"
needs = ["c"]
`,
    });
    const f = resolveFormula('child', fx.lib).formula!;
    expect(ids(f)).toEqual(['a', 'b', 'c.one', 'c.two', 'd']);
    expect(f.steps[0]!.title).toBe('child a');
    expect(needsOf(f)).toMatchObject({ 'c.one': ['b'], 'c.two': ['c.one'], d: ['c.two'] });
    expect(f.steps[2]!.title).toBe('one me');
  });

  it('reads placeholders in an expansion as cook does: `{{ who }}` with blanks is substituted', () => {
    const fx = lib({
      'exp.formula.toml':
        'formula = "exp"\n[[template]]\nid = "{target}.one"\ntitle = "one {{ who }} {{who}}"\n',
      'w.formula.toml': 'formula = "w"\n[[steps]]\nid = "c"\nexpand = "exp"\nexpand_vars = { who = "me" }\n',
    });
    expect(resolveFormula('w', fx.lib).formula!.steps[0]!.title).toBe('one me me');
  });

  it('reports an expand target that does not exist, at its key', () => {
    const fx = lib({
      'exp.formula.toml': 'formula = "exp"\n[[template]]\nid = "{target}.x"\n',
      'w.formula.toml':
        'formula = "w"\n[[steps]]\nid = "a"\n[compose]\n[[compose.expand]]\ntarget = "nope"\nwith = "exp"\n',
    });
    const r = resolveFormula('w', fx.lib);
    expect(r.diagnostics).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        path: 'compose.expand[0].target',
        line: 6,
        code: 'formula.expand-target',
      }),
    );
  });

  it('pours an expansion alone with target main', () => {
    const fx = lib({ 'exp.formula.toml': 'formula = "exp"\n[[template]]\nid = "{target}.x"\n' });
    expect(ids(resolveFormula('exp', fx.lib).formula)).toEqual(['main.x']);
    expect(ids(loadFormula('exp', fx.lib, { target: 'feature' }).formula)).toEqual(['feature.x']);
  });
});

describe('gates', () => {
  const gated = (gate: string) =>
    `formula = "g"\n[[steps]]\nid = "work"\n[[steps]]\nid = "check"\nneeds = ["work"]\n[steps.gate]\n${gate}\n`;

  it('applies defaults to human and command gates', () => {
    const fx = lib({
      'g.formula.toml': gated(
        'type = "human"\napprovers = ["@jgil", "team:leads"]\ntimeout = "2h"\non_reject = "work"',
      ),
      'c.formula.toml': gated('type = "command"\nrun = [["npm", "test"]]').replace('"g"', '"c"'),
    });
    expect(resolveFormula('g', fx.lib).formula!.steps[1]!.gate).toEqual({
      type: 'human',
      approvers: ['@jgil', 'team:leads'],
      min_approvals: 1,
      prevent_self_approval: true,
      on_timeout: 'escalate',
      timeout: '2h',
      on_reject: 'work',
    });
    expect(resolveFormula('c', fx.lib).formula!.steps[1]!.gate).toEqual({
      type: 'command',
      run: [['npm', 'test']],
      env: {},
      exit_codes: [0],
      results: [],
      allow_skipped: false,
      forbid: [],
      max_attempts: 3,
    });
  });

  it('rejects bad gate fields, each at steps[N].gate.<key>', () => {
    const fx = lib({
      'g.formula.toml': gated(
        'type = "command"\nrun = ["npm test"]\ntimeout = "soon"\nmax_attempts = 0\nforbid = [{ pattern = "(", paths = ["x"] }]\non_fail = "nowhere"',
      ),
    });
    const errors = validateFormulaFile(fx.path('g.formula.toml'), readText(fx.path('g.formula.toml')), fx.lib)
      .filter((d) => d.severity === 'error')
      .map((d) => d.path);
    expect(errors).toEqual(
      expect.arrayContaining([
        'steps[1].gate.run[0]',
        'steps[1].gate.timeout',
        'steps[1].gate.max_attempts',
        'steps[1].gate.forbid[0].pattern',
      ]),
    );
    // Step references are checked once the graph is known (here after the field errors are fixed).
    const ref = lib({
      'r.formula.toml': gated('type = "human"\non_reject = "nowhere"').replace('"g"', '"r"'),
    });
    expect(resolveFormula('r', ref.lib).diagnostics).toContainEqual(
      expect.objectContaining({
        path: 'steps[1].gate.on_reject',
        message: 'gate.on_reject names unknown step "nowhere"',
      }),
    );
  });

  it("keeps other dialects' gates as external, with a warning", () => {
    const fx = lib({ 'g.formula.toml': gated('type = "gh:run"\nid = "ci.yml"\ntimeout = "1h"') });
    const r = resolveFormula('g', fx.lib);
    expect(r.formula!.steps[1]!.gate).toEqual({
      type: 'gh:run',
      raw: { type: 'gh:run', id: 'ci.yml', timeout: '1h' },
    });
    expect(r.diagnostics).toContainEqual(
      expect.objectContaining({ severity: 'warning', code: 'formula.gate-not-executed' }),
    );
  });
});

describe('unknown keys and small parts', () => {
  it('keeps unknown keys under extra with a warning at their line', () => {
    const fx = lib({ 'k.formula.toml': 'formula = "k"\nowner = "ops"\n[[steps]]\nid = "a"\nestimate = 3\n' });
    const r = resolveFormula('k', fx.lib);
    expect(r.formula!.extra).toEqual({ owner: 'ops' });
    expect(r.formula!.steps[0]!.extra).toEqual({ estimate: 3 });
    expect(r.diagnostics).toEqual([
      expect.objectContaining({ severity: 'warning', path: 'owner', line: 2 }),
      expect.objectContaining({ severity: 'warning', path: 'steps[0].estimate', line: 5 }),
    ]);
  });

  it('parses durations', () => {
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
  });
});

describe('a warm process', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('resolves an unchanged file again without reading it, and reads it once it changes', () => {
    vi.stubEnv('GASTOWN_STAMP_WINDOW_MS', '0'); // the file is settled at once
    const fx = lib({ 'w.formula.toml': 'formula = "w"\n[[steps]]\nid = "a"\n' });
    const { lib: counted, reads } = countingLibrary(fx.lib);
    clockPast(fx.path('w.formula.toml'));
    expect(ids(resolveFormula('w', counted).formula)).toEqual(['a']);
    const before = reads();
    expect(ids(resolveFormula('w', counted).formula)).toEqual(['a']);
    expect(reads()).toBe(before);

    writeFileSync(fx.path('w.formula.toml'), 'formula = "w"\n[[steps]]\nid = "b"\n');
    expect(ids(resolveFormula('w', counted).formula)).toEqual(['b']);
  });

  it('reads a file again while its stamp is within the window', () => {
    const fx = lib({ 'w.formula.toml': 'formula = "w"\n[[steps]]\nid = "a"\n' });
    const { lib: counted, reads } = countingLibrary(fx.lib);
    resolveFormula('w', counted);
    const before = reads();
    writeFileSync(fx.path('w.formula.toml'), 'formula = "w"\n[[steps]]\nid = "b"\n');
    expect(ids(resolveFormula('w', counted).formula)).toEqual(['b']);
    expect(reads()).toBeGreaterThan(before);
  });
});

/**
 * Returns once the clock (whole milliseconds) has reached the file's change time (fractional): a
 * file changed in the current millisecond is not settled even with a zero window.
 */
function clockPast(file: string): void {
  const changed = statSync(file).ctimeMs;
  while (Date.now() < changed) {
    // Less than a millisecond.
  }
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
