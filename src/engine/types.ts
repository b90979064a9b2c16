// What the engine folds files into, and what the planner asks the applier to do.
import type { ResolvedFormula } from '../formula/model.js';
import type { Digest, EventFact, GastownConfig, MoleculeMeta } from '../store/types.js';

export type StepStatus = 'pending' | 'ready' | 'in_progress' | 'done' | 'failed' | 'skipped';
export type MoleculeStatus =
  | 'active'
  | 'blocked'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'conflict'
  | 'invalid';

export interface StepState {
  id: string;
  /** Current attempt (1 unless re-opened). */
  attempt: number;
  status: StepStatus;
  /** Who works on it: the claimant (`started.by`), else the assignee recorded when it became ready. */
  assignee?: string;
  /** Facts of the current attempt, by kind (`ready`, `started`, `done`, … and gate kinds). */
  facts: Record<string, EventFact>;
  /** Facts of earlier attempts, by attempt then kind (re-open history). */
  history: Record<number, Record<string, EventFact>>;
}

/** A file that could not be read as state: the file (relative to the repo root), field and why. */
export interface FileProblem {
  file: string;
  path?: string;
  message: string;
}

export interface MoleculeState {
  id: string;
  /** Repo-relative folder, e.g. `.beads/molecules/m1`. */
  dir: string;
  meta?: MoleculeMeta;
  formula?: ResolvedFormula;
  /** Step states in formula (topological) order. */
  steps: StepState[];
  stepById: Map<string, StepState>;
  /** Molecule-level facts by kind (`completed`, `cancelled`). */
  facts: Record<string, EventFact>;
  digest?: Digest;
  /** Every file of the folder by path relative to it (checkpoints/, reports/, outputs/ for gate planners). */
  files: ReadonlyMap<string, string>;
  /** Facts that contradict each other or files with conflict markers. Never resolved silently. */
  conflicts: FileProblem[];
  /** Files that are not valid state (hand-corrupted, unknown step, …). */
  errors: FileProblem[];
}

export interface Transition {
  molecule: string;
  step?: string;
  attempt?: number;
  kind: string;
  summary: string;
}

/** Records a fact: `events/<step>.<attempt>.<kind>.toml` or `events/molecule.<kind>.toml`. */
export interface TransitionEffect {
  type: 'transition';
  molecule: string;
  fact: EventFact;
  summary: string;
}

/** Writes any other file at a deterministic path inside the molecule folder (checkpoint, report). */
export interface WriteEffect {
  type: 'write';
  molecule: string;
  /** Relative to the molecule folder. */
  path: string;
  content: string;
  /** When set, writing the file is reported as this transition. */
  transition?: Omit<Transition, 'molecule'>;
}

/**
 * Runs something (a gate's commands) while the applier holds the lock. The runner registered
 * for `gate` returns the effects that record its outcome (a report file, done/reopened facts).
 */
export interface RunEffect {
  type: 'run';
  molecule: string;
  step: string;
  attempt: number;
  gate: string;
  payload?: unknown;
  summary: string;
}

/**
 * Writes one typed message (src/mail/reconcile.ts) under `.beads/mail/`, planned with the facts
 * it is about and written before them, so a crash in between leaves the facts to be planned
 * again and the message there already (created once: a second write is a no-op).
 */
export interface MailEffect {
  type: 'mail';
  molecule: string;
  /** Repo-relative: `.beads/mail/<folder>/<id>.md`. */
  path: string;
  mailbox: string;
  folder: string;
  id: string;
  content: string;
  summary: string;
}

export type Effect = TransitionEffect | WriteEffect | RunEffect | MailEffect;

/**
 * Names one kind of fact a gate plugin gathers from outside the folder (git history) before
 * planning; `T` is the shape its gatherer returns and its planners read (engine/gates.ts).
 */
export interface FactKey<T> {
  readonly name: string;
  /** Carries `T` only; never set. */
  readonly shape?: T;
}

/** Facts gathered for one molecule before it is planned, by key. */
export type GatheredFacts = ReadonlyMap<FactKey<unknown>, unknown>;

/** What the planner knows besides one molecule's files: its whole input with the state. */
export interface PlanEnv {
  config: GastownConfig;
  now: Date;
  /** State of another molecule (for `after` and molecule gates); undefined when it does not exist. */
  moleculeStatus(id: string): MoleculeStatus | undefined;
  /** Facts from git gathered for this state before planning (none gathered: absent). */
  facts?: GatheredFacts;
}

/**
 * A block the engine escalates by itself, as data (escalation/plan.ts `planAutoEscalations`):
 * a checkpoint with no decision within its timeout (on_timeout = "escalate"), or a command gate
 * that failed max_attempts times. `blockedReason` words the same block for people.
 */
export type GateBlock =
  | { kind: 'checkpoint-overdue'; step: string; checkpoint: string; timeout: string }
  | { kind: 'gate-exhausted'; step: string; failures: number; maxAttempts: number };

export interface PlanResult {
  effects: Effect[];
  status: MoleculeStatus;
  blockedReason?: string;
  /** The blocks among `blockedReason` that the engine escalates by itself. */
  blocks?: GateBlock[];
  /**
   * The molecule is blocked only because its `after` molecule is not completed yet: a run that
   * completes that molecule plans this one again. Any other block (an escalated checkpoint, a
   * gate out of attempts) is not lifted by another molecule completing.
   */
  waitingFor?: string;
  /** Per-step notes for `status` (a gate type not executed, a condition not evaluated, why a gate waits). */
  notes: Record<string, string[]>;
  /** Plan may change by itself at this time (timers, checkpoint deadlines): ms since epoch. */
  recheckAt?: number;
  /** Plan depends on more than the folder's files (git history, trust): never cache it. */
  volatile?: boolean;
  /**
   * Facts that cannot stand (plan.ts `unbackedFacts`: the molecule is `invalid` and nothing
   * moves), or gate files that cannot be read (the molecule is blocked on them).
   */
  problems?: FileProblem[];
}
