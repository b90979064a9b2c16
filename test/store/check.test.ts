// The state-file validators (src/store/check.ts, src/store/config.ts) accept and refuse whole
// files: a well-formed file passes, each broken field is refused.
import { describe, expect, it } from 'vitest';
import { checkDigest, checkEvent, checkMoleculeMeta } from '../../src/store/check.js';
import { parseConfig } from '../../src/store/config.js';
import { parseToml } from '../../src/store/toml.js';

function accepts(text: string, check: (v: Record<string, unknown>) => unknown): boolean {
  try {
    check(parseToml(text, 'f.toml'));
    return true;
  } catch {
    return false;
  }
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

describe('state-file validators', () => {
  it.each(cases.meta)('molecule.toml %#', (text, ok) => {
    expect(accepts(text, (v) => checkMoleculeMeta(v, 'f'))).toBe(ok);
  });
  it.each(cases.event)('event %#', (text, ok) => {
    const expected = { step: 'a', attempt: 1, kind: 'done' };
    expect(accepts(text, (v) => checkEvent(v, 'f', expected))).toBe(ok);
  });
  it.each(cases.digest)('digest %#', (text, ok) => {
    expect(accepts(text, (v) => checkDigest(v, 'f'))).toBe(ok);
  });
  it.each(cases.config)('config %#', (text, ok) => {
    expect(accepts(text, () => parseConfig(text, 'f'))).toBe(ok);
  });
});
