// Pre-commit validation of staged `.beads/` files: refuse a commit that would store a broken
// formula, a malformed checkpoint edit, unparsable TOML, unresolved conflict markers, or a
// molecule `status` would call invalid. Over the staged texts only; the validators for each kind
// are injected (the formula engine's, the checkpoint parser, the store's checks, the engine's
// verdict).
import { formatLocated, isGastownError } from '../errors.js';
import { isMoleculeId } from '../store/ids.js';

export interface StagedProblem {
  file: string;
  path?: string;
  line?: number;
  column?: number;
  message: string;
}

export interface StagedValidators {
  /** A formula file's error diagnostics (warnings are not a reason to refuse a commit). */
  formula(file: string, text: string): StagedProblem[];
  /** Throws a located GastownError when a checkpoint request file is malformed. */
  checkpoint(file: string, text: string): void;
  /** Throws when an approval file (one per approver) is malformed. */
  approval(file: string, text: string): void;
  /** Throws when a TOML file does not parse (or, for files the store knows, fails its checks). */
  toml(file: string, text: string): void;
  /**
   * What `molecule status` calls wrong with molecule `id` made of `files` (paths relative to its
   * folder, each a text or why it was not read): nothing unless it is invalid or in conflict.
   */
  molecule(id: string, files: ReadonlyMap<string, StagedFile>): Promise<StagedProblem[]>;
}

/** A staged file: its text, or why it was not read (git/repo.ts IndexFile). */
export type StagedFile = { text: string } | { unreadable: string };

export type FileKind = 'formula' | 'checkpoint' | 'approval' | 'toml' | 'other';

/** Which validator a repo-relative path gets. */
export function classify(path: string): FileKind {
  if (/^\.beads\/formulas\/[^/]+\.formula\.(toml|json)$/.test(path)) return 'formula';
  if (/^\.beads\/molecules\/[^/]+\/checkpoints\/[^/]+\.approvals\/[^/]+\.md$/.test(path)) return 'approval';
  if (/^\.beads\/molecules\/[^/]+\/checkpoints\/[^/]+\.md$/.test(path) && !path.endsWith('.timeout.md')) {
    return 'checkpoint';
  }
  if (path.startsWith('.beads/') && path.endsWith('.toml')) return 'toml';
  // Every file in events/ is a fact, whatever its name ends with: a bad name is refused there.
  if (/^\.beads\/molecules\/[^/]+\/events\/[^/]+$/.test(path)) return 'toml';
  return 'other';
}

const CONFLICT = /^(<{7}|>{7})( |$)/m;

export function validateStaged(files: ReadonlyMap<string, string>, v: StagedValidators): StagedProblem[] {
  const problems: StagedProblem[] = [];
  for (const [file, text] of files) {
    if (file.startsWith('.beads/.cache/')) continue;
    if (CONFLICT.test(text) && /^={7}$/m.test(text)) {
      const line = text.split('\n').findIndex((l) => /^<{7}/.test(l));
      problems.push({
        file,
        ...(line >= 0 ? { line: line + 1 } : {}),
        message: 'unresolved merge conflict markers',
      });
      continue;
    }
    const kind = classify(file);
    try {
      if (kind === 'formula') problems.push(...v.formula(file, text));
      else if (kind === 'checkpoint') v.checkpoint(file, text);
      else if (kind === 'approval') v.approval(file, text);
      else if (kind === 'toml') v.toml(file, text);
    } catch (err) {
      if (!isGastownError(err)) throw err;
      problems.push({ file, ...err.location, message: err.message });
    }
  }
  return problems;
}

export function formatProblem(p: StagedProblem): string {
  const { file, path, line, column } = p;
  return formatLocated(
    {
      file,
      ...(path ? { path } : {}),
      ...(line !== undefined ? { line } : {}),
      ...(column !== undefined ? { column } : {}),
    },
    p.message,
  );
}

const MOLECULE_PATH = /^\.beads\/molecules\/([^/]+)\//;

/**
 * Pre-commit's check of the staged tree: each changed file on its own (validateStaged), then each
 * molecule a change touches as a whole, as `molecule status` judges it, from the staged files
 * (`index`: every staged file of those molecules and every changed file, read within the size
 * limit). `changed` lists deletions too: deleting a molecule's file can break it.
 */
export async function validateStagedTree(
  changed: readonly string[],
  index: ReadonlyMap<string, StagedFile>,
  v: StagedValidators,
): Promise<StagedProblem[]> {
  const problems: StagedProblem[] = [];
  const texts = new Map<string, string>();
  for (const file of changed) {
    const f = index.get(file);
    if (f === undefined) continue; // deleted
    if ('unreadable' in f) problems.push({ file, message: f.unreadable });
    else texts.set(file, f.text);
  }
  problems.push(...validateStaged(texts, v));
  const reported = new Set(problems.map((p) => p.file));
  // A folder whose name is no molecule id is no molecule (the engine lists none such).
  const touched = new Set<string>();
  for (const file of changed) {
    const id = MOLECULE_PATH.exec(file)?.[1];
    if (id !== undefined && isMoleculeId(id)) touched.add(id);
  }
  const byMolecule = new Map<string, Map<string, StagedFile>>();
  for (const [path, f] of index) {
    const m = MOLECULE_PATH.exec(path);
    const id = m?.[1];
    if (!m || id === undefined || !touched.has(id)) continue;
    let files = byMolecule.get(id);
    if (!files) byMolecule.set(id, (files = new Map()));
    files.set(path.slice(m[0].length), f);
  }
  // A molecule with no staged file left is being removed whole: nothing to judge.
  for (const [id, files] of byMolecule) {
    for (const p of await v.molecule(id, files)) {
      if (reported.has(p.file)) continue; // said already, with its line
      reported.add(p.file);
      problems.push(p);
    }
  }
  return problems;
}
