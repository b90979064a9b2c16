// The zod schemas (reference) and the light checks (hot path) accept and reject the same files.
import { describe, expect, it } from 'vitest';
import { checkDigest, checkEvent, checkMoleculeMeta } from '../../src/store/check.js';
import { parseConfig } from '../../src/store/config.js';
import { ConfigSchema, DigestSchema, MoleculeMetaSchema, StepEventSchema } from '../../src/store/schema.js';
import { parseToml } from '../../src/store/toml.js';

function agree(
  text: string,
  zodOk: (v: unknown) => boolean,
  lightOk: (v: Record<string, unknown>) => unknown,
) {
  const value = parseToml(text, 'f.toml');
  let light = true;
  try {
    lightOk(value);
  } catch {
    light = false;
  }
  return { zod: zodOk(value), light };
}

const cases = {
  meta: [
    ['id = "m1"\nformula = "shiny"\nformula_hash = "h"\n[vars]\nfeature = "x"\n', true],
    [
      'id = "m1"\nformula = "shiny"\nformula_hash = "h"\nformula_version = 2\n[inputs.scope]\nservice = "we"\n',
      true,
    ],
    ['id = "m1"\nformula = "shiny"\n', false],
    ['id = "M1"\nformula = "shiny"\nformula_hash = "h"\n', false],
    ['id = "m1"\nformula = "shiny"\nformula_hash = "h"\n[vars]\nn = 3\n', false],
    ['id = "m1"\nformula = "shiny"\nformula_hash = "h"\nafter = "../x"\n', false],
    ['id = "m1"\nformula = "shiny"\nformula_hash = "h"\nlegs = ["a", 1]\n', false],
  ],
  event: [
    ['step = "a"\nattempt = 1\nkind = "done"\nby = "p"\n', true],
    ['step = "a"\nattempt = 1\nkind = "done"\ncheckpoint = "c.md"\n', true],
    ['step = "a"\nattempt = "1"\nkind = "done"\n', false],
    ['step = "a"\nkind = "done"\n', false],
    ['step = "a"\nattempt = 1\nkind = "done"\nby = 3\n', false],
    ['step = "a"\nattempt = 1\nkind = "done"\noutput = "../../etc/passwd"\n', false],
  ],
  digest: [
    ['id = "m"\nstate = "completed"\n[[steps]]\nid = "a"\nattempt = 1\nstate = "done"\n', true],
    ['id = "m"\nstate = "active"\nsteps = []\n', false],
    ['id = "m"\nstate = "completed"\n[[steps]]\nid = "a"\nattempt = 1\nstate = "failed"\n', false],
  ],
  config: [
    ['[engine]\ncommit = true\nhook_timeout = "5s"\n[teams]\nleads = ["@a"]\n[mail]\nx = 1\n', true],
    ['[engine]\ncommit = "yes"\n', false],
    ['[teams]\nleads = "@a"\n', false],
    ['[users.a]\nemails = [1]\n', false],
  ],
} as const;

describe('schemas agree with the light checks', () => {
  it.each(cases.meta)('molecule.toml %#', (text, ok) => {
    expect(
      agree(
        text,
        (v) => MoleculeMetaSchema.safeParse(v).success,
        (v) => checkMoleculeMeta(v, 'f'),
      ),
    ).toEqual({ zod: ok, light: ok });
  });
  it.each(cases.event)('event %#', (text, ok) => {
    const expected = { step: 'a', attempt: 1, kind: 'done' };
    expect(
      agree(
        text,
        (v) => StepEventSchema.safeParse(v).success,
        (v) => checkEvent(v, 'f', expected),
      ),
    ).toEqual({ zod: ok, light: ok });
  });
  it.each(cases.digest)('digest %#', (text, ok) => {
    expect(
      agree(
        text,
        (v) => DigestSchema.safeParse(v).success,
        (v) => checkDigest(v, 'f'),
      ),
    ).toEqual({ zod: ok, light: ok });
  });
  it.each(cases.config)('config %#', (text, ok) => {
    expect(
      agree(
        text,
        (v) => ConfigSchema.safeParse(v).success,
        () => parseConfig(text, 'f'),
      ),
    ).toEqual({ zod: ok, light: ok });
  });
});
