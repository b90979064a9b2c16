// The command being run: its environment and working folder, and the memos that must not outlive
// it. A CLI process runs one command, so these are process.env and process.cwd(); the CLI runner
// (src/cli/run.ts) opens a scope per call, so tests that run many commands in one process get
// what a fresh process would. Import-free: main.ts loads it at start.

interface Scope {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

let current: Scope | undefined;
const clears: (() => void)[] = [];

/** The running command's environment: what library code reads instead of process.env. */
export function commandEnv(): NodeJS.ProcessEnv {
  return current?.env ?? process.env;
}

/** The running command's working folder: what library code resolves against instead of process.cwd(). */
export function commandCwd(): string {
  return current?.cwd ?? process.cwd();
}

/**
 * Registers how to forget a module's per-command memo (a fact remembered "within one process",
 * a counter). Every memo that is not keyed by content registers here.
 */
export function onCommandStart(clear: () => void): void {
  clears.push(clear);
}

/** Starts a command: later reads of env and cwd answer with these, and every memo is empty. */
export function openScope(env: NodeJS.ProcessEnv, cwd: string): void {
  current = { env, cwd };
  for (const clear of clears) clear();
}

/** Ends the command opened by openScope. */
export function closeScope(): void {
  current = undefined;
}
