// The resolver's working shapes: a step while it is being resolved (with where each part came
// from, for errors) and one composed formula before it is flattened.
import type { FormulaType, InputDef, Leg, Preset, ResolvedStep, Synthesis, VarDef } from './model.js';
import type { RawFormula } from './schema.js';

export interface Origin {
  file: string;
  path: string;
}

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
