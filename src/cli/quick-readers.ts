// `gastown molecule status|list|current` and `gastown prime` with plain options, answered without
// commander and the command table: what agents run most, and what the caches answer without the
// engine. Any other
// shape (help, `--for=x`, an unknown option, a global option first) takes the full path. The
// options read here are the ones src/cli/table/molecule.ts and desk.ts define;
// test/cli/quick-readers.test.ts keeps them in step.

export type QuickReaderCommand = 'status' | 'list' | 'current' | 'prime';

/** The options each command takes: flag → attribute, and whether it takes a value. */
export const QUICK_READER_OPTIONS: Record<
  QuickReaderCommand,
  Record<string, { key: string; value: boolean }>
> = {
  status: { '--json': { key: 'json', value: false } },
  list: { '--json': { key: 'json', value: false } },
  current: {
    '--for': { key: 'for', value: true },
    '--full': { key: 'full', value: false },
    '--json': { key: 'json', value: false },
  },
  prime: {
    '--for': { key: 'for', value: true },
    '--json': { key: 'json', value: false },
  },
};

/** How many arguments each takes: [required, at most]. */
const ARGUMENTS: Record<QuickReaderCommand, [number, number]> = {
  status: [1, 1],
  list: [0, 0],
  current: [0, 1],
  prime: [0, 0],
};

export function quickReaderCall(
  args: readonly string[],
): { command: QuickReaderCommand; args: string[]; flags: Record<string, string | boolean> } | undefined {
  const prime = args[0] === 'prime';
  const command = prime ? 'prime' : args[1];
  if (!prime && args[0] !== 'molecule' && args[0] !== 'mol') return undefined;
  if (command === undefined || (!prime && command === 'prime') || !Object.hasOwn(ARGUMENTS, command))
    return undefined;
  const name = command as QuickReaderCommand;
  const known = QUICK_READER_OPTIONS[name];
  const flags: Record<string, string | boolean> = {};
  const positional: string[] = [];
  for (let i = prime ? 1 : 2; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    const option = Object.hasOwn(known, arg) ? known[arg] : undefined;
    if (!option) return undefined;
    if (!option.value) flags[option.key] = true;
    else {
      const value = args[++i];
      if (value === undefined || value.startsWith('-')) return undefined;
      flags[option.key] = value;
    }
  }
  const [least, most] = ARGUMENTS[name];
  if (positional.length < least || positional.length > most) return undefined;
  return { command: name, args: positional, flags };
}
