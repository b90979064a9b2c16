// Typos and strangers do not pass silently: a --var the formula does not declare is refused (with
// the declared names; --force keeps it), a reserved name (`__proto__`, `constructor`) is refused
// rather than dropped, `formula validate` warns about an undeclared `{{placeholder}}`, `--as` must
// name someone the config knows when it lists anyone, and a step assigned to another agent is
// not theirs to start without --reassign. Real git repositories and the CLI run in this process.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inProcess, repoWithFormulas, treeHash } from './cli.js';

// The CLI runs in this process (test/cli/inproc.test.ts holds it to the built one's output).
const { gt, gtOk } = inProcess;

const NOBODY = { GASTOWN_AGENT: '' };
const MOL = '.beads/molecules/m';

describe('typos and strangers', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  const run = (args: string[], env: Record<string, string> = {}) =>
    gt(repo.path, args, { ...NOBODY, ...env });
  const ok = (args: string[], env: Record<string, string> = {}) =>
    gtOk(repo.path, args, { ...NOBODY, ...env });
  const create = (...extra: string[]) =>
    run(['molecule', 'create', '--formula', 'shiny', '--name', 'm', '--var', 'feature=x', ...extra]);
  const config = (text: string) => writeFileSync(join(repo.path, '.beads/config.toml'), text);
  const event = (name: string) => join(repo.path, MOL, 'events', name);

  beforeEach(async () => {
    repo = await repoWithFormulas();
  });
  afterEach(() => repo.cleanup());

  it('an undeclared --var is refused with the declared names, and kept with --force', async () => {
    const before = await treeHash(repo.path);
    const r = await create('--var', 'bogus=1');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('--var bogus: formula shiny declares no var "bogus"');
    expect(r.stderr).toContain('its vars: feature, reviewer');
    expect(r.stderr).toContain('--force');
    expect(existsSync(join(repo.path, MOL))).toBe(false);
    expect(await treeHash(repo.path)).toBe(before);

    await gtOk(repo.path, [
      'molecule',
      'create',
      '--formula',
      'shiny',
      '--name',
      'm',
      '--var',
      'feature=x',
      '--var',
      'bogus=1',
      '--force',
    ]);
    expect(readFileSync(join(repo.path, MOL, 'molecule.toml'), 'utf8')).toMatch(/^bogus = "1"$/m);
  });

  it('an undeclared var in an inputs file is refused, naming the file', async () => {
    writeFileSync(join(repo.path, 'in.toml'), '[vars]\nfeature = "x"\nreviewr = "jgil"\n');
    const r = await run(['molecule', 'create', '--formula', 'shiny', '--name', 'm', '--inputs', 'in.toml']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('in.toml: vars.reviewr: formula shiny declares no var "reviewr"');
    expect(existsSync(join(repo.path, MOL))).toBe(false);
  });

  it('reserved names (__proto__, constructor, prototype) are refused with a clear error, never dropped', async () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const r = await create('--var', `${name}=x`);
      expect(r.exitCode, name).toBe(2);
      expect(r.stderr).toContain(`"${name}" is a reserved name and cannot be a var`);
      const cook = await run(['formula', 'cook', 'shiny', '--var', 'feature=x', '--var', `${name}=x`]);
      expect(cook.exitCode, name).toBe(2);
      expect(cook.stderr).toContain(`"${name}" is a reserved name`);
    }
    writeFileSync(join(repo.path, 'in.toml'), '[vars]\nfeature = "x"\nconstructor = "y"\n');
    const fromFile = await run([
      'molecule',
      'create',
      '--formula',
      'shiny',
      '--name',
      'm',
      '--inputs',
      'in.toml',
    ]);
    expect(fromFile.exitCode).toBe(1);
    expect(fromFile.stderr).toContain('vars.constructor');
    expect(fromFile.stderr).toContain('reserved');
    // Nothing was written by any of them.
    expect(readdirSync(join(repo.path, '.beads')).sort()).toEqual(['formulas']);

    // A formula may not declare one either.
    writeFileSync(
      join(repo.path, '.beads/formulas/proto.formula.toml'),
      'formula = "proto"\n[vars.constructor]\ndefault = "x"\n[[steps]]\nid = "a"\ntitle = "A"\n',
    );
    const v = await run(['formula', 'validate', '.beads/formulas/proto.formula.toml']);
    expect(v.exitCode).toBe(1);
    expect(v.stderr).toContain('vars.constructor');
    expect(v.stderr).toContain('reserved name');
  });

  it('formula validate warns about an undeclared {{date}}, naming the file, the step and the field', async () => {
    const file = '.beads/formulas/report.formula.toml';
    writeFileSync(
      join(repo.path, file),
      'formula = "report"\n[vars.team]\ndefault = "core"\n[[steps]]\nid = "write"\ntitle = "Report of {{team}} for {{date}}"\n',
    );
    const r = await run(['formula', 'validate', file]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(
      /warning: \.beads\/formulas\/report\.formula\.toml:\d+: steps\[0\]\.title: step "write" uses \{\{date\}\}, which no \[vars\.date\] or input declares/,
    );
    expect(r.stderr).not.toContain('{{team}}');
  });

  it('--as must name an agent or person the config lists, and nothing is written otherwise', async () => {
    config(
      '[users.jgil]\nemails = ["jgil@example.com"]\n\n[agents.polecat-1]\nemails = ["p1@example.com"]\n',
    );
    await ok(['molecule', 'create', '--formula', 'shiny', '--name', 'm', '--var', 'feature=x']);
    const before = await treeHash(repo.path);
    const r = await run(['step', 'start', 'm', 'design', '--as', 'polecat-2']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('--as: "polecat-2" is no agent or person in .beads/config.toml');
    expect(r.stderr).toContain('agents: polecat-1; people: @jgil');
    const env = await run(['step', 'done', 'm', 'design'], { GASTOWN_AGENT: 'typo-agent' });
    expect(env.exitCode).toBe(1);
    expect(env.stderr).toContain('GASTOWN_AGENT: "typo-agent" is no agent or person');
    const cancel = await run(['molecule', 'cancel', 'm', '--as', 'nobody']);
    expect(cancel.exitCode).toBe(1);
    expect(await treeHash(repo.path)).toBe(before);
    // Known names (an agent, a person's handle with or without @, their email) are accepted.
    await ok(['step', 'start', 'm', 'design', '--as', 'polecat-1']);
    await ok(['step', 'done', 'm', 'design', '--as', '@jgil']);
  });

  it('a step assigned to another agent is refused to start without --reassign, which the fact records', async () => {
    config(
      '[agents.polecat-1]\nemails = ["p1@example.com"]\n\n[agents.polecat-2]\nemails = ["p2@example.com"]\n',
    );
    await ok([
      'molecule',
      'create',
      '--formula',
      'shiny',
      '--name',
      'm',
      '--var',
      'feature=x',
      '--assignee',
      'polecat-1',
    ]);
    const before = await treeHash(repo.path);
    const r = await run(['step', 'start', 'm', 'design', '--as', 'polecat-2']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('step design of m is assigned to polecat-1, not polecat-2');
    expect(r.stderr).toContain('--reassign');
    const done = await run(['step', 'done', 'm', 'design', '--as', 'polecat-2']);
    expect(done.exitCode).toBe(1);
    expect(await treeHash(repo.path)).toBe(before);

    await ok(['step', 'start', 'm', 'design', '--as', 'polecat-2', '--reassign']);
    const started = readFileSync(event('design.1.started.toml'), 'utf8');
    expect(started).toMatch(/^by = "polecat-2"$/m);
    expect(started).toMatch(/^reassigned_from = "polecat-1"$/m);
    // Its claimant finishes it; the assignee's own steps need no flag.
    await ok(['step', 'done', 'm', 'design', '--as', 'polecat-2']);
    await ok(['step', 'start', 'm', 'implement', '--as', 'polecat-1']);
  });
});
