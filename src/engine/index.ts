// The molecule engine's public API (docs/state.md). Used by the CLI, hooks, the watcher and the demo.
export type { AdvanceOptions, AdvanceResult } from './advance.js';
export { advance, advanceLocked } from './advance.js';
export type { ApplyContext, ApplyOutcome, Problem } from './apply.js';
export { applyEffects } from './apply.js';
export { fold, frozenFormulaHash, parseFrozenFormula } from './fold.js';
export type {
  ConditionEvaluator,
  GatePlan,
  GatePlanContext,
  GatePlanner,
  GateRunner,
  MoleculePlanContext,
  MoleculePlanner,
  RunContext,
} from './gates.js';
export {
  registerConditionEvaluator,
  registerGatePlanner,
  registerGateRunner,
  registerMoleculePlanner,
} from './gates.js';
export { eventPathOf, isMoleculeCompleted, listMoleculeIds, readMoleculeFiles, renderEvent } from './io.js';
export type {
  CancelResult,
  CreateMoleculeOptions,
  CreateMoleculeResult,
  MoleculeListEntry,
  RecordStepOptions,
  StatusJson,
  StepAction,
  StepStatusJson,
} from './molecules.js';
export {
  burnMolecule,
  cancelMolecule,
  createMolecule,
  createMoleculeLocked,
  listMolecules,
  loadMolecule,
  moleculeStatus,
  reconcileWaiting,
  recordStep,
  squashMolecule,
  statusOf,
  stepActor,
  waitingOn,
  waitsFor,
} from './molecules.js';
export {
  dependentsOf,
  evaluateCondition,
  plan,
  planMolecule,
  reopenEffects,
  stepAssignee,
  stepTransition,
} from './plan.js';
export { foldFiles, reconcileMolecule } from './reconcile.js';
export { MOVABLE } from './summaries.js';
export type { Trailer } from './trailers.js';
export { parseTrailers } from './trailers.js';
export type {
  Effect,
  FileProblem,
  MoleculeState,
  MoleculeStatus,
  PlanEnv,
  PlanResult,
  RunEffect,
  StepState,
  StepStatus,
  Transition,
  TransitionEffect,
  WriteEffect,
} from './types.js';
export type { MoleculeLook } from './views.js';
export { lookAtMolecules } from './views.js';
