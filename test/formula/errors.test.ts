// Hand-made bad formulas through the CLI (run in the test worker): each fails with exit 1, names the file, the key
// and (where the parser can say) the line, and never prints a stack trace.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gastownInProcess as gastown } from '../helpers/inproc.js';
import { formulaDir } from './helpers.js';

const ok = (id: string, needs: string[] = []) =>
  `[[steps]]\nid = "${id}"\ntitle = "${id}"\n${needs.length ? `needs = [${needs.map((n) => `"${n}"`).join(', ')}]\n` : ''}`;

const files: Record<string, string> = {
  'cycle.formula.toml': `formula = "cycle"\n\n${ok('a', ['c'])}\n${ok('b', ['a'])}\n${ok('c', ['b'])}`,
  'unknown-need.formula.toml': `formula = "unknown-need"\n\n${ok('a')}\n${ok('b', ['a'])}\n${ok('c', ['nope'])}`,
  'duplicate.formula.toml': `formula = "duplicate"\n\n${ok('a')}\n${ok('b')}\n${ok('a')}`,
  'broken.formula.toml': 'formula = "broken"\n\n[[steps]]\nid = "a"\ntitle = "unterminated\n',
  'pattern.formula.toml': `formula = "pattern"\n\n[vars.version]\nrequired = true\npattern = "^\\\\d+\\\\.\\\\d+\\\\.\\\\d+$"\n\n${ok('a')}`,
  'loop-a.formula.toml': `formula = "loop-a"\nextends = ["loop-b"]\n`,
  'loop-b.formula.toml': `formula = "loop-b"\nextends = ["loop-a"]\n\n${ok('x')}`,
  'orphan.formula.toml': `formula = "orphan"\nextends = ["no-such-parent"]\n\n${ok('x')}`,
  'traversal.formula.toml': `formula = "traversal"\n\n${ok('../escape')}`,
};
const fx = formulaDir(files);
afterAll(() => fx.cleanup());

async function validate(name: string, json = false) {
  const r = await gastown(['formula', 'validate', ...(json ? ['--json'] : []), fx.path(name)], fx.dir);
  expect(r.stderr + r.stdout).not.toMatch(/\n\s+at .*:\d+:\d+/); // no stack trace
  expect(r.stderr).not.toContain('internal error');
  return r;
}

describe('formula validate on bad input', () => {
  it('reports a dependency cycle with its path', async () => {
    const r = await validate('cycle.formula.toml');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /cycle\.formula\.toml:\d+: steps\[\d\]\.needs\[0\]: dependency cycle: (a -> c -> b -> a|b -> a -> c -> b|c -> b -> a -> c)/,
    );
  });

  it('reports an unknown need at its key and line', async () => {
    const r = await validate('unknown-need.formula.toml');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'unknown-need.formula.toml:15: steps[2].needs[0]: step "c" needs unknown step "nope"',
    );
  });

  it('reports a duplicate id at the second definition', async () => {
    const r = await validate('duplicate.formula.toml', true);
    expect(r.exitCode).toBe(1);
    const [result] = JSON.parse(r.stdout);
    expect(result.valid).toBe(false);
    expect(result.errors).toContainEqual({
      file: 'duplicate.formula.toml',
      path: 'steps[2].id',
      line: 12,
      message: 'duplicate step id "a" (first defined at steps[0])',
      code: 'formula.duplicate-id',
    });
  });

  it('reports broken TOML with its line', async () => {
    const r = await validate('broken.formula.toml');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/broken\.formula\.toml:5: invalid TOML/);
  });

  it('refuses a var that fails its pattern when cooking, naming the var', async () => {
    const good = await gastown(
      ['formula', 'cook', fx.path('pattern.formula.toml'), '--var', 'version=1.2.3'],
      fx.dir,
    );
    expect(good.exitCode).toBe(0);
    const r = await gastown(
      ['formula', 'cook', fx.path('pattern.formula.toml'), '--var', 'version=latest', '--json'],
      fx.dir,
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'pattern.formula.toml: vars.version: var "version" = "latest" does not match pattern',
    );
    expect(JSON.parse(r.stdout).errors[0]).toMatchObject({
      path: 'vars.version',
      code: 'formula.var-pattern',
    });
  });

  it('reports an extends cycle and a missing parent', async () => {
    const cycle = await validate('loop-a.formula.toml');
    expect(cycle.exitCode).toBe(1);
    expect(cycle.stderr).toMatch(
      /loop-b\.formula\.toml:2: extends\[0\]: formulas refer to each other in a cycle: loop-a -> loop-b -> loop-a/,
    );
    const orphan = await validate('orphan.formula.toml');
    expect(orphan.exitCode).toBe(1);
    expect(orphan.stderr).toContain(
      'orphan.formula.toml:2: extends[0]: parent formula "no-such-parent" not found',
    );
  });

  it('refuses a 10 MB file before parsing it', async () => {
    const big = join(fx.dir, 'huge.formula.toml');
    writeFileSync(big, `formula = "huge"\n# ${'x'.repeat(10 * 1024 * 1024)}\n`);
    const r = await validate('huge.formula.toml');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('huge.formula.toml: file is 10.0 MiB; formulas are limited to 1.0 MiB');
  });

  it('refuses a step id that could escape a folder', async () => {
    const r = await validate('traversal.formula.toml');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'traversal.formula.toml:4: steps[0].id: step id "../escape" cannot be stored: it contains ".."',
    );
  });

  it('exits 2 on a usage error and 1 when any one of several files is invalid', async () => {
    const none = await gastown(['formula', 'validate'], fx.dir);
    expect(none.exitCode).toBe(2);
    const flag = await gastown(['formula', 'validate', '--bogus', fx.path('cycle.formula.toml')], fx.dir);
    expect(flag.exitCode).toBe(2);
    const mixed = await gastown(
      ['formula', 'validate', fx.path('pattern.formula.toml'), fx.path('cycle.formula.toml')],
      fx.dir,
    );
    expect(mixed.exitCode).toBe(1);
    expect(mixed.stdout).toContain('1 valid, 1 invalid');
  });
});
