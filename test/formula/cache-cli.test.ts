// The validation cache through the real CLI: cold, warm, corrupt and disabled runs print the same
// bytes; inside a repository the cache lives in .beads/.cache; editing a parent formula changes
// the verdict on the child that extends it.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gastown, makeRepo, tempDir } from '../helpers/repo.js';
import { CORPUS_DIRS } from './helpers.js';

const corpusFiles = CORPUS_DIRS.flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith('.formula.toml'))
    .map((f) => join(d, f)),
);
const scratch = tempDir('gastown-cache-cli-');
afterAll(() => scratch.cleanup());

describe('formula validate with the result cache', () => {
  it('prints byte-identical output cold, warm, from a corrupt cache and with the cache off', async () => {
    const cacheDir = join(scratch.path, 'cache');
    const env = { GASTOWN_FORMULA_PATH: CORPUS_DIRS.join(':'), GASTOWN_CACHE_DIR: cacheDir };
    const run = async (json: boolean, extra: Record<string, string> = {}) => {
      const r = await gastown(
        ['formula', 'validate', ...(json ? ['--json'] : []), ...corpusFiles],
        scratch.path,
        {
          ...env,
          ...extra,
        },
      );
      expect(r.exitCode).toBe(0);
      return { out: r.stdout, err: r.stderr };
    };

    const cold = await run(true);
    const entries = readdirSync(join(cacheDir, 'formula')).sort();
    expect(entries).toEqual(['validate-texts.json', 'validate.json']);
    expect(await run(true)).toEqual(cold);
    expect(JSON.parse(cold.out)).toHaveLength(52);

    for (const e of entries) writeFileSync(join(cacheDir, 'formula', e), '{"deps":[["x"');
    expect(await run(true)).toEqual(cold);

    // Human output too, warnings on stderr included.
    const warm = await run(false);
    expect(warm.err).toContain('steps[3].gate.type');
    expect(await run(false, { GASTOWN_NO_CACHE: '1' })).toEqual(warm);
  });

  it('keeps the cache in .beads/.cache and re-checks a child when its parent changes', async () => {
    const repo = await makeRepo();
    try {
      const formulas = join(repo.path, '.beads', 'formulas');
      mkdirSync(formulas, { recursive: true });
      const step = (id: string, needs: string[]) =>
        `[[steps]]\nid = "${id}"\ntitle = "${id}"\nneeds = [${needs.map((x) => `"${x}"`).join(', ')}]\n`;
      const parent = (extra = '') =>
        `formula = "base"\n\n${step('plan', [])}\n${step('build', ['plan'])}${extra}`;
      writeFileSync(join(formulas, 'base.formula.toml'), parent());
      writeFileSync(
        join(formulas, 'feature.formula.toml'),
        `formula = "feature"\nextends = ["base"]\n\n${step('ship', ['build'])}`,
      );
      const env = { XDG_CACHE_HOME: join(scratch.path, 'xdg') };

      const ok = await gastown(['formula', 'validate', 'feature'], repo.path, env);
      expect(ok.exitCode).toBe(0);
      expect(ok.stdout).toContain('ok  .beads/formulas/feature.formula.toml');
      expect(readdirSync(join(repo.path, '.beads', '.cache', 'formula')).sort()).toEqual([
        'validate-texts.json',
        'validate.json',
      ]);
      expect((await gastown(['formula', 'validate', 'feature'], repo.path, env)).stdout).toBe(ok.stdout);

      writeFileSync(join(formulas, 'base.formula.toml'), parent(`\n${step('test', ['missing'])}`));
      const bad = await gastown(['formula', 'validate', 'feature'], repo.path, env);
      expect(bad.exitCode).toBe(1);
      expect(bad.stderr).toContain(
        'error: .beads/formulas/base.formula.toml:16: steps[2].needs[0]: step "test" needs unknown step "missing"',
      );
      expect(bad.stdout).toContain('invalid  .beads/formulas/feature.formula.toml');

      rmSync(join(repo.path, '.beads', '.cache'), { recursive: true });
      expect(await gastown(['formula', 'validate', 'feature'], repo.path, env)).toMatchObject({
        exitCode: 1,
        stderr: bad.stderr,
      });
    } finally {
      repo.cleanup();
    }
  });
});
