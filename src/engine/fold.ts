// fold: the files of one molecule folder → its state. Pure: no disk, no clock. Invalid files
// become errors naming the file and field; contradicting facts become conflicts.
import { isGastownError } from '../errors.js';
import { formulaHash } from '../formula/hash.js';
import type { ResolvedFormula, ResolvedStep } from '../formula/model.js';
import { checkDigest, checkEvent, checkFrozenFormula, checkMoleculeMeta } from '../store/check.js';
import {
  DIGEST_FILE,
  EVENTS,
  eventNameProblem,
  FORMULA_FILE,
  MOLECULE_FILE,
  parseEventName,
} from '../store/layout.js';
import { hasConflictMarkers, parseFlatToml, parseWrittenToml } from '../store/toml.js';
import type { EventFact, MoleculeMeta } from '../store/types.js';
import type { FolderFiles } from './io.js';
import { countFold } from './trace.js';
import type { FileProblem, MoleculeState, StepState, StepStatus } from './types.js';

const TERMINAL = ['done', 'failed', 'skipped'] as const;
const EVENTS_PREFIX = `${EVENTS}/`;

/** One fact of a step as read from `events/`. */
interface Recorded {
  attempt: number;
  kind: string;
  fact: EventFact;
  file: string;
}

// Frozen formulas are memoised and shared by molecules (reconcile.ts), so this is built once each.
const stepIdSets = new WeakMap<ResolvedFormula, Set<string>>();
function stepIdsOf(formula: ResolvedFormula): Set<string> {
  let ids = stepIdSets.get(formula);
  if (!ids) stepIdSets.set(formula, (ids = new Set(formula.steps.map((s) => s.id))));
  return ids;
}

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

// Keyed by the parsed object, which callers memoise by the file's bytes (reconcile.ts), so a
// frozen formula shared by many molecules is hashed once per process.
const frozenHashes = new WeakMap<ResolvedFormula, string>();

/**
 * The content hash of a frozen formula as molecule.toml records it (`formula_hash`): formulaHash
 * of what the file parses to. A frozen formula is only a file; this is what ties it to the
 * molecule that was created from it.
 */
export function frozenFormulaHash(formula: ResolvedFormula): string {
  let hash = frozenHashes.get(formula);
  if (hash === undefined) frozenHashes.set(formula, (hash = formulaHash(formula)));
  return hash;
}

export function parseFrozenFormula(text: string, file: string): ResolvedFormula {
  return checkFrozenFormula(parseWrittenToml(text, file), file);
}

/** molecule.toml as fold reads it; errors name the file and the field. */
export function parseMoleculeMeta(text: string, file: string): MoleculeMeta {
  return checkMoleculeMeta(parseWrittenToml(text, file), file);
}

/** An event file as fold reads it, checked against what its name says. */
export function parseEventFact(
  text: string,
  file: string,
  expected: { step?: string; attempt?: number; kind: string },
): EventFact {
  return checkEvent(parseFlatToml(text, file), file, expected);
}

export function fold(
  id: string,
  dir: string,
  files: ReadonlyMap<string, string>,
  options: FoldOptions = {},
): MoleculeState {
  countFold(id);
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
  // The folder is a symbolic link (or a file): nothing in it was read, and nothing is written.
  const folder = (files as Partial<FolderFiles>).folder;
  if (folder !== undefined) {
    state.errors.push({ file: dir, message: folder });
    return state;
  }
  const f = openFolding(state, options.trusted);
  readHeaderFiles(f, options);
  const formula = state.formula;
  if (!formula) return state;
  if (state.meta) {
    const actual = frozenFormulaHash(formula);
    if (actual !== state.meta.formula_hash)
      problem(
        f,
        state.errors,
        FORMULA_FILE,
        `the frozen formula does not match ${f.rel(MOLECULE_FILE)}: it hashes to ${actual.slice(0, 12)}…, \`formula_hash\` there says ${state.meta.formula_hash.slice(0, 12)}… (${FORMULA_FILE} was edited after the molecule was created); restore both files from git`,
      );
  }
  const byStep = eventsByStep(f, formula, options.trusted);
  const fromDigest = state.digest ? new Map(state.digest.steps.map((s) => [s.id, s])) : undefined;
  const steps = formula.steps;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as ResolvedStep;
    const s = foldStep(f, step.id, byStep.get(step.id), fromDigest?.get(step.id));
    state.steps.push(s);
    state.stepById.set(step.id, s);
  }
  if (state.digest) {
    for (const d of state.digest.steps) {
      if (!state.stepById.has(d.id))
        problem(f, state.errors, DIGEST_FILE, `digest names unknown step ${JSON.stringify(d.id)}`, 'steps');
    }
  }
  return state;
}

