// The summary store: per-molecule summaries keyed by content (docs/state.md,
// ".cache/summaries.json"). `advance` skips a molecule its summary vouches for; `molecule list`
// and `molecule current` answer from the same summaries. The rule is the same for every reader:
// a summary counts only while the molecule's content key (or the stamp recorded with it) holds,
// so a changed file is always read and judged again.
import type { Dirent } from 'node:fs';
import {
  eventsKey,
  gitOperationInProgress,
  hashKey,
  type KeyScope,
  type MoleculeSummary,
  type MoleculeView,
  moleculeKeyLines,
  moleculeKeyLinesOf,
  moleculeStamp,
  newWatched,
  quietHeadOf,
  readSummaries,
  type SummaryFile,
  settledWatchStamp,
  stampIsSettled,
  statFolder,
  summaryFile,
  type Watched,
  watchStampNow,
  writeSummaries,
  writeSummaryText,
} from '../store/cache.js';
import { type JournalAnswer, markToWrite, untouchedSince } from '../store/journal.js';
import { withEntries } from '../store/json-entries.js';
import { EVENTS, moleculesDir, parseEventName } from '../store/layout.js';
import type { StampFields } from '../store/stat.js';
import type { GastownConfig } from '../store/types.js';
import { formulaNeedsPlugins, saltOf } from './gates.js';
import type { ReconcileOutcome } from './reconcile.js';
import type { MoleculeState, MoleculeStatus, PlanResult } from './types.js';

/** How a store reads and writes: advance's options that matter to it. */
export interface SummaryStoreOptions {
  /** A dry run has no store. */
  dryRun?: boolean;
  /** How old a folder's last change must be for its stamp to be recorded (store/cache.ts). */
  stampWindowMs?: number;
  /** A run over these molecules only: the others' summaries are kept as they are. */
  molecules?: string[];
}

export interface RunStamps {
  runStartMs: number;
  /** configStamp taken before the config was read; undefined when too recent to record. */
  config: string | undefined;
  /** The change journal's answer to a sync made before any stat (store/journal.ts). */
  journal?: JournalAnswer;
}

/**
 * Summaries of quiet molecules keyed by content (docs/state.md, ".cache/summaries.json"):
 * a molecule whose files, config, plugins and `after` molecule are unchanged and whose last plan
 * was empty is skipped after one readdir, or one stat when its `events/` folder's stamp is the
 * one recorded with the key (store/cache.ts, statStamp), without parsing anything.
 */
export function openSummaries(
  root: string,
  config: GastownConfig,
  opts: SummaryStoreOptions,
  stamps: RunStamps,
): SummaryStore | undefined {
  if (opts.dryRun) return undefined;
  return new SummaryStore(root, config, opts, stamps);
}

/** One run's view of the summary file: what it vouches for, and what the run learned. */
export class SummaryStore {
  readonly counts: Tally['counts'];
  private readonly file: SummaryFile;
  private readonly text: string | undefined;
  // What this run learned. A run over some molecules keeps the others' summaries: they are
  // merged into the file's object when saving (copying 1,000 entries up front cost ~5 ms).
  private readonly fresh: SummaryFile;
  private readonly dropped = new Set<string>();
  private readonly t: Tally;
  // Mid-merge, files can change under the same names: look at everything.
  private readonly trustNames: boolean;
  private readonly salt: string;
  // Stamps recorded under another config or plugin set vouch for keys salted differently.
  private readonly stampsHold: boolean;
  private readonly runStartMs: number;
  private readonly whole: WholeFolders;
  // Stats of `events/` taken before a molecule was read, for the summary its reconcile records.
  private readonly taken = new Map<string, StampFields>();
  // Built once: path.join per molecule shows up in the no-op profile.
  private readonly base: string;
  private readonly journal: JournalAnswer | undefined;
  // Molecules the change journal saw untouched since the file's mark: no stat needed.
  private readonly untouched: ((id: string) => boolean) | undefined;

  constructor(
    private readonly root: string,
    config: GastownConfig,
    private readonly opts: SummaryStoreOptions,
    stamps: RunStamps,
  ) {
    const { data: file, text } = readSummaries(root);
    this.file = file;
    this.text = text;
    const fresh: SummaryFile = { version: file.version, molecules: {} };
    this.fresh = fresh;
    this.t = { fresh, counts: { stamp: 0, key: 0 }, hits: 0, kept: [], touched: false };
    this.counts = this.t.counts;
    this.trustNames = !gitOperationInProgress(root);
    // While the config file's stamp is the one recorded, its bytes are those hashed then
    // (quiet.ts): a warm reader then hashes nothing, and loads no node:crypto.
    const hash =
      stamps.config !== undefined && file.config?.stamp === stamps.config ? file.config.hash : config.hash;
    const salt = saltOf(hash);
    this.salt = salt;
    fresh.salt = salt;
    if (stamps.config !== undefined) fresh.config = { stamp: stamps.config, hash };
    this.stampsHold = file.salt === salt;
    this.runStartMs = stamps.runStartMs;
    this.whole = new WholeFolders(stamps.runStartMs, opts.stampWindowMs);
    this.base = `${moleculesDir(root)}/`;
    this.journal = stamps.journal;
    this.untouched = untouchedSince(stamps.journal, file.journal);
  }

