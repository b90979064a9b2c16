// In-process helpers for formula tests: a library over real temp folders.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileLibrary, type FormulaLibrary, type FormulaSource } from '../../src/formula/index.js';
import { CORPUS, tempDir } from '../helpers/repo.js';

export const CORPUS_DIRS = [join(CORPUS, 'gastown'), join(CORPUS, 'beads')];

export function corpusLibrary(): FormulaLibrary {
  return createFileLibrary(CORPUS_DIRS);
}

/** A temp folder of formula files, and a library over it. */
export function formulaDir(files: Record<string, string>): {
  dir: string;
  lib: FormulaLibrary;
  path(name: string): string;
  cleanup(): void;
} {
  const t = tempDir('gastown-formula-');
  const dir = join(t.path, 'formulas');
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, lib: createFileLibrary([dir]), path: (name) => join(dir, name), cleanup: t.cleanup };
}

/** A library that counts how often a formula file's text is read. */
export function countingLibrary(inner: FormulaLibrary): { lib: FormulaLibrary; reads: () => number } {
  let n = 0;
  const count = (src: FormulaSource | undefined) =>
    src &&
    new Proxy(src, {
      get(target, key, receiver) {
        if (key === 'text') n++;
        return Reflect.get(target, key, receiver);
      },
    });
  return { lib: { find: (name) => count(inner.find(name)), list: () => inner.list() }, reads: () => n };
}