/** One fold in progress: the state being built and which of the folder's files it may read. */
interface Folding {
  state: MoleculeState;
  files: ReadonlyMap<string, string>;
  /** Symlinks, fifos, devices and files over the size limit (io.ts FolderFiles): never read. */
  unreadable: ReadonlyMap<string, string> | undefined;
  rel(path: string): string;
  /** Present and without conflict markers. */
  usable(path: string): boolean;
}

function problem(f: Folding, list: FileProblem[], file: string, message: string, path?: string): void {
  list.push(path ? { file: f.rel(file), path, message } : { file: f.rel(file), message });
}

/** `fn()`, or undefined with its GastownError recorded against `file`. */
function guard<T>(f: Folding, file: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (!isGastownError(err)) throw err;
    problem(f, f.state.errors, file, err.message, err.location.path);
    return undefined;
  }
}

/** Conflict markers and unreadable files recorded; what is left is usable. */
function openFolding(state: MoleculeState, trusted: ReadonlySet<string> | undefined): Folding {
  const { dir, files } = state;
  const rel = (p: string) => `${dir}/${p}`;
  const unreadable = (files as Partial<FolderFiles>).unreadable;
  const f: Folding = { state, files, unreadable, rel, usable: () => true };
  // Keys, then get: a lazily filled map reads only the files that are looked at.
  for (const path of files.keys()) {
    if (trusted?.has(path)) continue;
    const text = files.get(path);
    // Undefined: a lazily read file turned out unreadable (below).
    if (text !== undefined && hasConflictMarkers(text))
      problem(f, state.conflicts, path, 'unresolved merge: the file has git conflict markers');
  }
  if (unreadable) for (const [path, why] of unreadable) problem(f, state.errors, path, why);
  // Building `rel(path)` per event is measurable on a cold advance; most folders have no conflict.
  const conflicted = state.conflicts.length > 0 ? new Set(state.conflicts.map((c) => c.file)) : undefined;
  f.usable = (path: string) => files.has(path) && !conflicted?.has(rel(path));
  return f;
}

/** molecule.toml, the frozen formula and the digest, each checked. */
function readHeaderFiles(f: Folding, options: FoldOptions): void {
  const { state, files, unreadable, rel } = f;
  const metaText = files.get(MOLECULE_FILE);
  if (metaText === undefined) {
    if (!unreadable?.has(MOLECULE_FILE)) problem(f, state.errors, MOLECULE_FILE, 'missing molecule.toml');
  } else if (f.usable(MOLECULE_FILE)) {
    const meta = guard(f, MOLECULE_FILE, () => parseMoleculeMeta(metaText, rel(MOLECULE_FILE)));
    if (meta) {
      state.meta = meta;
      if (meta.id !== state.id)
        problem(
          f,
          state.errors,
          MOLECULE_FILE,
          `\`id\` is ${JSON.stringify(meta.id)} but the folder is ${JSON.stringify(state.id)}`,
          'id',
        );
    }
  }
  const formulaText = files.get(FORMULA_FILE);
  if (formulaText === undefined) {
    if (!unreadable?.has(FORMULA_FILE))
      problem(f, state.errors, FORMULA_FILE, 'missing formula.resolved.toml');
  } else if (f.usable(FORMULA_FILE)) {
    state.formula = guard(f, FORMULA_FILE, () =>
      (options.parseFormula ?? parseFrozenFormula)(formulaText, rel(FORMULA_FILE)),
    );
  }
  const digestText = files.get(DIGEST_FILE);
  if (digestText !== undefined && f.usable(DIGEST_FILE)) {
    state.digest = guard(f, DIGEST_FILE, () =>
      checkDigest(parseWrittenToml(digestText, rel(DIGEST_FILE)), rel(DIGEST_FILE)),
    );
  }
}

