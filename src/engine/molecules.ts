// The molecule verbs people and agents start, one module per concern; importers name this one.
export type { CreateMoleculeOptions, CreateMoleculeResult } from './molecule-create.js';
export { createMolecule, createMoleculeLocked, renderFrozenFormula } from './molecule-create.js';
export type { CancelResult } from './molecule-end.js';
export { burnMolecule, cancelMolecule, squashMolecule } from './molecule-end.js';
export { loadMolecule } from './molecule-load.js';
export type { MoleculeListEntry, StatusJson, StepStatusJson } from './molecule-status.js';
export { listMolecules, moleculeStatus, statusOf, verdictProblems } from './molecule-status.js';
export type { RecordStepOptions, StepAction } from './molecule-steps.js';
export { recordStep, recordStepLocked, stepActionEffects, stepActor, waitingOn } from './molecule-steps.js';
export { reconcileWaiting, waitsFor } from './molecule-waiting.js';
export { stateProblems } from './reconcile.js';