  /**
   * No summary of this molecule was ever recorded here (a fresh clone, a deleted cache) and
   * git is not mid-operation: its settled history may be taken by name (reconcile.ts).
   */
  neverSeen(id: string): boolean {
    return this.trustNames && this.file.molecules[id] === undefined;
  }

  /**
   * The molecule's summary when its content key (or the stamp recorded with it) still holds
   * and its last plan was empty; undefined means "read and judge it".
   */
  lookup(
    id: string,
    nowMs: number,
    statusOf: (id: string) => MoleculeStatus | undefined,
  ): MoleculeSummary | undefined {
    const { t, base } = this;
    const s = this.file.molecules[id];
    if (!this.trustNames || !s?.quiet || (s.recheckAt !== undefined && nowMs >= s.recheckAt))
      return undefined;
    // A summary with `after` holds that molecule's completion in its stamp: stat'ed as before.
    if (this.stampsHold && s.stamp !== undefined && s.after === undefined && this.untouched?.(id))
      return hitByStamp(t, id, s);
    const scope: KeyScope = s.events ? 'events' : 'all';
    const after = s.after;
    const afterCompleted = after === undefined ? undefined : statusOf(after) === 'completed';
    if (scope === 'all')
      return this.whole.lookup(t, base + id, s, afterCompleted, this.stampsHold, (l) =>
        this.keyOf(l, 'all', afterCompleted),
      );
    // Stat first, list second: a change after the stat leaves a stamp that will not match.
    const st = statFolder(`${base}${id}/${EVENTS}`);
    const stamp = st && moleculeStamp(st, afterCompleted);
    if (stamp !== undefined && this.stampsHold && s.stamp === stamp) return hitByStamp(t, id, s);
    let key = eventsKey(base + id, this.saltOf(scope, afterCompleted));
    if (key === undefined) {
      const lines = moleculeKeyLines(base + id, scope);
      if (lines === undefined) return undefined;
      key = this.keyOf(lines, scope, afterCompleted);
    }
    if (key !== s.key) {
      if (st) this.taken.set(id, st);
      return undefined;
    }
    const settled = st && stampIsSettled(st, this.runStartMs, this.opts.stampWindowMs) ? stamp : undefined;
    return hitByKey(t, id, s, settled, undefined);
  }

  /**
   * Records what a reconcile found, or with `withView` a reader's full judgement (verdict.ts,
   * which re-checks a settled molecule's facts): what readers show is recorded for a molecule
   * still moving, and for a settled one only from a reader's judgement.
   */
  record(
    id: string,
    r: Pick<ReconcileOutcome, 'state' | 'plan' | 'problems'>,
    afterCompleted: boolean | undefined,
    withView = false,
  ): void {
    const { fresh } = this;
    this.t.touched = true;
    if (r.plan.volatile || r.problems.length > 0) {
      delete fresh.molecules[id];
      this.dropped.add(id);
      return;
    }
    this.dropped.delete(id);
    const scope = keyScopeOf(r);
    // Facts written in this run are in r.state.files already, so the key is the folder's
    // content as the next run will see it.
    const summary: CachedSummary = {
      key: this.keyOf(moleculeKeyLinesOf(r.state.files, scope), scope, afterCompleted),
      state: r.plan.status,
      done: r.state.steps.filter((s) => s.status === 'done' || s.status === 'skipped').length,
      total: r.state.steps.length,
      quiet: r.plan.effects.length === 0,
    };
    if (r.plan.recheckAt !== undefined) summary.recheckAt = r.plan.recheckAt;
    // What readers show of a molecule still moving is its plan's, as judgeMolecule gives it;
    // a settled one's verdict needs the audit (verdict.ts), which only readers make.
    const st = r.state;
    if (withView || !(st.facts.completed || st.facts.cancelled || st.digest))
      summary.view = viewOf(st, r.plan);
    if (r.state.meta?.after) summary.after = r.state.meta.after;
    if (scope === 'events') {
      summary.events = true;
      const stamp = this.stampOf(id, afterCompleted);
      if (stamp !== undefined) summary.stamp = stamp;
    } else {
      const stamped = this.whole.stampOf(id, afterCompleted);
      if (stamped) Object.assign(summary, stamped);
    }
    fresh.molecules[id] = summary;
  }

