// The descriptions `molecule current` prints, from a molecule's frozen formula and molecule.toml
// alone: the store's own readers of those two files, without fold or the planner, so a warm
// `current` answered from the summaries never loads the engine (scripts/build.mjs, `readers`).
import { moleculeRelDir } from '../engine/io.js';
import { substituteVars as substitute } from '../formula/vars.js';
import { readSmallFile } from '../store/atomic.js';
import { checkFrozenFormula, checkMoleculeMeta } from '../store/check.js';
import { FORMULA_FILE, MOLECULE_FILE, moleculesDir } from '../store/layout.js';
import { parseWrittenToml } from '../store/toml.js';

/**
 * The descriptions of steps of molecule `id` as stepView gives them (vars filled in), from its
 * frozen formula and molecule.toml alone: `molecule current` prints them for every step it lists.
 * Undefined when those files cannot be read or parsed; the caller folds the molecule then.
 */
export function stepDescriptions(
  root: string,
  id: string,
  steps: readonly string[],
): Map<string, string> | undefined {
  const dir = `${moleculesDir(root)}/${id}`;
  try {
    const formulaFile = `${moleculeRelDir(id)}/${FORMULA_FILE}`;
    const metaFile = `${moleculeRelDir(id)}/${MOLECULE_FILE}`;
    // What fold's parseFrozenFormula and parseMoleculeMeta give, checks included.
    const formula = checkFrozenFormula(
      parseWrittenToml(readSmallFile(`${dir}/${FORMULA_FILE}`), formulaFile),
      formulaFile,
    );
    const meta = checkMoleculeMeta(
      parseWrittenToml(readSmallFile(`${dir}/${MOLECULE_FILE}`), metaFile),
      metaFile,
    );
    const out = new Map<string, string>();
    for (const id of steps) {
      const step = formula.steps.find((s) => s.id === id);
      if (!step) return undefined;
      out.set(id, substitute(step.description ?? '', meta.vars ?? {}).trimEnd());
    }
    return out;
  } catch {
    return undefined;
  }
}