/**
 * Facts per step, in file order; molecule facts go straight into the state. Plain arrays and
 * loops, not nested Maps and iterators: a cold advance folds every molecule once, before the JIT
 * has optimised any of this.
 */
function eventsByStep(
  f: Folding,
  formula: ResolvedFormula,
  trusted: ReadonlySet<string> | undefined,
): Map<string, Recorded[]> {
  const { state, files, rel } = f;
  const stepIds = stepIdsOf(formula);
  const byStep = new Map<string, Recorded[]>();
  for (const path of files.keys()) {
    if (!path.startsWith(EVENTS_PREFIX) || !f.usable(path)) continue;
    const name = path.slice(EVENTS_PREFIX.length);
    const parsed = parseEventName(name);
    if (!parsed) {
      problem(f, state.errors, path, eventNameProblem(name));
      continue;
    }
    if (parsed.scope === 'molecule') {
      const fact = guard(f, path, () =>
        parseEventFact(files.get(path) as string, rel(path), { kind: parsed.kind }),
      );
      if (fact) state.facts[parsed.kind] = fact;
      continue;
    }
    if (!stepIds.has(parsed.step)) {
      problem(
        f,
        state.errors,
        path,
        `event for unknown step ${JSON.stringify(parsed.step)} (not in formula ${formula.formula})`,
        'step',
      );
      continue;
    }
    const fact = trusted?.has(path)
      ? { step: parsed.step, attempt: parsed.attempt, kind: parsed.kind, extra: {} }
      : guard(f, path, () => parseEventFact(files.get(path) as string, rel(path), parsed));
    if (!fact) continue;
    const record: Recorded = { attempt: parsed.attempt, kind: parsed.kind, fact, file: path };
    const list = byStep.get(parsed.step);
    if (list) list.push(record);
    else byStep.set(parsed.step, [record]);
  }
  return byStep;
}

type DigestStep = NonNullable<MoleculeState['digest']>['steps'][number];

/**
 * One step's state from its recorded facts: the newest attempt with any fact is the current one;
 * two terminal facts for it are a conflict. A digested step with no fact keeps its digest entry.
 */
function foldStep(
  f: Folding,
  stepId: string,
  list: Recorded[] | undefined,
  digested: DigestStep | undefined,
): StepState {
  let attempt = 1;
  const facts: Record<string, EventFact> = {};
  const history: StepState['history'] = {};
  if (list) {
    for (let j = 0; j < list.length; j++) attempt = Math.max(attempt, (list[j] as Recorded).attempt);
    for (let j = 0; j < list.length; j++) {
      const r = list[j] as Recorded;
      if (r.attempt === attempt) facts[r.kind] = r.fact;
      else {
        const earlier = history[r.attempt];
        if (earlier) earlier[r.kind] = r.fact;
        else history[r.attempt] = { [r.kind]: r.fact };
      }
    }
  }
  const status = stepStatusOf(facts);
  if (terminalCountOf(facts) > 1) {
    const terminal = TERMINAL.filter((k) => facts[k] !== undefined);
    for (const k of terminal) {
      const r = (list as Recorded[]).find((x) => x.attempt === attempt && x.kind === k) as Recorded;
      problem(
        f,
        f.state.conflicts,
        r.file,
        `step ${stepId} attempt ${attempt} is recorded as ${terminal.join(' and ')}`,
      );
    }
  }
  const s: StepState = { id: stepId, attempt, status, facts, history };
  if (digested && !list) {
    s.attempt = digested.attempt;
    s.status = digested.state;
    if (digested.by ?? digested.assignee) s.assignee = (digested.by ?? digested.assignee) as string;
  } else {
    const who = assigneeOf(facts);
    if (who !== undefined) s.assignee = who;
  }
  return s;
}

