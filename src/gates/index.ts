// The gate kinds shipped with gastown, one file each, registered with the engine's registry
// (src/engine/gates.ts) by the composition root: src/cli/main.ts installs registerBuiltInGates
// as the engine's plugin loader, so the engine never imports this folder.
import {
  registerConditionEvaluator,
  registerFactGatherer,
  registerFactPrefetch,
  registerGatePlanner,
  registerGateRunner,
  registerGateVerifier,
  registerMoleculePlanner,
} from '../engine/gates.js';
import { planOnComplete, runBond } from './bond.js';
import { planCommand, runCommand, verifyCommand } from './command.js';
import { evaluateRuntimeCondition } from './conditions.js';
import { GIT_FACTS, gatherGitFacts, prefetchHistory } from './facts.js';
import { planHuman, verifyHuman } from './human.js';
import { planLoops } from './loops.js';
import { planMoleculeWait } from './molecule.js';
import { planTimer } from './timer.js';

/** Registers every gate kind of this folder with the engine: called by the composition root. */
export function registerBuiltInGates(): void {
  registerFactGatherer(GIT_FACTS, gatherGitFacts);
  registerFactPrefetch(prefetchHistory);
  registerGatePlanner('human', planHuman);
  registerGatePlanner('command', planCommand);
  registerGatePlanner('timer', planTimer);
  registerGatePlanner('molecule', planMoleculeWait);
  registerGateVerifier('human', verifyHuman);
  registerGateVerifier('command', verifyCommand);
  registerGateRunner('command', runCommand);
  registerGateRunner('bond', runBond);
  registerMoleculePlanner('loop', planLoops);
  registerMoleculePlanner('on_complete', planOnComplete);
  registerConditionEvaluator(evaluateRuntimeCondition);
}
