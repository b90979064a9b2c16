// Prototype molecules: one molecule per formula driven through its life by the engine itself
// (createMolecule, recordStep, advance, bundled from src/), in a scratch repository with real
// commits, so approvals are judged from git authorship as in any repository. After each stage the
// molecule's folder is snapshotted. The generators copy these snapshots under other ids, putting
// each molecule's own values where the placeholders were: every generated file is a file the
// engine wrote.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { importBundled } from '../lib.mjs';
import { git, identity } from './git.mjs';

const ROOT = resolve(import.meta.dirname, '../..');

/** Placeholders the prototypes are made with; none is a substring of anything else they hold. */
export const PLACEHOLDER = { issue: 'QQISSUE', agent: 'qqagent' };

/** The formulas molecules are poured from: the built-in ones, copied into the repository. */
export const FORMULAS = ['polecat-work', 'shiny', 'integration-test-full-validation'];

export const REVIEWER = { handle: 'reviewer', name: 'Bench Reviewer', email: 'reviewer@example.com' };
export const ENGINE_ID = { name: 'gastown', email: 'gastown@localhost' };
export const agentEmail = (agent) => `${agent}@agents.example.com`;

/** Vars of the integration formula: its test gate runs a node script the repository holds. */
const IT_VARS = { test_command: 'node', test_target: 'tools/integration-tests.cjs' };
const IT_RUNNER = `// Stands in for a project's integration suite: copies the prepared results into place.
require('node:fs').copyFileSync('next-results.xml', 'test-results.xml');
`;
const junit = (failures) =>
  `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="12" failures="${failures}">
  <testsuite name="integration" tests="12" failures="${failures}" skipped="0">
${Array.from({ length: 12 }, (_, i) =>
  i < failures
    ? `    <testcase classname="api" name="case ${i}"><failure message="expected 200, got 500">at api_test.go:${40 + i}</failure></testcase>`
    : `    <testcase classname="api" name="case ${i}"/>`,
).join('\n')}
  </testsuite>
</testsuites>
`;
const output = (what) =>
  `---\nconfidence: high\n---\n# ${what} for ${PLACEHOLDER.issue}\n\n- what was found, in a few lines\n- what is proposed, and why\n- open questions: none blocking\n`;

/**
 * The bundled engine (and the formula hash and TOML reader the generators need). One bundle, so
 * one copy of the engine's module state and its gate plugins. Built inside the package (the
 * engine finds its built-in formulas from where its code lives), under a name of this process's
 * own, and removed once loaded.
 */
export async function loadEngine() {
  const dir = join(ROOT, '.bench-cache');
  mkdirSync(dir, { recursive: true });
  const name = `gen-engine-${process.pid}`;
  const file = join(dir, `${name}.mjs`);
  try {
    const mod = await importBundled(join(import.meta.dirname, 'engine-entry.mjs'), dir, name);
    // The bundle's bytes say which engine made the prototypes (their cache key).
    const bundleHash = createHash('sha256').update(readFileSync(file)).digest('hex');
    return { ...mod, bundleHash };
  } finally {
    rmSync(file, { force: true });
  }
}

/** The `.beads/formulas/` files every generated repository carries. */
export function formulaFiles() {
  return FORMULAS.map((f) => [
    `.beads/formulas/${f}.formula.toml`,
    readFileSync(join(ROOT, 'formulas', `${f}.formula.toml`), 'utf8'),
  ]);
}

/** Every file under `dir`, as [path relative to dir, text], sorted by path. */
export function readTree(dir, prefix = '') {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...readTree(join(dir, e.name), rel));
    else out.push([rel, readFileSync(join(dir, e.name), 'utf8')]);
  }
  return out;
}

/**
 * Builds every prototype in `work` (a scratch folder) and returns
 * `{ stages: [{ name, formula, id, files: [[rel, text]] }] }`, in a fixed order.
 */