const terminalCountOf = (facts: Record<string, EventFact>) =>
  (facts.done !== undefined ? 1 : 0) +
  (facts.failed !== undefined ? 1 : 0) +
  (facts.skipped !== undefined ? 1 : 0);

/** A step's status from the facts of its current attempt (the first terminal kind wins). */
function stepStatusOf(facts: Record<string, EventFact>): StepStatus {
  for (const k of TERMINAL) if (facts[k] !== undefined) return k;
  if (facts.started !== undefined) return 'in_progress';
  if (facts.ready !== undefined) return 'ready';
  return 'pending';
}

/** Who works on a step, from the facts of its current attempt. */
const assigneeOf = (facts: Record<string, EventFact>) =>
  facts.started?.by ?? facts.done?.by ?? facts.failed?.by ?? facts.ready?.assignee;

/**
 * The state after the engine wrote `written` (molecule-relative paths, already in
 * `state.files`): what fold() of those files gives, without reading the others again. Engine
 * writes are new facts of a step's current or next attempt, molecule facts and gate files; for
 * anything else (a fact that would conflict, a history change, a squashed molecule, a file fold
 * reads as state) it returns undefined and the caller folds the files again.
 */
export function foldWritten(state: MoleculeState, written: readonly string[]): MoleculeState | undefined {
  const formula = state.formula;
  if (!formula || state.digest || state.errors.length > 0 || state.conflicts.length > 0) return undefined;
  const files = state.files;
  const next: MoleculeState = {
    ...state,
    steps: [...state.steps],
    stepById: new Map(state.stepById),
    facts: { ...state.facts },
  };
  const stepIds = stepIdsOf(formula);
  for (const path of written) {
    const text = files.get(path);
    if (text === undefined || hasConflictMarkers(text)) return undefined;
    if (!path.startsWith(EVENTS_PREFIX)) {
      if (path === MOLECULE_FILE || path === FORMULA_FILE || path === DIGEST_FILE) return undefined;
      continue;
    }
    const parsed = parseEventName(path.slice(EVENTS_PREFIX.length));
    if (!parsed) return undefined;
    const file = `${state.dir}/${path}`;
    let fact: EventFact;
    try {
      fact = parseEventFact(text, file, parsed.scope === 'molecule' ? { kind: parsed.kind } : parsed);
    } catch (err) {
      if (isGastownError(err)) return undefined;
      throw err;
    }
    if (parsed.scope === 'molecule') {
      if (next.facts[parsed.kind] !== undefined) return undefined;
      next.facts[parsed.kind] = fact;
      continue;
    }
    const old = next.stepById.get(parsed.step);
    if (!old || !stepIds.has(parsed.step) || parsed.attempt < old.attempt) return undefined;
    let facts: Record<string, EventFact>;
    let history = old.history;
    if (parsed.attempt > old.attempt) {
      if (Object.keys(old.facts).length > 0) history = { ...history, [old.attempt]: old.facts };
      facts = { [parsed.kind]: fact };
    } else {
      if (old.facts[parsed.kind] !== undefined) return undefined;
      facts = { ...old.facts, [parsed.kind]: fact };
      if (terminalCountOf(facts) > 1) return undefined;
    }
    const s: StepState = { id: old.id, attempt: parsed.attempt, status: stepStatusOf(facts), facts, history };
    const who = assigneeOf(facts);
    if (who !== undefined) s.assignee = who;
    next.stepById.set(s.id, s);
    next.steps[next.steps.indexOf(old)] = s;
  }
  return next;
}
