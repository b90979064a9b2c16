// The descriptions `molecule current` prints, from a molecule's frozen formula and molecule.toml
// alone: the store's own readers of those two files, without fold or the planner, so a warm
// `current` answered from the summaries never loads the engine (scripts/build.mjs, `readers`).
// What they gave is kept in `.cache/status/<id>.described.json` under the stat (device, inode,
// ctime) of both files, each taken before it is read: while both stats are the same, so are both
// files' bytes, and the descriptions are taken from the kept file instead of parsing the formula
// (docs/decisions.md, "Step descriptions kept under the frozen files' stats").
import { moleculeRelDir } from '../engine/io.js';
import { substituteVars as substitute } from '../formula/vars.js';
import { readIfExists, readSmallFile } from '../store/atomic.js';
import {
  StatDigest,
  stampIsSettled,
  stampWindow,
  statusCacheFile,
  writeStatusCacheFile,
} from '../store/cache.js';
import { checkFrozenFormula, checkMoleculeMeta } from '../store/check.js';
import { FORMULA_FILE, MOLECULE_FILE, moleculesDir } from '../store/layout.js';
import { type StampStat, statInto } from '../store/stat.js';
import { parseWrittenToml } from '../store/toml.js';
import { VERSION } from '../version.js';

const FORMAT = 1;

interface Described {
  v: number;
  gastown: string;
  /** The digest of both files' stats, frozen formula first (StatDigest). */
  stamp: string;
  /** Step id → its description with the molecule's vars filled in. */
  steps: Record<string, string>;
}

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
  // Before either stat: a file changed after it was stat'ed is not kept (stampIsSettled).
  const runStartMs = Date.now();
  const window = stampWindow();
  const digest = new StatDigest();
  const st: StampStat = { dev: 0, ino: 0, ctimeMs: 0, dir: false };
  let settled = true;
  for (const file of [FORMULA_FILE, MOLECULE_FILE]) {
    if (!statInto(`${dir}/${file}`, st) || st.dir) return undefined;
    digest.add(st);
    settled &&= stampIsSettled(st, runStartMs, window);
  }
  const stamp = digest.finish(undefined);
  const keptFile = statusCacheFile(root, `${id}.described.json`);
  const kept = keptDescriptions(keptFile, stamp);
  if (kept && steps.every((s) => typeof kept[s] === 'string'))
    return new Map(steps.map((s) => [s, kept[s] as string]));
  const read = readDescriptions(dir, id, steps);
  if (read && settled) {
    const out: Described = {
      v: FORMAT,
      gastown: VERSION,
      stamp,
      steps: { ...(kept ?? {}), ...Object.fromEntries(read) },
    };
    writeStatusCacheFile(root, keptFile, JSON.stringify(out));
  }
  return read;
}

/** The kept descriptions when they were taken from files with these very stats. */
function keptDescriptions(file: string, stamp: string): Record<string, string> | undefined {
  const text = readIfExists(file);
  if (text === undefined) return undefined;
  try {
    const k = JSON.parse(text) as Described;
    if (k.v !== FORMAT || k.gastown !== VERSION || k.stamp !== stamp) return undefined;
    return k.steps !== null && typeof k.steps === 'object' ? k.steps : undefined;
  } catch {
    return undefined;
  }
}

/** The descriptions from the files themselves, checked as fold checks them. */
function readDescriptions(
  dir: string,
  id: string,
  steps: readonly string[],
): Map<string, string> | undefined {
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
