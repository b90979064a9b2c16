// A var that becomes an option: `["git", "log", "-1", "{{x}}"]` with `x=--output=../pwn` made git
// write outside the repository. A substituted value that starts an argument with `-` is refused
// (molecule create up front; the gate itself, should molecule.toml be edited) unless the formula
// allows it for that argument: after a literal `--`, or a var listed in `allow_option_vars`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { optionInjections } from '../../src/formula/argv.js';
import { substituteVars } from '../../src/formula/vars.js';
import { gastownInProcess } from '../helpers/inproc.js';
import { commitAll, gitIn, tempDir } from '../helpers/repo.js';

const formula = (name: string, gate: string, vars = '[vars.x]\ndefault = "HEAD"\n') => `formula = "${name}"

${vars}
[[steps]]
id = "work"

[[steps]]
id = "check"
needs = ["work"]

[steps.gate]
type = "command"
${gate}
max_attempts = 1
`;

describe('a var that would become an option', () => {
  // The repository is a folder of its own temp folder, so `../pwn` is private to each test.
  let parent: { path: string; cleanup(): void };
  let repo: { path: string };
  const run = (args: string[]) => gastownInProcess(args, repo.path);
  const ok = async (args: string[]) => {
    const r = await run(args);
    if (r.exitCode !== 0) throw new Error(`gastown ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return String(r.stdout);
  };
  const read = (rel: string) => readFileSync(join(repo.path, rel), 'utf8');
  /** Where `--output=../pwn` points from the repository root: outside it. */
  const outside = () => join(repo.path, '..', 'pwn');

  beforeEach(async () => {
    parent = tempDir();
    repo = { path: join(parent.path, 'repo') };
    mkdirSync(repo.path);
    await gitIn(repo.path, 'init', '-q', '-b', 'main');
    await execa('mkdir', ['-p', '.beads/formulas'], { cwd: repo.path });
    writeFileSync(join(repo.path, '.beads/.gitignore'), '.cache/\n');
    writeFileSync(
      join(repo.path, '.beads/formulas/log.formula.toml'),
      formula('log', 'run = [["git", "log", "-1", "{{x}}"]]'),
    );
    writeFileSync(
      join(repo.path, '.beads/formulas/operand.formula.toml'),
      formula('operand', 'run = [["git", "log", "-1", "--", "{{x}}"]]'),
    );
    writeFileSync(
      join(repo.path, '.beads/formulas/allowed.formula.toml'),
      formula('allowed', 'run = [["git", "log", "-1", "{{x}}"]]\nallow_option_vars = ["x"]'),
    );
    // {{x}} declared nowhere: cooking leaves it, the runner substitutes molecule.toml's [vars].
    writeFileSync(
      join(repo.path, '.beads/formulas/late.formula.toml'),
      formula('late', 'run = [["git", "log", "-1", "{{x}}"]]', ''),
    );
    await commitAll(repo.path, 'formulas');
  });
  afterEach(() => parent.cleanup());

  it('molecule create refuses it, naming the argument, the var and its value, and writes nothing', async () => {
    const r = await run([
      'molecule',
      'create',
      '--formula',
      'log',
      '--name',
      'm1',
      '--var',
      'x=--output=../pwn',
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'steps.check.gate.run[0][3]: {{x}} is "--output=../pwn", which starts with "-" and would be read as an option',
    );
    expect(existsSync(join(repo.path, '.beads/molecules/m1'))).toBe(false);
    expect(existsSync(outside())).toBe(false);
  });

  it('the gate refuses to run it when molecule.toml was edited after create: a failing report, nothing written outside', async () => {
    await ok(['molecule', 'create', '--formula', 'late', '--name', 'm1']);
    const meta = '.beads/molecules/m1/molecule.toml';
    expect(read(meta)).toMatch(/\[vars\]\n$/);
    writeFileSync(join(repo.path, meta), `${read(meta)}x = "--output=../pwn"\n`);
    await commitAll(repo.path, 'agent edits the var');
    await run(['step', 'done', 'm1', 'work', '--as', 'polecat-1']);
    const report = read('.beads/molecules/m1/reports/check.1.md');
    expect(report).toMatch(/^verdict: fail$/m);
    expect(report).toContain('- run[0][3]: {{x}} is "--output=../pwn", which starts with "-"');
    expect(report).toContain('No command ran.');
    expect(existsSync(outside())).toBe(false);
    const st = JSON.parse(await ok(['molecule', 'status', 'm1', '--json'])) as {
      steps: { id: string; state: string }[];
    };
    expect(st.steps.find((s) => s.id === 'check')?.state).not.toBe('done');
  });

  it('after a literal "--" or when allow_option_vars names the var, the value is passed as given', async () => {
    await ok(['molecule', 'create', '--formula', 'operand', '--name', 'm1', '--var', 'x=--output=../pwn']);
    await ok(['step', 'done', 'm1', 'work', '--as', 'polecat-1']);
    expect(read('.beads/molecules/m1/reports/check.1.md')).toMatch(/^verdict: pass$/m);
    expect(existsSync(outside())).toBe(false);

    await ok(['molecule', 'create', '--formula', 'allowed', '--name', 'm2', '--var', 'x=--format=%H']);
    await ok(['step', 'done', 'm2', 'work', '--as', 'polecat-1']);
    expect(read('.beads/molecules/m2/reports/check.1.md')).toMatch(/^verdict: pass$/m);
  });
});

describe('optionInjections', () => {
  const values: Record<string, string> = { opt: '--output=x', plain: 'HEAD', empty: '' };
  const vars = (t: string) => substituteVars(t, values);
  it('refuses only an argument whose first character a var supplies', () => {
    expect(optionInjections([['git', '{{opt}}']], vars)).toHaveLength(1);
    expect(optionInjections([['git', '{{empty}}{{opt}}']], vars)).toHaveLength(1);
    expect(optionInjections([['git', 'a{{opt}}', '{{plain}}', '{{unknown}}']], vars)).toEqual([]);
    expect(optionInjections([['git', '-{{opt}}', '--format={{opt}}']], vars)).toEqual([]);
    expect(optionInjections([['git', '--', '{{opt}}']], vars)).toEqual([]);
    expect(optionInjections([['git', '{{opt}}', '--']], vars)).toHaveLength(1);
    expect(optionInjections([['git', '{{opt}}']], vars, ['opt'])).toEqual([]);
    expect(optionInjections([['{{opt}}']], vars)[0]).toMatchObject({
      key: 'run[0][0]',
      message: expect.stringContaining('{{opt}} is "--output=x", which starts with "-"'),
    });
  });
});
