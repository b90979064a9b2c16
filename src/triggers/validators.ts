// The real validators for `.beads/` files, wired from their owners: the formula engine, the
// checkpoint parser, the store's config and state checks. Loaded lazily (pre-commit and doctor).
import { GastownError } from '../errors.js';
import type { StagedValidators } from './validate.js';

/** The real validators: the formula engine's, the checkpoint parser, the store's TOML checks. */
export async function stagedValidators(
  root: string,
  now: () => Date = () => new Date(),
): Promise<StagedValidators> {
  const [formula, checkpoint, toml, config, check, layout, io, molecules] = await Promise.all([
    import('../formula/index.js'),
    import('../checkpoint/file.js'),
    import('../store/toml.js'),
    import('../store/config.js'),
    import('../store/check.js'),
    import('../store/layout.js'),
    import('../engine/io.js'),
    import('../engine/molecules.js'),
  ]);
  const lib = formula.createFileLibrary(formula.formulaSearchDirs(root));
  return {
    formula: (file, text) =>
      formula
        .validateFormulaFile(file, text, lib)
        .filter((d) => d.severity === 'error')
        .map((d) => ({
          file: d.file || file,
          path: d.path,
          ...(d.line !== undefined ? { line: d.line } : {}),
          ...(d.column !== undefined ? { column: d.column } : {}),
          message: d.message,
        })),
    checkpoint: (file, text) => void checkpoint.parseCheckpoint(file, text),
    approval: (file, text) => void checkpoint.parseApproval(file, text),
    // The staged files as the engine reads a folder (io.ts), judged as `molecule status` does.
    molecule: async (id, staged) => {
      const files = new io.FolderFiles();
      for (const [rel, f] of staged) {
        if (rel.split('/').some(io.isHiddenName)) continue;
        if ('unreadable' in f) files.unreadable.set(rel, f.unreadable);
        else files.set(rel, f.text);
      }
      const problems = await molecules.verdictProblems(root, id, files, config.loadConfig(root), now());
      return problems.map((p) => ({ file: p.file ?? `.beads/molecules/${id}`, message: p.message }));
    },
    toml: (file, text) => {
      if (file === '.beads/config.toml') return void config.parseConfig(text, file);
      const obj = toml.parseToml(text, file);
      const meta = /^\.beads\/molecules\/([^/]+)\/molecule\.toml$/.exec(file);
      if (meta) {
        const m = check.checkMoleculeMeta(obj, file);
        if (m.id !== meta[1])
          throw new check.FieldError(
            file,
            'id',
            `\`id\` is ${JSON.stringify(m.id)} but the folder is ${JSON.stringify(meta[1])}`,
          );
      }
      // An event file's name is its fact: the fields must say the same (as fold checks them).
      const event = /^\.beads\/molecules\/[^/]+\/events\/([^/]+)$/.exec(file);
      if (event) {
        const name = layout.parseEventName(event[1] as string);
        if (!name)
          throw new GastownError(
            'store.invalid',
            'not an event file name (expected <step>.<attempt>.<kind>.toml or molecule.<kind>.toml)',
            { location: { file } },
          );
        check.checkEvent(obj, file, name.scope === 'step' ? name : { kind: name.kind });
      }
    },
  };
}
