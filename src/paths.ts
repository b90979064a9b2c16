// Where the package's own files (built-in formulas, hook scripts, .beads-template) live.
// The code runs from src/ under tests and from dist/ or dist/chunks/ when bundled, so walk up
// from this module to the package.json named gastown.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'gastown')
          return (cached = dir);
      } catch {
        // Not ours; keep walking.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the gastown package root');
    dir = parent;
  }
}

export const builtinFormulasDir = (): string => join(packageRoot(), 'formulas');
export const hooksDir = (): string => join(packageRoot(), 'hooks');
export const templateDir = (): string => join(packageRoot(), '.beads-template');
