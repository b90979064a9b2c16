// The engine's own escalations come from the plan's blocks as data, not from the words of its
// blocked reason: rewording the reason changes nothing that is raised.
import { beforeAll, describe, expect, it } from 'vitest';
import { fold } from '../../src/engine/fold.js';
import { eventPathOf, renderEvent } from '../../src/engine/io.js';
import { planMolecule } from '../../src/engine/plan.js';
import { loadGatePlugins } from '../../src/engine/plugins.js';
import type { PlanEnv } from '../../src/engine/types.js';
import { escalationSettings } from '../../src/escalation/model.js';
import { planAutoEscalations } from '../../src/escalation/plan.js';
import type { CommandGate } from '../../src/formula/model.js';
import { gateReportPath, renderGateReport } from '../../src/gates/report.js';
import { defaultConfig } from '../../src/store/config.js';
import { stringifyToml } from '../../src/store/toml.js';
import { formula, step } from '../engine/formulas.js';

const config = defaultConfig();
const env: PlanEnv = { config, now: new Date('2026-01-06T09:00:00Z'), moleculeStatus: () => undefined };
const settings = escalationSettings(config);

const gate: CommandGate = {
  type: 'command',
  run: [['false']],
  env: {},
  exit_codes: [0],
  results: [],
  allow_skipped: false,
  forbid: [],
  max_attempts: 1,
};

describe('escalations the engine raises by itself', () => {
  beforeAll(() => loadGatePlugins());

  it('a command gate at max_attempts escalates from the plan, whatever its blocked reason says', () => {
    const f = formula('gated', [step('check', [], { gate })]);
    const files = new Map<string, string>([
      ['molecule.toml', stringifyToml({ id: 'g1', formula: f.formula, formula_hash: f.hash, vars: {} })],
      ['formula.resolved.toml', stringifyToml(f as unknown as Record<string, unknown>)],
      [
        gateReportPath('check', 1),
        renderGateReport(
          {
            step: 'check',
            attempt: 1,
            verdict: 'fail',
            reasons: ['command 1 `false` exited 1'],
            commands: [],
            results: [],
            allow_skipped: false,
            forbidden: [],
            errors: [],
          },
          'g1',
        ),
      ],
    ]);
    const ready = { step: 'check', attempt: 1, kind: 'ready', extra: {} };
    files.set(eventPathOf(ready), renderEvent(ready));
    const plan = planMolecule(fold('g1', 'x', files), f, env);
    expect(plan.status).toBe('blocked');
    expect(plan.blockedReason).toContain('max_attempts 1');

    // People read the reason; the escalation planner is given only the plan's data.
    const raised = planAutoEscalations([{ molecule: 'g1', blocks: plan.blocks ?? [] }], settings);
    expect(raised).toEqual([
      {
        id: 'g1.check.gate-exhausted-1',
        severity: settings.gateSeverity,
        what: 'gate check of g1 failed 1 times (max_attempts 1)',
        source: 'gate',
        molecule: 'g1',
        step: 'check',
      },
    ]);
  });

  it('an overdue checkpoint of a later attempt escalates once, under the step it belongs to', () => {
    const raised = planAutoEscalations(
      [
        {
          molecule: 'g1',
          blocks: [
            { kind: 'checkpoint-overdue', step: 'signoff', checkpoint: 'signoff.attempt-2', timeout: '1h' },
          ],
        },
      ],
      settings,
    );
    expect(raised).toEqual([
      {
        id: 'g1.signoff.attempt-2.checkpoint-overdue',
        severity: settings.checkpointSeverity,
        what: 'checkpoint signoff.attempt-2 of g1 had no decision within 1h',
        source: 'checkpoint',
        molecule: 'g1',
        step: 'signoff',
      },
    ]);
  });
});
