// `{{var}}` substitution (src/formula/vars.ts) inside each command-line element. The element stays
// one argument: a value such as `; rm -rf /` becomes literal text of that argument, never shell
// syntax, because commands run from argument arrays without a shell.
import { substituteVars } from '../formula/vars.js';

/** Substitutes every element of an argument array; the array keeps its length. */
export function substituteArgv(argv: readonly string[], vars: Readonly<Record<string, string>>): string[] {
  return argv.map((element) => substituteVars(element, vars));
}

/** How a command is shown in reports: shell-like quoting for reading only, never for running. */
export function displayArgv(argv: readonly string[]): string {
  return argv
    .map((a) => (a !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`))
    .join(' ');
}