  /** Records a summary earned by another molecule of the same shape (shapes.ts). */
  adopt(id: string, summary: CachedSummary): boolean {
    if (!this.trustNames) return false;
    this.t.touched = true;
    // The stamp is this molecule's own, never the one of the molecule that earned the verdict;
    // so is what readers show (its assignees, its convoy): they judge this one themselves.
    const { stamp: _theirs, watch: _paths, view: _shown, ...rest } = summary;
    const stamp = this.stampOf(id, undefined);
    this.fresh.molecules[id] = stamp === undefined ? rest : { ...rest, stamp };
    return true;
  }

  summaryOf(id: string): CachedSummary | undefined {
    return this.fresh.molecules[id];
  }

  recordCompleted(id: string, listed?: Dirent[]): boolean {
    if (!this.trustNames) return false;
    const { base } = this;
    // One readdir of events/ gives both the contradiction check and the key; a squashed
    // molecule (digest, no events/) is keyed by its whole folder.
    let scope: KeyScope = 'events';
    // A listing's lines are regular files only (eventKeyLines); others may mark an entry that is
    // not one (` !a directory`), which reconcile reports, as it does a name that is no fact.
    const fromListing = listed && eventKeyLines(listed);
    let lines = fromListing ?? moleculeKeyLines(base + id, scope);
    if (lines === undefined) {
      scope = 'all';
      lines = moleculeKeyLines(base + id, scope);
      if (lines === undefined) return false;
    }
    if (!fromListing && lines.some((l) => l.includes(' !'))) return false;
    if (hasContradictingNames(lines)) return false;
    this.t.touched = true;
    this.fresh.molecules[id] = {
      key: this.keyOf(lines, scope, undefined),
      state: 'completed',
      done: 0,
      total: 0,
      quiet: true,
      ...(scope === 'events' ? { events: true as const } : {}),
    };
    const stamp = scope === 'events' ? this.stampOf(id, undefined) : undefined;
    if (stamp !== undefined) (this.fresh.molecules[id] as CachedSummary).stamp = stamp;
    return true;
  }

  save(): void {
    const { file, fresh, t, opts } = this;
    const mark = markToWrite(this.journal, file.journal, !opts.molecules);
    const same =
      mark?.epoch === file.journal?.epoch &&
      file.salt === this.salt &&
      file.config?.stamp === fresh.config?.stamp &&
      file.config?.hash === fresh.config?.hash &&
      (opts.molecules ? !t.touched : !t.touched && t.hits === Object.keys(file.molecules).length) &&
      this.headHolds();
    if (same && this.text !== undefined) return;
    // The file's shape: the head (the journal's mark, when there is one, first), then the entries.
    const head = { ...fresh, ...(mark ? { journal: mark } : {}) };
    let out: SummaryFile;
    if (opts.molecules) {
      // A few molecules changed: their entries' bytes are replaced in the text read (the same
      // bytes the whole file serialized again would have), not the whole file serialized.
      const { dropped } = this;
      const merged = (id: string) =>
        fresh.molecules[id] ?? (dropped.has(id) ? undefined : file.molecules[id]);
      const ids = Object.keys(file.molecules);
      // The same molecules as the file's head lists: its ids need no sorting and joining again.
      const sameIds =
        [...dropped].every((id) => !Object.hasOwn(file.molecules, id)) &&
        Object.keys(fresh.molecules).every((id) => Object.hasOwn(file.molecules, id));
      if (!sameIds)
        ids.push(...Object.keys(fresh.molecules).filter((id) => !Object.hasOwn(file.molecules, id)));
      const known = sameIds ? file.quiet?.ids : undefined;
      const text =
        this.text !== undefined
          ? withEntries(
              this.text,
              summaryFile(file, {}, file.quiet),
              'molecules',
              file.molecules,
              dropped,
              fresh.molecules,
              summaryFile(
                head,
                {},
                quietHeadOf(sameIds ? ids : ids.filter((id) => merged(id)), merged, known),
              ),
            )
          : undefined;
      if (text !== undefined) {
        try {
          writeSummaryText(this.root, text, this.text);
        } catch {
          // As below: the cache is an optimisation.
        }
        return;
      }
      const molecules = file.molecules;
      for (const id of this.dropped) delete molecules[id];
      for (const id of Object.keys(fresh.molecules)) molecules[id] = fresh.molecules[id] as CachedSummary;
      out = shaped(head, molecules);
    } else out = shaped(head, this.withKept());
    try {
      writeSummaries(this.root, out, this.text);
    } catch {
      // The cache is an optimisation; failing to write it must not fail the reconcile.
    }
  }

