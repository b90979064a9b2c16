// The frozen-formula memo that folds share within one process: the same text gives the same
// parse, and it stays bounded over many distinct formulas (a run over 10,000 molecules).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoParseFormula } from '../../src/engine/reconcile.js';
import { inProcess, repoWithFormulas } from './cli.js';

describe('memoParseFormula', () => {
  it('answers the same text from memory, and forgets the least recently used past its bound', async () => {
    const repo = await repoWithFormulas('gastown/shiny');
    try {
      await inProcess.gtOk(repo.path, [
        'molecule',
        'create',
        '--formula',
        'shiny',
        '--name',
        'm1',
        '--var',
        'feature=x',
      ]);
      const file = join(repo.path, '.beads/molecules/m1/formula.resolved.toml');
      const text = readFileSync(file, 'utf8');
      const first = memoParseFormula(text, file);
      expect(memoParseFormula(text, file)).toBe(first);
      // Many other formulas, with the first one used again half way: it stays.
      for (let i = 0; i < 300; i++) {
        memoParseFormula(`${text}# variant ${i}\n`, file);
        if (i === 150) expect(memoParseFormula(text, file)).toBe(first);
      }
      expect(memoParseFormula(`${text}# variant 299\n`, file)).toBe(
        memoParseFormula(`${text}# variant 299\n`, file),
      );
      // 149 formulas came after its last use, fewer than the bound: still remembered.
      expect(memoParseFormula(text, file)).toBe(first);
      for (let i = 300; i < 700; i++) memoParseFormula(`${text}# variant ${i}\n`, file);
      const again = memoParseFormula(text, file);
      expect(again).not.toBe(first);
      expect(again).toEqual(first);
    } finally {
      repo.cleanup();
    }
  });
});
