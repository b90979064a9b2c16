// The real validators for `.beads/` files, wired from their owners: the formula engine, the
// checkpoint parser, the store's config and state checks. Loaded lazily (pre-commit and doctor).
import { GastownError } from '../errors.js';
import type { StagedValidators } from './validate.js';

/** The real validators: the formula engine's, the checkpoint parser, the store's TOML checks. */
export async function stagedValidators(root: string): Promise<StagedValidators> {
  const [formula, checkpoint, toml, config, check, layout] = await Promise.all([
    import('../formula/index.js'),
    import('../checkpoint/file.js'),
    import('../store/toml.js'),
    import('../store/config.js'),
    import('../store/check.js'),
    import('../store/layout.js'),
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
