// Runtime `until` loops and timer gates through the CLI (run in this process).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gastownInProcess as gastown } from '../helpers/inproc.js';
import { gitIn, makeRepo } from '../helpers/repo.js';

const FORMULA = `formula = "fixer"
type = "workflow"

[[steps]]
id = "cool-down"
title = "Wait before starting"

[steps.gate]
type = "timer"
timeout = "30m"

[[steps]]
id = "fix"
title = "Fix until green"
needs = ["cool-down"]

[steps.loop]
until = "output.fix.try.ok == true"
max = 3

[[steps.loop.body]]
id = "try"
title = "Try a fix"
`;

describe('timers and until loops', () => {
  let repo: { path: string; cleanup(): void };
  const at = (t: string) => ({ GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: `2026-01-06T${t}:00Z` });
  const ok = async (args: string[], t = '09:00') => {
    const r = await gastown(args, repo.path, at(t));
    if (r.exitCode !== 0) throw new Error(`gastown ${args.join(' ')}: ${r.stderr}`);
    return String(r.stdout);
  };
  const steps = async (t: string) => {
    const s = JSON.parse(await ok(['molecule', 'status', 'm', '--json'], t)) as {
      state: string;
      steps: { id: string; state: string; attempt: number }[];
    };
    return {
      state: s.state,
      ...Object.fromEntries(s.steps.map((x) => [x.id, `${x.state}@${x.attempt}`])),
    } as Record<string, string>;
  };
  const doneWith = async (ok_: boolean, t: string) => {
    writeFileSync(join(repo.path, 'out.md'), `---\nok: ${ok_}\n---\ntried\n`);
    await ok(['step', 'done', 'm', 'fix.try', '--output', 'out.md'], t);
  };

  beforeEach(async () => {
    repo = await makeRepo();
    mkdirSync(join(repo.path, '.beads/formulas'), { recursive: true });
    writeFileSync(join(repo.path, '.beads/formulas/fixer.formula.toml'), FORMULA);
    writeFileSync(join(repo.path, '.beads/.gitignore'), '.cache/\n');
  });
  afterEach(() => repo.cleanup());

  it('a timer holds its step until the duration has passed since the wait was committed; the loop re-opens its body until `until` holds', async () => {
    await ok(['molecule', 'create', '--formula', 'fixer', '--name', 'm']);
    await gitIn(repo.path, 'add', '-A');
    await gitIn(repo.path, 'commit', '-qm', 'pour'); // committed at 09:00
    expect((await steps('09:29'))['cool-down']).toBe('pending@1');
    await ok(['advance'], '09:31');
    expect((await steps('09:31'))['cool-down']).toBe('ready@1');
    await ok(['step', 'done', 'm', 'cool-down'], '09:32');

    await doneWith(false, '09:40');
    expect(await steps('09:40')).toMatchObject({ 'fix.try': 'ready@2', fix: 'pending@2', state: 'active' });
    await doneWith(true, '09:50');
    expect(await steps('09:50')).toMatchObject({ 'fix.try': 'done@2', fix: 'done@2', state: 'completed' });
  });

  it('a loop that hits max without `until` holding blocks the molecule with the reason', async () => {
    await ok(['molecule', 'create', '--formula', 'fixer', '--name', 'm']);
    await gitIn(repo.path, 'add', '-A');
    await gitIn(repo.path, 'commit', '-qm', 'pour');
    await ok(['advance'], '10:00');
    await ok(['step', 'done', 'm', 'cool-down'], '10:00');
    for (let i = 0; i < 3; i++) await doneWith(false, '10:10');
    const s = JSON.parse(await ok(['molecule', 'status', 'm', '--json'], '10:10'));
    expect(s.state).toBe('blocked');
    expect(s.blocked_reason).toBe(
      'loop fix: loop ran 3 times and `output.fix.try.ok == true` still does not hold (output.fix.try.ok = false)',
    );
  });
});
