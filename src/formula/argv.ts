// The one rule for vars in a command gate's argument arrays that would turn into options. It
// has no dependencies: the formula engine applies it when cooking, the gate runner again when
// it substitutes what is known only then (gates/runner.ts).

/**
 * Arguments whose leading `-` comes from a substituted value: `["git", "log", "{{x}}"]` with
 * `x = "--output=../pwn"` would hand the program an option (git, curl and tar all have options
 * that write files). Allowed only after a literal `--` element (the end of options), when the
 * element itself starts with a literal `-` (the formula chose the option), or when the var that
 * supplies the first character is listed in `allowed` (the gate's `allow_option_vars`). `run`
 * is as written, `sub` substitutes vars in one element. One problem per refused argument.
 */
export function optionInjections(
  run: readonly (readonly string[])[],
  sub: (s: string) => string,
  allowed: readonly string[] = [],
): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  run.forEach((argv, i) => {
    const end = argv.indexOf('--');
    argv.forEach((raw, j) => {
      if ((end !== -1 && j > end) || raw.startsWith('-') || !sub(raw).startsWith('-')) return;
      // The var that supplies the first character: skip leading placeholders that are empty.
      let rest = raw;
      for (let m = LEADING_PLACEHOLDER.exec(rest); m; m = LEADING_PLACEHOLDER.exec(rest)) {
        const name = m[1] as string;
        const value = sub(m[0]);
        if (value === '') {
          rest = rest.slice(m[0].length);
          continue;
        }
        if (!allowed.includes(name))
          out.push({
            key: `run[${i}][${j}]`,
            message: `{{${name}}} is ${JSON.stringify(value)}, which starts with "-" and would be read as an option; put it after a "--" element or list "${name}" in allow_option_vars`,
          });
        return;
      }
    });
  });
  return out;
}
// Any name a placeholder may have, at cook time or at run time (which allows dots).
const LEADING_PLACEHOLDER = /^\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/;
