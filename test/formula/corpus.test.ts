// The real corpus (52 files from Gas Town and beads) through the real CLI and the library API.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFormula, readySteps, resolveFormula } from '../../src/formula/index.js';
import { gastown, tempDir } from '../helpers/repo.js';
import { CORPUS_DIRS, corpusLibrary } from './helpers.js';

const corpusFiles = CORPUS_DIRS.flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith('.formula.toml'))
    .map((f) => join(d, f)),
);
const outside = tempDir();
afterAll(() => outside.cleanup());

describe('the corpus', () => {
  it('has the 52 files the tests expect', () => {
    expect(corpusFiles).toHaveLength(52);
  });

  it('validates every file with exit 0 through the CLI, in one process', async () => {
    const r = await gastown(['formula', 'validate', '--json', ...corpusFiles], outside.path, {
      GASTOWN_FORMULA_PATH: CORPUS_DIRS.join(':'),
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const results = JSON.parse(r.stdout) as { file: string; valid: boolean; errors: unknown[] }[];
    expect(results).toHaveLength(52);
    expect(results.filter((x) => !x.valid)).toEqual([]);
  });

  it('resolves towers-of-hanoi-10 to 1025 steps in a single chain', () => {
    const { formula } = resolveFormula('towers-of-hanoi-10', corpusLibrary());
    expect(formula?.steps).toHaveLength(1025);
    expect(formula?.steps[0]?.id).toBe('setup');
    expect(formula?.steps.at(-1)?.id).toBe('verify');
    expect(readySteps(formula!.steps, new Set(['setup', 'move-1']))).toEqual(['move-2']);
  });

  it('expands shiny-enterprise: implement becomes rule-of-five, review waits for the last pass', () => {
    const { formula } = resolveFormula('shiny-enterprise', corpusLibrary());
    const ids = formula!.steps.map((s) => s.id);
    expect(ids).toEqual([
      'design',
      'implement.draft',
      'implement.refine-1',
      'implement.refine-2',
      'implement.refine-3',
      'implement.refine-4',
      'review',
      'test',
      'submit',
    ]);
    const step = (id: string) => formula!.steps.find((s) => s.id === id)!;
    expect(step('review').needs).toEqual(['implement.refine-4']);
    expect(step('implement.draft').needs).toEqual(['design']);
    expect(step('implement.draft').title).toBe('Draft: Implement {{feature}}');
    expect(formula!.description).toMatch(/^Enterprise-grade/);
    expect(formula!.formula).toBe('shiny-enterprise');
  });

  it('wraps shiny-secure: security-audit scans around implement and submit', () => {
    const { formula } = resolveFormula('shiny-secure', corpusLibrary());
    const needs = Object.fromEntries(formula!.steps.map((s) => [s.id, s.needs]));
    expect(formula!.steps).toHaveLength(9);
    expect(needs).toMatchObject({
      'implement-security-prescan': ['design'],
      implement: ['implement-security-prescan'],
      'implement-security-postscan': ['implement'],
      review: ['implement-security-postscan'],
      'submit-security-prescan': ['test'],
      submit: ['submit-security-prescan'],
      'submit-security-postscan': ['submit'],
    });
    expect(formula!.steps.find((s) => s.id === 'submit-security-postscan')!.title).toBe(
      'Security postscan for submit',
    );
  });

  it('composes mol-polecat-work-monorepo-tdd to 14 steps', () => {
    const { formula } = resolveFormula('mol-polecat-work-monorepo-tdd', corpusLibrary());
    expect(formula!.steps).toHaveLength(14);
    expect(formula!.steps.find((s) => s.id === 'self-review')!.needs).toEqual(['implement.refactor']);
    expect(formula!.steps.find((s) => s.id === 'implement.write-tests')!.needs).toEqual(['branch-setup']);
  });

  it('runs code-review as 10 parallel legs and a synthesis; --preset gate selects 4', async () => {
    const all = resolveFormula('code-review', corpusLibrary()).formula!;
    expect(all.legs).toHaveLength(10);
    expect(all.steps.filter((s) => s.convoy_role === 'leg' && s.parallel)).toHaveLength(10);
    const gate = loadFormula('code-review', corpusLibrary(), { preset: 'gate' }).formula!;
    expect(gate.legs.map((l) => l.id).sort()).toEqual(['security', 'smells', 'test-quality', 'wiring']);
    expect(gate.steps.find((s) => s.convoy_role === 'synthesis')!.needs.sort()).toEqual([
      'security',
      'smells',
      'test-quality',
      'wiring',
    ]);

    const r = await gastown(
      ['formula', 'show', join(CORPUS_DIRS[0]!, 'code-review.formula.toml'), '--preset', 'gate', '--json'],
      outside.path,
    );
    expect(r.exitCode).toBe(0);
    const shown = JSON.parse(r.stdout);
    expect(shown.legs).toHaveLength(4);
    expect(shown.synthesis.depends_on).toHaveLength(4);
    // Go templates in prompts and output are Gas Town's, never substituted by us.
    expect(shown.output.leg_pattern).toBe('{{.leg.id}}-findings.md');
    expect(shown.prompts.base).toContain('{{range .changed_files -}}');
  });

  it('warns, not fails, about a var that is both required and defaulted, and about gates it does not execute', () => {
    const digest = resolveFormula('mol-digest-generate', corpusLibrary());
    expect(digest.formula).toBeDefined();
    expect(digest.diagnostics.map((d) => d.code)).toContain('formula.var-required-default');
    const dance = resolveFormula('mol-shutdown-dance', corpusLibrary());
    const gateWarnings = dance.diagnostics.filter((d) => d.code === 'formula.gate-not-executed');
    expect(gateWarnings).toHaveLength(4);
    expect(gateWarnings[0]).toMatchObject({ path: 'steps[3].gate.type', line: 235 });
    expect(dance.formula!.steps.find((s) => s.id === 'interrogation-2')!.gate).toEqual({
      type: 'conditional',
      raw: { type: 'conditional', condition: 'no_response_1' },
    });
  });

  it('flattens beads children: the parent completes after them', () => {
    const boot = resolveFormula('mol-gastown-boot', corpusLibrary()).formula!;
    const witnesses = boot.steps.find((s) => s.id === 'ensure-witnesses')!;
    expect(witnesses.needs).toEqual(['ensure-deacon', 'ensure-gastown-witness', 'ensure-beads-witness']);
    expect(boot.steps.find((s) => s.id === 'ensure-gastown-witness')!.needs).toEqual(['ensure-deacon']);
    const ids = boot.steps.map((s) => s.id);
    expect(ids.indexOf('ensure-gastown-witness')).toBeLessThan(ids.indexOf('ensure-witnesses'));
  });
});