  /**
   * The file read has the QuietHead its entries call for (a file written before there was one
   * has none): else an unchanged run writes it once.
   */
  private headHolds(): boolean {
    const { molecules, quiet } = this.file;
    return quiet !== undefined || quietHeadOf(Object.keys(molecules), (id) => molecules[id]) === undefined;
  }

  /** What this run learned, with the summaries it kept as they were, in id order. */
  private withKept(): SummaryFile['molecules'] {
    const { fresh, t, file, dropped } = this;
    if (t.kept.length === 0) return fresh.molecules;
    const out: SummaryFile['molecules'] = {};
    for (const id of [...new Set([...t.kept, ...Object.keys(fresh.molecules)])].sort()) {
      const s = fresh.molecules[id] ?? (dropped.has(id) ? undefined : file.molecules[id]);
      if (s) out[id] = s;
    }
    return out;
  }

  private stampOf(id: string, afterCompleted: boolean | undefined): string | undefined {
    const st = this.taken.get(id);
    this.taken.delete(id);
    if (!st || !stampIsSettled(st, this.runStartMs, this.opts.stampWindowMs)) return undefined;
    return moleculeStamp(st, afterCompleted);
  }

  private saltOf(scope: KeyScope, afterCompleted: boolean | undefined): string {
    return `${scope}|${this.salt}|${afterCompleted === undefined ? '' : String(afterCompleted)}`;
  }

  private keyOf(lines: string[], scope: KeyScope, afterCompleted: boolean | undefined): string {
    return hashKey(lines, this.saltOf(scope, afterCompleted));
  }
}

type CachedSummary = SummaryFile['molecules'][string];

/** The file a full write makes: the head, its QuietHead over these entries, the entries. */
function shaped(head: Omit<SummaryFile, 'molecules'>, molecules: SummaryFile['molecules']): SummaryFile {
  return summaryFile(
    head,
    molecules,
    quietHeadOf(Object.keys(molecules), (id) => molecules[id]),
  );
}

/** What one run of a store learned, and how much of the file it kept as it was. */
interface Tally {
  fresh: SummaryFile;
  counts: { stamp: number; key: number };
  /** Summaries kept as they were: a no-op run over an unchanged cache rewrites nothing. */
  hits: number;
  /**
   * Their ids, added to what is saved only when the file is written: a reader over an unchanged
   * cache builds no second object of every summary.
   */
  kept: string[];
  touched: boolean;
}

function hitByStamp(t: Tally, id: string, s: CachedSummary): CachedSummary {
  t.kept.push(id);
  t.counts.stamp++;
  t.hits++;
  return s;
}

/** A key that held: the summary stands, with the stamp (and watched paths) now settled. */
function hitByKey(
  t: Tally,
  id: string,
  s: CachedSummary,
  stamp: string | undefined,
  watch: string[] | undefined,
): CachedSummary {
  t.counts.key++;
  if (stamp === s.stamp && (watch === undefined || sameList(watch, s.watch))) {
    t.kept.push(id);
    t.hits++;
  } else {
    // Record (or drop) the stamp: the summary file changes, the summary does not.
    const { stamp: _old, watch: _paths, ...rest } = s;
    t.fresh.molecules[id] = stamp === undefined ? rest : { ...rest, stamp, ...(watch ? { watch } : {}) };
    t.touched = true;
  }
  return s;
}

/** Whole-folder keys in one run: their stamps over watched paths (store/cache.ts Watched). */
class WholeFolders {
  /** The stats taken while listing and reading a folder whose key no longer held. */
  private readonly taken = new Map<string, Watched>();
  constructor(
    private readonly runStartMs: number,
    private readonly windowMs: number | undefined,
  ) {}

  /**
   * lookup for a whole-folder key: one stat per watched path while the stamp holds, else the
   * folder listed and its mutable files read, each after its stat.
   */
  lookup(
    t: Tally,
    dir: string,
    s: CachedSummary,
    afterCompleted: boolean | undefined,
    stampsHold: boolean,
    keyOf: (lines: string[]) => string,
  ): CachedSummary | undefined {
    const id = dir.slice(dir.lastIndexOf('/') + 1);
    if (stampsHold && s.stamp !== undefined && s.watch !== undefined) {
      if (watchStampNow(dir, s.watch, afterCompleted) === s.stamp) return hitByStamp(t, id, s);
    }
    const watched = newWatched();
    const lines = moleculeKeyLines(dir, 'all', watched);
    if (lines === undefined) return undefined;
    if (keyOf(lines) !== s.key) {
      this.taken.set(id, watched);
      return undefined;
    }
    const stamp = settledWatchStamp(watched, afterCompleted, this.runStartMs, this.windowMs);
    return hitByKey(t, id, s, stamp, stamp === undefined ? undefined : watched.paths);
  }

