// A commit trailer is judged against its molecule as of the commit that carries it: the
// molecule's folder in that commit's tree, plus the facts that trailers of the commits before it
// recorded since (each names its commit), planned at that commit's time. Every clone has exactly
// that, whatever hooks ran and whenever it last caught up, so every clone reaches the same
// verdict: a trailer for a step that was not ready then, or for a molecule made later, is refused
// everywhere, even once the step is ready (docs/hooks.md).
import { GastownError } from '../errors.js';
import { blobId } from '../git/blob-id.js';
import { SYMLINK_MODE } from '../git/modes.js';
import { isMoleculeId } from '../store/ids.js';
import { FORMULA_FILE, MOLECULE_FILE } from '../store/layout.js';
import type { GastownConfig } from '../store/types.js';
import { applyEffects } from './apply.js';
import { parseMoleculeMeta } from './fold.js';
import { formulaNeedsPlugins } from './gates.js';
import { moleculeRelDir } from './io.js';
import { stepActionEffects } from './molecules.js';
import { foldFiles, memoParseFormula, type ReconcileOutcome, reconcileMolecule } from './reconcile.js';
import type { Trailer } from './trailers.js';
import type { MoleculeState, MoleculeStatus } from './types.js';

export interface CommitViewOptions {
  root: string;
  /** The commit's full id. */
  commit: string;
  /** Its committer time: deadlines and timers are judged as of then. */
  time: Date;
  config: GastownConfig;
  /** The molecule's files now (on disk, or a dry run's), where facts recorded since are found. */
  current(id: string): ReadonlyMap<string, string> | undefined;
}

/** Molecules as they were at one commit, read from git and planned in memory. */
export class CommitView {
  private readonly folders = new Map<string, Promise<Map<string, string> | undefined>>();
  private readonly statuses = new Map<string, Promise<MoleculeStatus | undefined>>();
  private readonly ancestry = new Map<string, Promise<boolean>>();
  private readonly visiting = new Set<string>();
  /** Molecules whose folder at the commit is byte for byte their folder now. */
  private readonly unchanged = new Set<string>();
  /** Trailers `refused` left to the run that applies them (judgedByNow). */
  readonly leftToRun = new Set<Trailer>();

  constructor(private readonly o: CommitViewOptions) {}

  /** The molecule's files as of the commit (a copy to change), undefined when it had none. */
  async files(id: string): Promise<Map<string, string> | undefined> {
    let folder = this.folders.get(id);
    if (!folder) {
      folder = this.read(id);
      this.folders.set(id, folder);
    }
    const files = await folder;
    return files && new Map(files);
  }

  /** Folded and reconciled to its fixpoint in memory, as a run at the commit's time would. */
  async plan(id: string, files: Map<string, string>): Promise<ReconcileOutcome> {
    const state = foldFiles(id, files);
    const others = new Map<string, MoleculeStatus | undefined>();
    for (const other of referencedMolecules(state))
      if (other !== id) others.set(other, await this.status(other));
    return reconcileMolecule(
      id,
      {
        root: this.o.root,
        now: this.o.time,
        config: this.o.config,
        dryRun: true,
        detached: true,
        moleculeStatus: (other) => others.get(other),
      },
      files,
    );
  }

  /**
   * Which of the commit's trailers could not apply as of the commit, and why. The trailers of
   * one commit may name steps in any order: one that cannot apply yet is tried again after the
   * others, as the commit's own application does. `by` is who the trailers act as.
   */
  async refused(trailers: readonly Trailer[], by: string): Promise<Map<Trailer, string>> {
    const refused = new Map<Trailer, string>();
    const files = new Map<string, Map<string, string> | undefined>();
    let pending: Trailer[] = [];
    for (const t of trailers) {
      if (!files.has(t.molecule)) files.set(t.molecule, await this.files(t.molecule));
      const at = files.get(t.molecule);
      if (!at) refused.set(t, `molecule ${t.molecule} did not exist at that commit`);
      else if (this.judgedByNow(t.molecule, at)) this.leftToRun.add(t);
      else pending.push(t);
    }
    for (let progress = true; progress && pending.length > 0; ) {
      progress = false;
      const later: Trailer[] = [];
      for (const t of pending) {
        const molecule = files.get(t.molecule) as Map<string, string>;
        const { state, plan } = await this.plan(t.molecule, molecule);
        try {
          const effects = stepActionEffects(state, plan, t.step, ACTIONS[t.kind], { as: by });
          await applyEffects(effects, {
            root: this.o.root,
            now: this.o.time,
            config: this.o.config,
            dryRun: true,
            detached: true,
            files: new Map([[t.molecule, molecule]]),
            state,
          });
          refused.delete(t);
          progress = true;
        } catch (err) {
          if (!(err instanceof GastownError)) throw err;
          refused.set(t, `as of that commit, ${err.message}`);
          later.push(t);
        }
      }
      pending = later;
    }
    return refused;
  }

