// What every command receives: where it runs, how to print, and the injected clock/env.
// Kept tiny because it is loaded on every start.
import { fstatSync, writeSync } from 'node:fs';
import { InjectedDate, ignoredClock, testClockOn } from '../clock.js';
import { type ErrorLocation, formatLocated, UsageError } from '../errors.js';

export interface Output {
  /** Normal output on stdout. */
  out(line: string): void;
  /** Warnings and progress on stderr. */
  err(line: string): void;
  /** Prints a value as pretty JSON on stdout. */
  json(value: unknown): void;
  /** Text on stdout exactly as given (a CSV or Markdown document ends its own lines). */
  write(text: string): void;
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

/** Where a command's output goes: the process's descriptors, or a caller's buffers (src/cli/run.ts). */
export type Sink = (fd: 1 | 2, text: string) => void;

export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  io: Output;
  /** Raw output for what prints whole documents or help text (commander, traces). */
  write: Sink;
  /** Whether stderr is a terminal: false when a caller keeps the output. */
  isTTY(): boolean;
  /** Injected clock: tests, and `GASTOWN_NOW` under the test switch (src/clock.ts), may fix it. */
  now(): Date;
  /** What the process exits with; commands set it, only main.ts exits. */
  exitCode: number;
}

/**
 * Colour only on a TTY and never when NO_COLOR is set (https://no-color.org). The environment
 * is consulted first, so with NO_COLOR or FORCE_COLOR set no terminal module is loaded.
 */
export function useColor(isTTY: () => boolean, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return env.TERM !== 'dumb' && isTTY();
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

/**
 * Writes to stdout (1) or stderr (2) without `process.stdout`/`process.stderr`: creating those
 * streams loads node's stream machinery, ~3 ms of every start-up, and a writeSync is what they
 * do for files and pipes on Linux anyway. A reader that went away (EPIPE: `gastown … | head`)
 * is its choice, not our error: later output to that descriptor is dropped and the command
 * finishes what it was doing (a half-applied `advance` because `head` exited would be worse).
 * A non-blocking descriptor that is full (EAGAIN) hands what is left of this and all later
 * output to the stream, which queues it, so the order of bytes is kept.
 */
export function writeOutput(fd: 1 | 2, text: string): void {
  const state = outputs[fd];
  if (state === 'closed') return;
  if (state === 'stream') {
    (fd === 1 ? process.stdout : process.stderr).write(text);
    return;
  }
  let rest = Buffer.from(text);
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(fd, rest));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') outputs[fd] = 'closed';
    else if (code === 'EAGAIN') {
      outputs[fd] = 'stream';
      const stream = fd === 1 ? process.stdout : process.stderr;
      stream.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE') throw e;
      });
      stream.write(rest);
    } else throw err;
  }
}
const outputs: Record<1 | 2, 'sync' | 'stream' | 'closed'> = { 1: 'sync', 2: 'sync' };

/**
 * isatty(2). A terminal is a character device, so a pipe or a file is told apart with one fstat:
 * node:tty loads net and the stream machinery (~4 ms), which `prime` into a pipe then never pays.
 */
function stderrIsTerminal(): boolean {
  try {
    if (!fstatSync(2).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return (process.getBuiltinModule('node:tty') as typeof import('node:tty')).isatty(2);
}

export function createContext(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  write: Sink = writeOutput,
  isTTY: () => boolean = stderrIsTerminal,
): CliContext {
  let colors: Colors | undefined;
  // Decided on first use: most runs print no colour at all.
  const color = (): Colors => (colors ??= makeColors(useColor(isTTY, env)));
  const io: Output = {
    out: (line) => write(1, `${line}\n`),
    err: (line) => write(2, `${line}\n`),
    json: (value) => write(1, `${JSON.stringify(value, null, 2)}\n`),
    write: (text) => write(1, text),
    warn: (message, location) =>
      write(2, `${color().yellow('warning')}: ${formatLocated(location ?? {}, message)}\n`),
    get color() {
      return color();
    },
  };
  const fixed = env.GASTOWN_NOW && testClockOn(env) ? new InjectedDate(env.GASTOWN_NOW) : undefined;
  const ignored = ignoredClock(env);
  if (ignored) io.warn(ignored);
  if (fixed && Number.isNaN(fixed.getTime()))
    throw new UsageError(
      `GASTOWN_NOW ${JSON.stringify(env.GASTOWN_NOW)} is not a date (use an ISO 8601 time such as 2026-01-06T09:00:00Z)`,
    );
  return { cwd, env, io, write, isTTY, now: () => fixed ?? new Date(), exitCode: 0 };
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
