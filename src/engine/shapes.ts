// Shared verdicts for a cold advance. Molecules poured from one formula sit at a handful of
// points of progress: same frozen formula, same event file names. When that formula's plan
// reads only step states (no gate, loop, on_complete or condition), fold + plan depend on the
// names alone once the files that differ between such molecules are valid: molecule.toml and
// the facts of steps in flight. So the first molecule of each shape is reconciled in full and
// the others reuse its verdict after those files are checked. Any doubt (a temp file, a
// sub-folder, an `after`, an invalid file) sends the molecule down the full path, which
// reports and repairs exactly as before.
import type { Dirent } from 'node:fs';
import type { ResolvedFormula } from '../formula/model.js';
import { readSharedFile, readSmallFile } from '../store/atomic.js';
import type { MoleculeSummary } from '../store/cache.js';
import { EVENTS, FORMULA_FILE, MOLECULE_FILE, moleculesDir, parseEventName } from '../store/layout.js';
import { hasConflictMarkers } from '../store/toml.js';
import { frozenFormulaHash, parseEventFact, parseMoleculeMeta } from './fold.js';
import { formulaNeedsPlugins } from './gates.js';
import { moleculeRelDir } from './io.js';
import { memoParseFormula, type ReconcileOutcome, settledFactPaths } from './reconcile.js';

/** What two molecules must have in common to share a verdict. */
export interface Shape {
  formula: ResolvedFormula;
  /** The `events/` names, sorted, joined with `/` (which no name holds). */
  names: string;
  metaText: string;
  listed: Dirent[];
}

interface Verdict {
  summary: MoleculeSummary;
  /** Event files the full path read and checked (not settled history): checked again per molecule. */
  inFlight: string[];
}

const MAX_REMEMBERED_FACTS = 10_000;

export class SharedVerdicts {
  private readonly byFormula = new WeakMap<ResolvedFormula, Map<string, Verdict>>();
  /** Per frozen formula (one object per distinct text): may its molecules share verdicts? */
  private readonly shareable = new WeakMap<ResolvedFormula, boolean>();
  /**
   * Facts (name and bytes) that passed fold's checks: molecules at one point of progress hold
   * byte-identical facts of the steps in flight, and checking one depends on nothing else.
   */
  private readonly validFacts = new Set<string>();
  private readonly base: string;

  constructor(root: string) {
    this.base = `${moleculesDir(root)}/`;
  }

  /**
   * The shape of a molecule advance has never seen, or undefined when it cannot share a verdict:
   * its listing holds a temp file or a folder, or its frozen formula or molecule.toml cannot be
   * read, or the formula's plan reads more than step states.
   */
  shapeOf(id: string, listed: Dirent[]): Shape | undefined {
    const names: string[] = [];
    for (let i = 0; i < listed.length; i++) {
      const e = listed[i] as Dirent;
      if (e.name.charCodeAt(0) === 46 /* . */ || !e.isFile()) return undefined;
      names.push(e.name);
    }
    const dir = this.base + id;
    try {
      const text = readSharedFile(`${dir}/${FORMULA_FILE}`);
      const formula = memoParseFormula(text, `${moleculeRelDir(id)}/${FORMULA_FILE}`);
      let ok = this.shareable.get(formula);
      if (ok === undefined) {
        ok = !formulaNeedsPlugins(formula) && !hasConflictMarkers(text);
        this.shareable.set(formula, ok);
      }
      if (!ok) return undefined;
      const metaText = readSmallFile(`${dir}/${MOLECULE_FILE}`);
      return { formula, names: names.sort().join('/'), metaText, listed };
    } catch {
      return undefined; // the full path reports it
    }
  }

  /**
   * The summary another molecule of this shape earned, if this molecule's own files pass the
   * checks fold would make of them; undefined means "reconcile it in full".
   */
  reuse(id: string, shape: Shape): MoleculeSummary | undefined {
    const verdict = this.byFormula.get(shape.formula)?.get(shape.names);
    if (!verdict || !this.ownFilesValid(id, shape, verdict.inFlight)) return undefined;
    return verdict.summary;
  }

  /**
   * Remembers the verdict of a molecule reconciled in full, when it is one another molecule of
   * the same shape would get: nothing happened, nothing is wrong, no clock or other molecule
   * was involved.
   */
  learn(shape: Shape, r: ReconcileOutcome, summary: MoleculeSummary | undefined): void {
    const { state, plan } = r;
    if (
      !summary?.events ||
      r.transitions.length > 0 ||
      r.written.length > 0 ||
      r.problems.length > 0 ||
      plan.effects.length > 0 ||
      plan.volatile ||
      plan.recheckAt !== undefined ||
      state.formula !== shape.formula ||
      state.digest !== undefined ||
      state.meta?.after !== undefined
    )
      return;
    const paths = shape.listed.map((e) => `${EVENTS}/${e.name}`);
    const settled = settledFactPaths(paths);
    const verdict: Verdict = { summary, inFlight: paths.filter((p) => !settled.has(p)) };
    let shapes = this.byFormula.get(shape.formula);
    if (!shapes) this.byFormula.set(shape.formula, (shapes = new Map()));
    shapes.set(shape.names, verdict);
  }

  /**
   * fold's checks of molecule.toml (its id, and its `formula_hash` against the shared frozen
   * formula) and of the facts it reads, without building any state.
   */
  private ownFilesValid(id: string, shape: Shape, inFlight: readonly string[]): boolean {
    const rel = moleculeRelDir(id);
    const metaText = shape.metaText;
    try {
      if (hasConflictMarkers(metaText)) return false;
      const meta = parseMoleculeMeta(metaText, `${rel}/${MOLECULE_FILE}`);
      if (meta.id !== id || meta.after !== undefined) return false;
      if (meta.formula_hash !== frozenFormulaHash(shape.formula)) return false;
      for (let i = 0; i < inFlight.length; i++) {
        const path = inFlight[i] as string;
        const parsed = parseEventName(path.slice(EVENTS.length + 1));
        if (!parsed) return false;
        const text = readSmallFile(`${this.base}${id}/${path}`);
        const seen = `${path}\n${text}`;
        if (this.validFacts.has(seen)) continue;
        if (hasConflictMarkers(text)) return false;
        parseEventFact(text, `${rel}/${path}`, parsed);
        if (this.validFacts.size < MAX_REMEMBERED_FACTS) this.validFacts.add(seen);
      }
      return true;
    } catch {
      return false;
    }
  }
}
