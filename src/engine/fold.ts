// fold: the files of one molecule folder → its state. Pure: no disk, no clock. Invalid files
// become errors naming the file and field; contradicting facts become conflicts.
import { isGastownError } from '../errors.js';
import type { ResolvedFormula } from '../formula/model.js';
import { checkDigest, checkEvent, checkFrozenFormula, checkMoleculeMeta } from '../store/check.js';
import { DIGEST_FILE, EVENTS, FORMULA_FILE, MOLECULE_FILE, parseEventName } from '../store/layout.js';
import { hasConflictMarkers, parseFlatToml, parseToml } from '../store/toml.js';
import type { EventFact } from '../store/types.js';
import type { FileProblem, MoleculeState, StepState, StepStatus } from './types.js';

const TERMINAL = ['done', 'failed', 'skipped'] as const;

export interface FoldOptions {
  /** Parses the frozen formula; lets callers memoise by content (many molecules share one). */
  parseFormula?: (text: string, file: string) => ResolvedFormula;
  /**
   * Event files whose names are taken as the fact without reading them (settled history, see
   * reconcile.ts `settledFactPaths`): `files.get` is never called for these, so a lazily filled
   * map need not read them.
   */
  trusted?: ReadonlySet<string>;
}

export function parseFrozenFormula(text: string, file: string): ResolvedFormula {
  return checkFrozenFormula(parseToml(text, file), file);
}