  /** The stamp and paths to record for `id`, from the stats its lookup took, when settled. */
  stampOf(id: string, afterCompleted: boolean | undefined): { stamp: string; watch: string[] } | undefined {
    const w = this.taken.get(id);
    this.taken.delete(id);
    const stamp = w && settledWatchStamp(w, afterCompleted, this.runStartMs, this.windowMs);
    return stamp === undefined || !w ? undefined : { stamp, watch: w.paths };
  }
}

function sameList(a: readonly string[], b: readonly string[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Molecule states in which a step can be worked on. */
export const MOVABLE: ReadonlySet<string> = new Set(['active', 'blocked', 'failed']);

/**
 * What `molecule list` and `molecule current` show of a molecule whose plan is empty: the same
 * values engine/molecules.ts statusOf gives them (with no effects, a step is ready only by its facts).
 */
function viewOf(state: MoleculeState, plan: PlanResult): MoleculeView {
  const view: MoleculeView = { formula: state.meta?.formula ?? state.formula?.formula ?? '' };
  if (plan.blockedReason) view.blocked = plan.blockedReason;
  if (state.meta?.convoy) view.convoy = state.meta.convoy;
  if (!MOVABLE.has(plan.status)) return view;
  const steps = new Map((state.formula?.steps ?? []).map((s) => [s.id, s]));
  const work: NonNullable<MoleculeView['work']> = [];
  for (const s of state.steps) {
    if (s.status !== 'in_progress' && s.status !== 'ready') continue;
    const step = steps.get(s.id);
    work.push({
      step: s.id,
      title: step?.title ?? '',
      state: s.status,
      attempt: s.attempt,
      ...(s.assignee !== undefined ? { assignee: s.assignee } : {}),
      ...(step?.gate ? { gate: step.gate.type } : {}),
    });
  }
  if (work.length > 0) view.work = work;
  return view;
}

/**
 * moleculeKeyLines(dir, 'events') from a listing already made: undefined (list again) when it
 * holds anything but regular files, which moleculeKeyLines would walk into.
 */
function eventKeyLines(listed: Dirent[]): string[] | undefined {
  const lines: string[] = [];
  for (const e of listed) {
    if (e.name.charCodeAt(0) === 46 /* . */) continue;
    if (!e.isFile()) return undefined;
    lines.push(`${EVENTS}/${e.name}`);
  }
  return lines;
}

/**
 * What a molecule's key must cover: only its event names when its plan reads nothing else (a
 * completed or cancelled molecule plans nothing; a formula with no gate, loop, on_complete or
 * condition plans from step states alone), else the whole folder. Problems in files the plan
 * does not read are not a reason to re-plan; `status`, `doctor` and pre-commit report them.
 */
function keyScopeOf(r: Pick<ReconcileOutcome, 'state' | 'plan'>): KeyScope {
  const { state, plan } = r;
  // A squashed molecule has no events/ folder to key on.
  if (state.digest) return 'all';
  if (plan.status === 'completed' || plan.status === 'cancelled') return 'events';
  return state.formula && !formulaNeedsPlugins(state.formula) ? 'events' : 'all';
}

/**
 * Judged by file names alone: two terminal facts (done/failed/skipped) for one step attempt, a
 * step whose newest attempt has none (a re-open merged into a completed molecule), or a name
 * that is no fact.
 */
function hasContradictingNames(lines: readonly string[]): boolean {
  const terminal = new Set<string>();
  const newest = new Map<string, number>();
  for (const line of lines) {
    if (!line.startsWith(`${EVENTS}/`)) continue;
    const e = parseEventName(line.slice(EVENTS.length + 1));
    if (e === undefined) return true; // no fact name at all: fold reports it
    if (e.scope !== 'step') continue;
    if ((newest.get(e.step) ?? 0) < e.attempt) newest.set(e.step, e.attempt);
    if (e.kind !== 'done' && e.kind !== 'failed' && e.kind !== 'skipped') continue;
    const key = `${e.step}.${e.attempt}`;
    if (terminal.has(key)) return true;
    terminal.add(key);
  }
  for (const [step, attempt] of newest) if (!terminal.has(`${step}.${attempt}`)) return true;
  return false;
}
