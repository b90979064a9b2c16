// Argv shapes answered before commander and the command table load: what hooks, prompts,
// dashboards and pre-commit run over and over, where compiling commander and the table is a
// large share of the run. Each shortcut names its command words, how many operands it takes and
// the options it reads; any other shape (help, `--for=x`, an option it does not read, a global
// option first) returns undefined and takes the full path through program.ts. The options read
// here must mean what the command table says they mean: test/cli/shortcuts.test.ts holds every
// shortcut to the table.
import type { CliContext } from './context.js';

/** An option a shortcut reads: its attribute, whether it takes a value, and `--no-x` as false. */
export interface PlainOption {
  key: string;
  value: boolean;
  negate?: boolean;
}

export type PlainFlags = Record<string, string | boolean>;

export interface Shortcut {
  /** The command words, each with its aliases: [['molecule', 'mol'], ['status']]. */
  words: readonly (readonly string[])[];
  /** How many operands: at least, at most. */
  operands: readonly [number, number];
  options: Readonly<Record<string, PlainOption>>;
  /** The command's exit code, or undefined to take the full path after all. */
  run(ctx: CliContext, operands: string[], flags: PlainFlags): Promise<number | undefined>;
}

const json: Record<string, PlainOption> = { '--json': { key: 'json', value: false } };
const who: Record<string, PlainOption> = {
  '--for': { key: 'for', value: true },
  '--as': { key: 'as', value: true },
};
const forAgent: Record<string, PlainOption> = { '--for': { key: 'for', value: true } };

const molecule = () => import('./commands/molecule.js');
const mail = () => import('./commands/mail.js');

/** The hidden entry point the installed hook runner calls on every commit, checkout and merge. */
export const HOOK_SHORTCUT: Shortcut = {
  words: [['hook']],
  operands: [1, Number.POSITIVE_INFINITY],
  options: {},
  run: async (ctx, [name, ...args]) => (await import('./commands/hook.js')).hook(ctx, name as string, args),
};

export const SHORTCUTS: readonly Shortcut[] = [
  HOOK_SHORTCUT,
  {
    // Most often nothing to do; anything the quiet check cannot vouch for takes the full path.
    words: [['advance']],
    operands: [0, 0],
    options: json,
    run: async (ctx, _, flags) =>
      (await import('./commands/advance.js')).quietAdvance(ctx, { json: !!flags.json }),
  },
  {
    words: [['molecule', 'mol'], ['status']],
    operands: [1, 1],
    options: json,
    run: async (ctx, [id], flags) => (await molecule()).status(ctx, id as string, flags),
  },
  {
    words: [['molecule', 'mol'], ['list']],
    operands: [0, 0],
    options: json,
    run: async (ctx, _, flags) => (await molecule()).list(ctx, flags),
  },
  {
    words: [['molecule', 'mol'], ['current']],
    operands: [0, 1],
    options: { ...forAgent, '--full': { key: 'full', value: false }, ...json },
    run: async (ctx, [id], flags) => (await molecule()).current(ctx, id, flags),
  },
  {
    words: [['prime']],
    operands: [0, 0],
    options: { ...forAgent, ...json },
    run: async (ctx, _, flags) => (await import('./commands/desk.js')).prime(ctx, flags),
  },
  {
    words: [['mail'], ['inbox']],
    operands: [0, 0],
    options: {
      ...who,
      '--unread': { key: 'unread', value: false },
      '--all': { key: 'all', value: false },
      ...json,
    },
    run: async (ctx, _, flags) => (await mail()).inbox(ctx, flags),
  },
  {
    words: [['mail'], ['check']],
    operands: [0, 0],
    options: { ...who, ...json },
    run: async (ctx, _, flags) => (await mail()).check(ctx, flags),
  },
  {
    words: [['convoy'], ['show']],
    operands: [1, 1],
    options: json,
    run: async (ctx, [id], flags) => (await import('./commands/convoy.js')).show(ctx, id as string, flags),
  },
  {
    words: [['patrol']],
    operands: [0, 0],
    options: { '--no-commit': { key: 'commit', value: false, negate: true }, ...json },
    run: async (ctx, _, flags) => (await import('./commands/patrol.js')).patrol(ctx, flags),
  },
  {
    // CI runs it on every pull request.
    words: [['verify']],
    operands: [0, 0],
    options: { '--base': { key: 'base', value: true }, ...json },
    run: async (ctx, _, flags) => (await import('./commands/audit.js')).verifyCommand(ctx, flags),
  },
  {
    // Pre-commit runs it over whole folders.
    words: [['formula'], ['validate']],
    operands: [1, Number.POSITIVE_INFINITY],
    options: json,
    run: async (ctx, refs, flags) => (await import('./commands/formula.js')).validate(ctx, refs, flags),
  },
];

export interface ShortcutCall {
  shortcut: Shortcut;
  operands: string[];
  flags: PlainFlags;
}

/** The shortcut `args` is a plain call of, with its operands and flags; undefined for any other shape. */
export function shortcutCall(args: readonly string[]): ShortcutCall | undefined {
  const shortcut = SHORTCUTS.find((s) => s.words.every((names, i) => names.includes(args[i] as string)));
  if (!shortcut) return undefined;
  const flags: PlainFlags = {};
  const operands: string[] = [];
  for (let i = shortcut.words.length; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('-')) {
      operands.push(arg);
      continue;
    }
    const option = Object.hasOwn(shortcut.options, arg) ? shortcut.options[arg] : undefined;
    if (!option) return undefined;
    if (!option.value) flags[option.key] = !option.negate;
    else {
      const value = args[++i];
      if (value === undefined || value.startsWith('-')) return undefined;
      flags[option.key] = value;
    }
  }
  const [least, most] = shortcut.operands;
  if (operands.length < least || operands.length > most) return undefined;
  return { shortcut, operands, flags };
}
