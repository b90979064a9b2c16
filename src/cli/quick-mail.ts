// `gastown mail inbox` and `gastown mail check` with plain options, answered without commander and
// the command table: what an agent's prompt hook runs before every prompt. Any other shape (help,
// `--for=x`, an unknown option, a global option first) takes the full path. The options read here
// are the ones src/cli/table/mail.ts defines; test/mail/quick.test.ts keeps the two in step.

export type QuickMailCommand = 'inbox' | 'check';

/** The options each command takes: flag → attribute, and whether it takes a value. */
export const QUICK_MAIL_OPTIONS: Record<QuickMailCommand, Record<string, PlainOption>> = {
  inbox: {
    '--for': { key: 'for', value: true },
    '--as': { key: 'as', value: true },
    '--unread': { key: 'unread', value: false },
    '--all': { key: 'all', value: false },
    '--json': { key: 'json', value: false },
  },
  check: {
    '--for': { key: 'for', value: true },
    '--as': { key: 'as', value: true },
    '--json': { key: 'json', value: false },
  },
};

export function quickMailCall(
  args: readonly string[],
): { command: QuickMailCommand; flags: Record<string, string | boolean> } | undefined {
  const command = args[1];
  if (args[0] !== 'mail' || (command !== 'inbox' && command !== 'check')) return undefined;
  const flags = plainFlags(args, 2, QUICK_MAIL_OPTIONS[command]);
  return flags && { command, flags };
}

/** An option a shortcut reads: its attribute, whether it takes a value, and `--no-x` as false. */
export interface PlainOption {
  key: string;
  value: boolean;
  negate?: boolean;
}

/**
 * The flags of `args` from index `from` on, when every one is an option in `known` (a value
 * option followed by its value); undefined for anything else, which commander then decides.
 */
export function plainFlags(
  args: readonly string[],
  from: number,
  known: Record<string, PlainOption>,
): Record<string, string | boolean> | undefined {
  const flags: Record<string, string | boolean> = {};
  for (let i = from; i < args.length; i++) {
    const option = known[args[i] as string];
    if (!option) return undefined;
    if (!option.value) flags[option.key] = !option.negate;
    else {
      const value = args[++i];
      if (value === undefined || value.startsWith('-')) return undefined;
      flags[option.key] = value;
    }
  }
  return flags;
}
