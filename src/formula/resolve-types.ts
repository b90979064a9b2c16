// The resolver's shapes: its input (a formula source, the library that finds referenced ones,
// options) and its working state (a step while it is being resolved, with where each part came
// from, for errors, and one composed formula before it is flattened).
import type { Stats } from 'node:fs';
import type {
  Diagnostic,
  FormulaType,
  InputDef,
  Leg,
  Preset,
  ResolvedFormula,
  ResolvedStep,
  Synthesis,
  VarDef,
} from './model.js';
import type { RawFormula } from './schema.js';

export interface FormulaSource {
  file: string;
  text: string;
  /** Size in bytes when the library did not read the text because it is over the limit. */
  size?: number;
  /**
   * The file's stat, taken before its text was read: while a stamp of it (statStamp and size)
   * still matches and was settled when recorded, the text is the one read then.
   */
  stats?: Stats;
}

export interface FormulaLibrary {
  /** By name: first search dir wins (repo .beads/formulas shadows built-ins). */
  find(name: string): FormulaSource | undefined;
  list(): { name: string; file: string }[];
}

export interface FormulaResult {
  /** Undefined if and only if a diagnostic is an error. */
  formula?: ResolvedFormula;
  diagnostics: Diagnostic[];
}

/** Options for the resolver: variables known now (range bounds) and the target of a lone expansion. */
export interface ResolveOptions {
  vars?: Record<string, string>;
  target?: string;
}

export interface Origin {
  file: string;
  path: string;
}

/** The origin of a key path in the file being composed. */
export type At = (path: string) => Origin;

/** A step during resolution: the resolved shape plus where each part came from, for errors. */
export interface WorkStep extends ResolvedStep {
  origin: Origin;
  /** need id -> key path of the `needs`/`depends_on` entry that introduced it. */
  needPaths: Map<string, Origin>;
  /** Step ids named by gates and waits_for, checked once the whole graph is known. */
  refs: { key: string; id: string; origin: Origin }[];
}

export interface Composed {
  file: string;
  name: string;
  type: FormulaType;
  raw: RawFormula;
  vars: Record<string, VarDef>;
  steps: WorkStep[];
  /** Ids that were replaced (loops, expansions, advice-wrapped): dependents move to `last`. */
  aliasLast: Map<string, string>;
  /** ... and gates that re-open them (`on_reject`, `on_fail`) go to `first`. */
  aliasFirst: Map<string, string>;
  legs: Leg[];
  synthesis?: Synthesis;
  inputs: Record<string, InputDef>;
  presets: Record<string, Preset>;
  extra: Record<string, unknown>;
}

export interface TargetInfo {
  id: string;
  title: string;
  description: string;
}