  /**
   * True when applying the trailer now gives the verdict it has as of the commit, so the run
   * that applies it judges it (advance.ts) and the molecule is not planned twice: its folder is
   * unchanged since the commit and its plan reads nothing but that folder (no gate, loop,
   * on_complete or condition, which may read the clock or git; no other molecule it waits for).
   */
  private judgedByNow(id: string, files: ReadonlyMap<string, string>): boolean {
    if (!this.unchanged.has(id)) return false;
    const dir = moleculeRelDir(id);
    const formulaText = files.get(FORMULA_FILE);
    const metaText = files.get(MOLECULE_FILE);
    if (formulaText === undefined || metaText === undefined) return false;
    try {
      const formula = memoParseFormula(formulaText, `${dir}/${FORMULA_FILE}`);
      const meta = parseMoleculeMeta(metaText, `${dir}/${MOLECULE_FILE}`);
      return meta.after === undefined && !formulaNeedsPlugins(formula);
    } catch (err) {
      if (err instanceof GastownError) return false;
      throw err;
    }
  }

  /** Another molecule's state as of the commit (for `after` and molecule gates). */
  private status(id: string): Promise<MoleculeStatus | undefined> {
    // A molecule that waits on itself through others reads as unknown there.
    if (this.visiting.has(id)) return Promise.resolve(undefined);
    let s = this.statuses.get(id);
    if (!s) {
      s = (async () => {
        this.visiting.add(id);
        try {
          const files = await this.files(id);
          return files ? (await this.plan(id, files)).plan.status : undefined;
        } finally {
          this.visiting.delete(id);
        }
      })();
      this.statuses.set(id, s);
    }
    return s;
  }

  private async read(id: string): Promise<Map<string, string> | undefined> {
    const { root, commit } = this.o;
    if (!isMoleculeId(id)) return undefined;
    const { listTree } = await import('../git/ls-tree.js');
    const { catFileBatch } = await import('../git/cat-file.js');
    const dir = `${moleculeRelDir(id)}/`;
    const listed = await listTree(root, commit, [dir]);
    if (!listed) return undefined;
    const blobs = new Map<string, string>();
    for (const [path, { mode, type, id: oid }] of listed) {
      // State is read from regular files only, never through a link.
      if (type !== 'blob' || mode === SYMLINK_MODE || !oid) continue;
      blobs.set(path.slice(dir.length), oid);
    }
    if (!blobs.has('molecule.toml')) return undefined;
    const current = this.o.current(id);
    const files = new Map<string, string>();
    const missing: [string, string][] = [];
    for (const [rel, oid] of blobs) {
      const text = current?.get(rel);
      if (text !== undefined && blobId(text, oid.length) === oid) files.set(rel, text);
      else missing.push([rel, oid]);
    }
    if (missing.length > 0) {
      const objects = await catFileBatch(
        root,
        missing.map(([, oid]) => oid),
        true,
      );
      missing.forEach(([rel], i) => {
        const o = objects[i];
        if (o?.type === 'blob') files.set(rel, o.bytes.toString('utf8'));
      });
    }
    // Facts recorded since from trailers of commits this one descends from: it saw those.
    for (const [rel, text] of current ?? []) {
      if (!rel.startsWith('events/') || files.has(rel)) continue;
      const by = COMMIT_FIELD.exec(text)?.[1];
      if (by !== undefined && by !== commit && (await this.descendsFrom(by))) files.set(rel, text);
    }
    if (missing.length === 0 && current !== undefined && files.size === current.size) this.unchanged.add(id);
    return files;
  }

  private descendsFrom(ancestor: string): Promise<boolean> {
    let known = this.ancestry.get(ancestor);
    if (!known) {
      known = import('../git/exec.js').then(
        async ({ git }) =>
          (
            await git(['merge-base', '--is-ancestor', ancestor, this.o.commit], {
              cwd: this.o.root,
              allowFailure: true,
            })
          ).exitCode === 0,
      );
      this.ancestry.set(ancestor, known);
    }
    return known;
  }
}

const COMMIT_FIELD = /^commit\s*=\s*"([0-9a-f]{7,64})"\s*$/m;

/** Molecules a plan asks about: the one it comes `after`, those its molecule gates wait for. */
function referencedMolecules(state: MoleculeState): string[] {
  const out = new Set<string>();
  if (state.meta?.after) out.add(state.meta.after);
  for (const step of state.formula?.steps ?? [])
    if (step.gate?.type === 'molecule' && 'molecule' in step.gate) out.add(step.gate.molecule as string);
  return [...out];
}

const ACTIONS = { done: 'done', fail: 'fail', start: 'start' } as const;
