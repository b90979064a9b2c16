// The resolved formula: what the formula engine hands to everything else (engine, CLI,
// gates). Raw TOML is parsed and validated by the zod schema in schema.ts; resolution
// (extends, compose, advice, expansion, loops, conditions, convoy legs) produces this.
// Keys we keep but do not execute stay in `extra` so nothing is ever dropped.

export type FormulaType = 'workflow' | 'convoy' | 'expansion' | 'aspect';

export type Severity = 'error' | 'warning';

/** One problem found in a formula file. Validation accumulates these; it never stops at the first. */
export interface Diagnostic {
  severity: Severity;
  /** Stable code, e.g. `formula.cycle`, `formula.unknown-key`, `toml.syntax`. */
  code: string;
  file: string;
  /** Key path such as `steps[3].needs[0]`; empty for whole-file problems. */
  path: string;
  line?: number;
  column?: number;
  message: string;
}

export interface VarDef {
  name: string;
  description?: string;
  required: boolean;
  default?: string;
  enum?: string[];
  pattern?: string;
  type?: string;
}

/** A human checkpoint: the step waits until enough allowed people approve its checkpoint file. */
export interface HumanGate {
  type: 'human';
  /** Users (`@jgil`) or teams (`team:leads`) from .beads/config.toml. Empty: any user configured in [users], never the agent that did the work. */
  approvers: string[];
  min_approvals: number;
  prevent_self_approval: boolean;
  /** Duration such as `2h`, `30m`, `1d`. */
  timeout?: string;
  on_timeout: 'escalate' | 'reject' | 'approve';
  /** Step to re-open on rejection (it and every step after it get a new attempt). */
  on_reject?: string;
}

export interface ForbiddenPattern {
  /** JavaScript regular expression source. */
  pattern: string;
  /** Globs relative to the gate's cwd. */
  paths: string[];
  message?: string;
}

export interface TestResultSource {
  format: 'junit' | 'vitest' | 'jest' | 'auto';
  /** File the runner writes, relative to cwd. */
  path: string;
}

/** An automated gate: commands run by the engine (argument arrays, never a shell). */
export interface CommandGate {
  type: 'command';
  /** Each command is an argument array; `{{var}}` in an element becomes that element's text, never split. */
  run: string[][];
  cwd?: string;
  env: Record<string, string>;
  /** Per-command time limit, a duration such as `15m`. */
  timeout?: string;
  /** Exit codes that count as success (default [0]). */
  exit_codes: number[];
  results: TestResultSource[];
  /** Minimum pass rate in percent (0-100), read from `results`. */
  min_pass_rate?: number;
  allow_skipped: boolean;
  forbid: ForbiddenPattern[];
  max_attempts: number;
  /** Step to re-open when the gate fails (with every step after it). */
  on_fail?: string;
  /** Vars whose value may start with `-` at the start of an argument (formula/argv.ts optionInjections). */
  allow_option_vars?: string[];
}

/** Becomes ready after a duration has passed since the step became ready. */
export interface TimerGate {
  type: 'timer';
  timeout: string;
}

/** Waits until another molecule reaches a state ("Day 4 is blocked until Day 3 passes"). */
export interface MoleculeGate {
  type: 'molecule';
  molecule: string;
  state: 'completed';
}

/** Gate types of other dialects (beads' gh:run, gh:pr, mail, bead): kept, reported, not executed. */
export interface ExternalGate {
  type: string;
  raw: Record<string, unknown>;
}

export type Gate = HumanGate | CommandGate | TimerGate | MoleculeGate | ExternalGate;

/** A loop that cannot be unrolled at cook time: the engine re-opens the body until `until` holds. */
export interface RuntimeLoop {
  until: string;
  max: number;
  /** Step ids of the loop body, in order. */
  body: string[];
}

/** Spawn one molecule per item of a list found in the step's output (`bond`). */
export interface OnComplete {
  for_each: string;
  bond: string;
  vars: Record<string, string>;
  parallel?: boolean;
}

export interface ResolvedStep {
  id: string;
  title: string;
  description: string;
  /** Every dependency (needs + depends_on + rewiring by expansions), de-duplicated, file order. */
  needs: string[];
  acceptance?: string;
  /** Assignee template; `{{var}}` resolved at pour time. */
  assignee?: string;
  type?: string;
  priority?: number;
  labels: string[];
  metadata?: Record<string, unknown>;
  notes?: string;
  /** A runtime condition the engine evaluates; false makes the step `skipped`. */
  condition?: string;
  gate?: Gate;
  waits_for?: string;
  loop?: RuntimeLoop;
  on_complete?: OnComplete;
  parallel?: boolean;
  interactive?: boolean;
  /** Set on steps made from convoy legs and the synthesis. */
  convoy_role?: 'leg' | 'synthesis';
  /** Unknown keys, kept verbatim. */
  extra: Record<string, unknown>;
}

export interface Leg {
  id: string;
  title: string;
  description: string;
  focus?: string;
  extra: Record<string, unknown>;
}

export interface Synthesis {
  id: string;
  title: string;
  description: string;
  depends_on: string[];
  extra: Record<string, unknown>;
}

export interface InputDef {
  name: string;
  description?: string;
  type?: string;
  required: boolean;
  required_unless: string[];
  default?: unknown;
}

export interface Preset {
  name: string;
  description?: string;
  legs: string[];
}

export interface ResolvedFormula {
  formula: string;
  description: string;
  type: FormulaType;
  version?: string | number;
  /** File it was read from. */
  source: string;
  /** sha256 of the canonical JSON of this resolved formula (without `hash` and `warnings`). */
  hash: string;
  vars: Record<string, VarDef>;
  /**
   * What runs, in stable topological order. For a convoy: one step per selected leg and a
   * synthesis step that needs them. For an expansion poured on its own: the template with
   * target `main`.
   */
  steps: ResolvedStep[];
  legs: Leg[];
  synthesis?: Synthesis;
  inputs: Record<string, InputDef>;
  presets: Record<string, Preset>;
  prompts: Record<string, string>;
  output?: Record<string, unknown>;
  squash?: Record<string, unknown>;
  pour?: boolean;
  phase?: string;
  agent?: string;
  review_only?: boolean;
  warnings: Diagnostic[];
  /** Unknown top-level keys, kept verbatim. */
  extra: Record<string, unknown>;
  /**
   * What resolution consumed (`extends`, `compose`, `advice`, `pointcuts`, `template`, `aspects`),
   * verbatim as the file wrote it, so nothing a formula said is lost.
   */
  definition?: Record<string, unknown>;
}