export function fold(
  id: string,
  dir: string,
  files: ReadonlyMap<string, string>,
  options: FoldOptions = {},
): MoleculeState {
  const state: MoleculeState = {
    id,
    dir,
    steps: [],
    stepById: new Map(),
    facts: {},
    files,
    conflicts: [],
    errors: [],
  };
  const rel = (p: string) => `${dir}/${p}`;
  const problem = (list: FileProblem[], file: string, message: string, path?: string) =>
    list.push(path ? { file: rel(file), path, message } : { file: rel(file), message });
  const guard = <T>(file: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!isGastownError(err)) throw err;
      problem(state.errors, file, err.message, err.location.path);
      return undefined;
    }
  };

  const trusted = options.trusted;
  // Keys, then get: a lazily filled map reads only the files that are looked at.
  for (const path of files.keys()) {
    if (trusted?.has(path)) continue;
    if (hasConflictMarkers(files.get(path) as string))
      problem(state.conflicts, path, 'unresolved merge: the file has git conflict markers');
  }
  const conflicted = new Set(state.conflicts.map((c) => c.file));
  const usable = (path: string) => files.has(path) && !conflicted.has(rel(path));

  const metaText = files.get(MOLECULE_FILE);
  if (metaText === undefined) problem(state.errors, MOLECULE_FILE, 'missing molecule.toml');
  else if (usable(MOLECULE_FILE)) {
    const meta = guard(MOLECULE_FILE, () =>
      checkMoleculeMeta(parseToml(metaText, rel(MOLECULE_FILE)), rel(MOLECULE_FILE)),
    );
    if (meta) {
      state.meta = meta;
      if (meta.id !== id)
        problem(
          state.errors,
          MOLECULE_FILE,
          `\`id\` is ${JSON.stringify(meta.id)} but the folder is ${JSON.stringify(id)}`,
          'id',
        );
    }
  }
  const formulaText = files.get(FORMULA_FILE);
  if (formulaText === undefined) problem(state.errors, FORMULA_FILE, 'missing formula.resolved.toml');
  else if (usable(FORMULA_FILE)) {
    state.formula = guard(FORMULA_FILE, () =>
      (options.parseFormula ?? parseFrozenFormula)(formulaText, rel(FORMULA_FILE)),
    );
  }
  const digestText = files.get(DIGEST_FILE);
  if (digestText !== undefined && usable(DIGEST_FILE)) {
    state.digest = guard(DIGEST_FILE, () =>
      checkDigest(parseToml(digestText, rel(DIGEST_FILE)), rel(DIGEST_FILE)),
    );
  }
  const formula = state.formula;
  if (!formula) return state;

  // Facts per step, per attempt, per kind.
  const byStep = new Map<string, Map<number, Map<string, { fact: EventFact; file: string }>>>();
  for (const step of formula.steps) byStep.set(step.id, new Map());
  for (const path of files.keys()) {
    if (!path.startsWith(`${EVENTS}/`) || !usable(path)) continue;
    const name = path.slice(EVENTS.length + 1);
    const parsed = parseEventName(name);
    if (!parsed) {
      problem(
        state.errors,
        path,
        'not an event file name (expected <step>.<attempt>.<kind>.toml or molecule.<kind>.toml)',
      );
      continue;
    }
    if (parsed.scope === 'molecule') {
      const fact = guard(path, () =>
        checkEvent(parseFlatToml(files.get(path) as string, rel(path)), rel(path), { kind: parsed.kind }),
      );
      if (fact) state.facts[parsed.kind] = fact;
      continue;
    }
    const attempts = byStep.get(parsed.step);
    if (!attempts) {
      problem(
        state.errors,
        path,
        `event for unknown step ${JSON.stringify(parsed.step)} (not in formula ${formula.formula})`,
        'step',
      );
      continue;
    }
    const fact = trusted?.has(path)
      ? { step: parsed.step, attempt: parsed.attempt, kind: parsed.kind, extra: {} }
      : guard(path, () => checkEvent(parseFlatToml(files.get(path) as string, rel(path)), rel(path), parsed));
    if (!fact) continue;
    let kinds = attempts.get(parsed.attempt);
    if (!kinds) attempts.set(parsed.attempt, (kinds = new Map()));
    kinds.set(parsed.kind, { fact, file: path });
  }

  const fromDigest = new Map(state.digest?.steps.map((s) => [s.id, s]) ?? []);
  for (const step of formula.steps) {
    const attempts = byStep.get(step.id) ?? new Map();
    const digested = fromDigest.get(step.id);
    let attempt = 1;
    for (const a of attempts.keys()) attempt = Math.max(attempt, a);
    const current = attempts.get(attempt) ?? new Map<string, { fact: EventFact; file: string }>();
    const facts: Record<string, EventFact> = {};
    for (const [kind, { fact }] of current) facts[kind] = fact;
    const history: StepState['history'] = {};
    for (const [a, kinds] of attempts) {
      if (a === attempt) continue;
      history[a] = Object.fromEntries([...kinds].map(([k, v]) => [k, v.fact]));
    }
    const terminal = TERMINAL.filter((k) => current.has(k));
    if (terminal.length > 1) {
      for (const k of terminal) {
        const f = current.get(k);
        if (f)
          problem(
            state.conflicts,
            f.file,
            `step ${step.id} attempt ${attempt} is recorded as ${terminal.join(' and ')}`,
          );
      }
    }
    let status: StepStatus = 'pending';
    if (terminal.length > 0) status = terminal[0] as StepStatus;
    else if (current.has('started')) status = 'in_progress';
    else if (current.has('ready')) status = 'ready';
    const s: StepState = { id: step.id, attempt, status, facts, history };
    if (digested && attempts.size === 0) {
      s.attempt = digested.attempt;
      s.status = digested.state;
      if (digested.by ?? digested.assignee) s.assignee = (digested.by ?? digested.assignee) as string;
    } else {
      const who = facts.started?.by ?? facts.done?.by ?? facts.failed?.by ?? facts.ready?.assignee;
      if (who !== undefined) s.assignee = who;
    }
    state.steps.push(s);
    state.stepById.set(step.id, s);
  }
  if (state.digest) {
    for (const d of state.digest.steps) {
      if (!state.stepById.has(d.id))
        problem(state.errors, DIGEST_FILE, `digest names unknown step ${JSON.stringify(d.id)}`, 'steps');
    }
  }
  return state;
}