export async function buildPrototypes(engine, work) {
  // The engine runs git in this process: keep the machine's git config out of it.
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  process.env.GIT_CONFIG_GLOBAL = '/dev/null';
  const repo = join(work, 'prototypes');
  mkdirSync(join(repo, '.beads/formulas'), { recursive: true });
  mkdirSync(join(repo, 'tools'), { recursive: true });
  git(repo, ['init', '-q', '-b', 'main']);
  for (const [rel, text] of formulaFiles()) writeFileSync(join(repo, rel), text);
  writeFileSync(
    join(repo, '.beads/config.toml'),
    `[users.${REVIEWER.handle}]\nname = "${REVIEWER.name}"\nemails = ["${REVIEWER.email}"]\n\n[teams]\nleads = ["@${REVIEWER.handle}"]\n`,
  );
  writeFileSync(join(repo, 'tools/integration-tests.cjs'), IT_RUNNER);
  writeFileSync(join(repo, 'output.md'), '');

  // A fixed clock: each action one minute after the last, commits dated with it, so the
  // deadline of every checkpoint is hours away whenever the engine looks. Only decisions are
  // committed (by the reviewer, with everything before them): who approved is read from git;
  // nothing else the engine does depends on commits.
  let minute = 0;
  const now = () => new Date(Date.UTC(2026, 0, 5, 9, minute));
  const tick = () => {
    minute++;
    return now();
  };
  const commit = (who, message) => {
    const at = tick().toISOString();
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '--allow-empty', '-m', message], { env: identity(who.name, who.email, at) });
  };
  const reviewer = REVIEWER;
  commit(reviewer, 'formulas');

  const stages = [];
  const snap = (name, formula, id) => {
    stages.push({ name, formula, id, files: readTree(join(repo, '.beads/molecules', id)) });
  };
  const step = async (id, name, action, as, extra = {}) => {
    await engine.recordStep(repo, id, name, action, { as, now: tick(), ...extra });
  };
  const work_ = async (id, name, as = PLACEHOLDER.agent, out) => {
    await step(id, name, 'start', as);
    if (out) writeFileSync(join(repo, 'output.md'), output(out));
    await step(id, name, 'done', as, out ? { output: 'output.md' } : {});
  };
  const decide = async (id, checkpoint, decision, reason) => {
    const file = join(repo, '.beads/molecules', id, 'checkpoints', `${checkpoint}.md`);
    let text = readFileSync(file, 'utf8').replace(/^decision: pending/m, `decision: ${decision}`);
    if (reason) text = text.replace(/^reason: ""/m, `reason: ${JSON.stringify(reason)}`);
    writeFileSync(file, text);
    commit(reviewer, `${id}: ${checkpoint} ${decision}`);
    const r = await engine.advance({ root: repo, now: tick(), molecules: [id] });
    if (r.problems.length > 0) throw new Error(`prototype ${id}: ${r.problems[0].message}`);
  };
  const create = async (id, formula, vars, assignee) => {
    await engine.createMolecule(repo, {
      formula,
      name: id,
      vars,
      now: tick(),
      ...(assignee ? { assignee } : {}),
    });
  };

  // polecat-work, the straight path: implement, done, reviewed, merged.
  const pw = 'polecat-work';
  await create('qqpa', pw, { issue: PLACEHOLDER.issue, polecat: PLACEHOLDER.agent });
  snap('pw.implement-ready', pw, 'qqpa');
  await step('qqpa', 'implement', 'start', PLACEHOLDER.agent);
  snap('pw.implement-started', pw, 'qqpa');
  await step('qqpa', 'implement', 'done', PLACEHOLDER.agent);
  snap('pw.done-ready', pw, 'qqpa');
  await work_('qqpa', 'done');
  snap('pw.review-pending', pw, 'qqpa');
  await decide('qqpa', 'review', 'approved');
  snap('pw.merge-ready', pw, 'qqpa');
  await work_('qqpa', 'merge', 'refinery');
  snap('pw.completed', pw, 'qqpa');

  // polecat-work, sent back by the reviewer: implement re-opened, then under review again.
  await create('qqpb', pw, { issue: PLACEHOLDER.issue, polecat: PLACEHOLDER.agent });
  await work_('qqpb', 'implement');
  await work_('qqpb', 'done');
  await decide('qqpb', 'review', 'rejected', 'the error path has no test');
  snap('pw.rework', pw, 'qqpb');
  await work_('qqpb', 'implement');
  await work_('qqpb', 'done');
  snap('pw.review-pending-2', pw, 'qqpb');

  // shiny: five plain steps, the molecule's assignee doing all but the review.
  const sh = 'shiny';
  await create('qqsh', sh, { feature: PLACEHOLDER.issue }, PLACEHOLDER.agent);
  snap('sh.design-ready', sh, 'qqsh');
  await step('qqsh', 'design', 'start', PLACEHOLDER.agent);
  snap('sh.design-started', sh, 'qqsh');
  await step('qqsh', 'design', 'done', PLACEHOLDER.agent);
  await work_('qqsh', 'implement');
  snap('sh.review-ready', sh, 'qqsh');
  await work_('qqsh', 'review', 'reviewer');
  snap('sh.test-ready', sh, 'qqsh');
  await work_('qqsh', 'test');
  snap('sh.submit-ready', sh, 'qqsh');
  await work_('qqsh', 'submit');
  snap('sh.completed', sh, 'qqsh');

  // integration-test-full-validation: four human checkpoints and a command gate that fails once.
  const it = 'integration-test-full-validation';
  await create('qqit', it, IT_VARS, PLACEHOLDER.agent);
  await step('qqit', 'analysis', 'start', PLACEHOLDER.agent);
  snap('it.analysis-started', it, 'qqit');
  await step('qqit', 'analysis', 'done', PLACEHOLDER.agent, { output: writeOutput(repo, 'Analysis') });
  snap('it.analysis-checkpoint', it, 'qqit');
  await decide('qqit', 'analysis-checkpoint', 'approved');
  snap('it.plan-ready', it, 'qqit');
  await work_('qqit', 'plan', PLACEHOLDER.agent, 'Plan');
  snap('it.plan-checkpoint', it, 'qqit');
  await decide('qqit', 'plan-checkpoint', 'approved');
  await work_('qqit', 'do-infrastructure');
  await step('qqit', 'do-red', 'start', PLACEHOLDER.agent);
  snap('it.do-red-started', it, 'qqit');
  await step('qqit', 'do-red', 'done', PLACEHOLDER.agent);
  await work_('qqit', 'do-green');
  writeFileSync(join(repo, 'next-results.xml'), junit(2));
  await work_('qqit', 'do-refactor'); // the gate runs here and fails: do-refactor is re-opened
  snap('it.refactor-after-fail', it, 'qqit');
  writeFileSync(join(repo, 'next-results.xml'), junit(0));
  await work_('qqit', 'do-refactor'); // passes: its checkpoint is requested
  snap('it.test-validation-checkpoint', it, 'qqit');
  await decide('qqit', 'test-validation-checkpoint', 'approved');
  await work_('qqit', 'compliance-triage', PLACEHOLDER.agent, 'Compliance report');
  snap('it.compliance-checkpoint', it, 'qqit');
  await decide('qqit', 'compliance-checkpoint', 'approved');
  snap('it.documentation-ready', it, 'qqit');
  await work_('qqit', 'documentation');
  snap('it.completed', it, 'qqit');

  const expect = {
    'pw.completed': 'completed',
    'sh.completed': 'completed',
    'it.completed': 'completed',
    'it.refactor-after-fail': 'do-refactor.2.ready',
    'it.test-validation-checkpoint': 'test-validation.2.done',
  };
  for (const [name, what] of Object.entries(expect)) {
    const s = stages.find((x) => x.name === name);
    const names = s.files.map(([rel]) => rel).join('\n');
    const ok = what === 'completed' ? names.includes('events/molecule.completed.toml') : names.includes(what);
    if (!ok) throw new Error(`prototype stage ${name} did not reach ${what}:\n${names}`);
  }
  return { stages };
}

function writeOutput(repo, what) {
  writeFileSync(join(repo, 'output.md'), output(what));
  return 'output.md';
}
