// The real validators for `.beads/` files, wired from their owners: the formula engine, the
// checkpoint parser, the store's config and state checks. Loaded lazily (pre-commit and doctor).
import type { StagedValidators } from './validate.js';

/** The real validators: the formula engine's, the checkpoint parser, the store's TOML checks. */
export async function stagedValidators(root: string): Promise<StagedValidators> {
  const [formula, checkpoint, toml, config, check] = await Promise.all([
    import('../formula/index.js'),
    import('../checkpoint/file.js'),
    import('../store/toml.js'),
    import('../store/config.js'),
    import('../store/check.js'),
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
    toml: (file, text) => {
      if (file === '.beads/config.toml') return void config.parseConfig(text, file);
      const obj = toml.parseToml(text, file);
      if (/^\.beads\/molecules\/[^/]+\/molecule\.toml$/.test(file)) check.checkMoleculeMeta(obj, file);
    },
  };
}
