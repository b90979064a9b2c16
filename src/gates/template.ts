// `{{var}}` substitution inside one command-line element. The element stays one argument: a
// value such as `; rm -rf /` becomes literal text of that argument, never shell syntax, because
// commands run from argument arrays without a shell.

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** Replaces known `{{name}}` placeholders; unknown ones are left as they are. */
export function substituteElement(element: string, vars: Readonly<Record<string, string>>): string {
  return element.replace(PLACEHOLDER, (whole, name: string) =>
    Object.hasOwn(vars, name) ? (vars[name] as string) : whole,
  );
}

/** Substitutes every element of an argument array; the array keeps its length. */
export function substituteArgv(argv: readonly string[], vars: Readonly<Record<string, string>>): string[] {
  return argv.map((element) => substituteElement(element, vars));
}

/** How a command is shown in reports: shell-like quoting for reading only, never for running. */
export function displayArgv(argv: readonly string[]): string {
  return argv
    .map((a) => (a !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`))
    .join(' ');
}
