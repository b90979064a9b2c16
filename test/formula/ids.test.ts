// One id rule (src/store/ids.ts): `formula validate` refuses every step id the store could not
// write as a file name, naming the rule, so no formula that validates makes an invalid molecule.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileLibrary, validateFormulaFile } from '../../src/formula/index.js';
import { isPathSegment, STEP_ID_RULE } from '../../src/store/ids.js';
import { stepEventPath } from '../../src/store/layout.js';
import { gastown, makeRepo, tempDir } from '../helpers/repo.js';

const scratch = tempDir('gastown-ids-');
afterAll(() => scratch.cleanup());
const lib = createFileLibrary([scratch.path]);

/** A TOML basic string for any id (JSON's escapes are TOML's, plus DEL, which TOML wants escaped). */
const tomlString = (s: string) => JSON.stringify(s).replaceAll('\u007f', '\\u007F');
const formulaWith = (id: string) =>
  `formula = "ids"\n\n[[steps]]\nid = ${tomlString(id)}\n\n[[steps]]\nid = "after"\nneeds = [${tomlString(id)}]\n`;
const stepIdErrors = (id: string) =>
  validateFormulaFile('ids.formula.toml', formulaWith(id), lib).filter(
    (d) => d.severity === 'error' && d.path === 'steps[0].id',
  );

describe('step ids', () => {
  it('refuses build:web, -x, . and ünï at validate time, naming the rule; the store refuses the same', () => {
    for (const id of ['build:web', '-x', '.', 'ünï', 'a/b', '..', 'x'.repeat(129)]) {
      const errors = stepIdErrors(id);
      expect(errors, id).toHaveLength(1);
      expect(errors[0]?.message, id).toContain(`step id ${JSON.stringify(id)} cannot be stored`);
      expect(errors[0]?.message, id).toContain(STEP_ID_RULE);
      expect(() => stepEventPath(id, 1, 'done'), id).toThrow(STEP_ID_RULE);
    }
    expect(stepIdErrors('build:web')[0]?.message).toContain('it contains ":"');
    expect(stepIdErrors('-x')[0]?.message).toContain('it starts with "-"');
  });

  it('validate accepts exactly the ids the store can write (property)', () => {
    const chars = fc.constantFrom(...'aZ09_-.:/ \\ü{}@\t'.split(''), '\u007f', '\u0000');
    const id = fc.oneof(
      fc.array(chars, { maxLength: 8 }).map((cs) => cs.join('')),
      fc.string({ maxLength: 8 }),
      fc.constantFrom('x'.repeat(128), 'x'.repeat(129), 'implement.draft', 'a..b', '_x'),
    );
    fc.assert(
      fc.property(id, (s) => {
        const refused = s === '' ? true : stepIdErrors(s).length > 0;
        expect(refused, JSON.stringify(s)).toBe(!isPathSegment(s));
      }),
      { numRuns: 400 },
    );
  });

  it('formula validate and molecule create refuse build:web; nothing is written', async () => {
    const repo = await makeRepo();
    try {
      const dir = join(repo.path, '.beads/formulas');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'ids.formula.toml'), formulaWith('build:web'));
      const v = await gastown(['formula', 'validate', join(dir, 'ids.formula.toml')], repo.path);
      expect(v.exitCode).toBe(1);
      expect(v.stderr).toContain(
        `ids.formula.toml:4: steps[0].id: step id "build:web" cannot be stored: it contains ":"; ids may use ${STEP_ID_RULE}`,
      );
      const c = await gastown(['molecule', 'create', '--formula', 'ids', '--name', 'm1'], repo.path);
      expect(c.exitCode).toBe(1);
      expect(c.stderr).toContain('step id "build:web" cannot be stored');
      expect(existsSync(join(repo.path, '.beads/molecules'))).toBe(false);
    } finally {
      repo.cleanup();
    }
  });
});
