// What every command receives: where it runs, how to print, and the injected clock/env.
// Kept tiny because it is loaded on every start.
import { type ErrorLocation, formatLocated } from '../errors.js';

export interface Output {
  /** Normal output on stdout. */
  out(line: string): void;
  /** Warnings and progress on stderr. */
  err(line: string): void;
  /** Prints a value as pretty JSON on stdout. */
  json(value: unknown): void;
  warn(message: string, location?: ErrorLocation): void;
  readonly color: Colors;
}

export interface Colors {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  io: Output;
  /** Injected clock: tests and `GASTOWN_NOW` may fix it. */
  now(): Date;
  /** What the process exits with; commands set it, only main.ts exits. */
  exitCode: number;
}

/** Colour only on a TTY and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

function makeColors(enabled: boolean): Colors {
  const wrap = (open: number, close: number) => (s: string) =>
    enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s;
  return {
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

export function createContext(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): CliContext {
  const color = makeColors(useColor(process.stderr, env));
  const io: Output = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    json: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    warn: (message, location) =>
      process.stderr.write(`${color.yellow('warning')}: ${formatLocated(location ?? {}, message)}\n`),
    color,
  };
  const fixed = env.GASTOWN_NOW ? new Date(env.GASTOWN_NOW) : undefined;
  if (fixed && Number.isNaN(fixed.getTime()))
    throw new Error(`GASTOWN_NOW is not a date: ${env.GASTOWN_NOW}`);
  return { cwd, env, io, now: () => fixed ?? new Date(), exitCode: 0 };
}

/** Collects repeated `--var k=v` flags for commander. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Wraps a lazily imported command implementation for commander. The implementation returns
 * its exit code (or nothing for 0); errors propagate to main.ts.
 */
export function lazy<A extends unknown[]>(
  ctx: CliContext,
  load: () => Promise<(ctx: CliContext, ...args: A) => Promise<number | undefined>>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const run = await load();
    const code = await run(ctx, ...args);
    if (typeof code === 'number' && code > ctx.exitCode) ctx.exitCode = code;
  };
}
