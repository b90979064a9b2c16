// The real validators for `.beads/` files, wired from their owners: the formula engine, the
// checkpoint parser, the store's config and state checks. Loaded lazily (pre-commit and doctor).
import { GastownError } from '../errors.js';
import { SUBMODULE_MODE, SYMLINK_MODE } from '../git/modes.js';
import type { StagedProblem, StagedValidators } from './validate.js';

/** The owners' modules, loaded together on first use so a commit without `.beads/` pays nothing. */
interface Owners {
  formula: typeof import('../formula/index.js');
  checkpoint: typeof import('../checkpoint/file.js');
  toml: typeof import('../store/toml.js');
  config: typeof import('../store/config.js');
  check: typeof import('../store/check.js');
  layout: typeof import('../store/layout.js');
  io: typeof import('../engine/io.js');
  molecules: typeof import('../engine/molecules.js');
  message: typeof import('../mail/message.js');
  frontmatter: typeof import('../checkpoint/frontmatter.js');
}

async function loadOwners(): Promise<Owners> {
  const [formula, checkpoint, toml, config, check, layout, io, molecules, message, frontmatter] =
    await Promise.all([
      import('../formula/index.js'),
      import('../checkpoint/file.js'),
      import('../store/toml.js'),
      import('../store/config.js'),
      import('../store/check.js'),
      import('../store/layout.js'),
      import('../engine/io.js'),
      import('../engine/molecules.js'),
      import('../mail/message.js'),
      import('../checkpoint/frontmatter.js'),
    ]);
  return { formula, checkpoint, toml, config, check, layout, io, molecules, message, frontmatter };
}

/** A formula file's error diagnostics, located as the formula engine reports them. */
function formulaValidator({ formula }: Owners, root: string): StagedValidators['formula'] {
  const lib = formula.createFileLibrary(formula.formulaSearchDirs(root));
  return (file, text) =>
    formula
      .validateFormulaFile(file, text, lib)
      .filter((d) => d.severity === 'error')
      .map((d) => ({
        file: d.file || file,
        path: d.path,
        ...(d.line !== undefined ? { line: d.line } : {}),
        ...(d.column !== undefined ? { column: d.column } : {}),
        message: d.message,
      }));
}

// As the inbox reads a message (mail/message.ts), synchronously: a bad one is named here
// instead of becoming a warning in every reader's inbox.
function mailValidator({ message, frontmatter }: Owners): StagedValidators['mail'] {
  return (file, text) => {
    const id = (file.split('/').pop() as string).slice(0, -'.md'.length);
    const fail = (message: string, path?: string): never => {
      throw new GastownError('mail.invalid', message, { location: { file, ...(path ? { path } : {}) } });
    };
    if (!message.isMessageId(id))
      fail(`${JSON.stringify(id)} is not a message id (a ULID, or an engine message's name)`);
    try {
      const parsed = message.parseMessageFast(text);
      const body = parsed ? parsed.body : frontmatter.parseFrontMatter(text).body;
      if (!parsed) message.checkHeader(frontmatter.parseFrontMatter(text).data);
      message.checkBodySize(body);
    } catch (err) {
      if (err instanceof message.MessageError) fail(err.message, err.field);
      if (err instanceof frontmatter.FrontMatterError)
        fail(err.line === undefined ? err.message : `line ${err.line}: ${err.message}`);
      throw err;
    }
  };
}

// The staged files as the engine reads a folder (io.ts), judged as `molecule status` does.
function moleculeValidator(
  { io, molecules, config }: Owners,
  root: string,
  now: () => Date,
): StagedValidators['molecule'] {
  return async (id, staged) => {
    const files = new io.FolderFiles();
    for (const [rel, f] of staged) {
      if (rel.split('/').some(io.isHiddenName)) continue;
      if ('unreadable' in f) files.unreadable.set(rel, f.unreadable);
      else files.set(rel, f.text);
    }
    const problems = await molecules.verdictProblems(root, id, files, config.loadConfig(root), now());
    return problems.map((p) => ({ file: p.file ?? `.beads/molecules/${id}`, message: p.message }));
  };
}

function tomlValidator({ config, toml, check, layout }: Owners): StagedValidators['toml'] {
  return (file, text) => {
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
        throw new GastownError('store.invalid', layout.eventNameProblem(event[1] as string), {
          location: { file },
        });
      check.checkEvent(obj, file, name.scope === 'step' ? name : { kind: name.kind });
    }
  };
}

/** The real validators: the formula engine's, the checkpoint parser, the store's TOML checks. */
export async function stagedValidators(
  root: string,
  now: () => Date = () => new Date(),
): Promise<StagedValidators> {
  const owners = await loadOwners();
  const { checkpoint } = owners;
  return {
    formula: formulaValidator(owners, root),
    checkpoint: (file, text) => void checkpoint.parseCheckpoint(file, text),
    approval: (file, text) => void checkpoint.parseApproval(file, text),
    mail: mailValidator(owners),
    molecule: moleculeValidator(owners, root, now),
    toml: tomlValidator(owners),
  };
}

/** A staged entry: its index mode (`100644`, `120000` for a symbolic link) and path. */
export interface StagedEntry {
  mode: string;
  path: string;
}

const MODE_KIND: Record<string, string> = {
  [SYMLINK_MODE]: 'a symbolic link',
  [SUBMODULE_MODE]: 'a submodule',
};

/**
 * Staged entries under `.beads/` that are not regular files: a symbolic link (mode 120000) or a
 * submodule (160000). Refused by pre-commit and reported by doctor: gastown never follows a link
 * there, and a link another clone checks out would point wherever its author chose.
 */
export function nonRegularEntries(entries: readonly StagedEntry[]): StagedProblem[] {
  const out: StagedProblem[] = [];
  for (const e of entries) {
    if (!e.path.startsWith('.beads/') || e.mode === '100644' || e.mode === '100755') continue;
    const kind = MODE_KIND[e.mode] ?? `an entry of mode ${e.mode}`;
    out.push({
      file: e.path,
      message: `${kind}, not a regular file: nothing under .beads/ may be a link (gastown never follows one)`,
    });
  }
  return out;
}
