// The one errors module. Library code throws these; only src/cli/main.ts turns them into an
// exit code (it is the only place that calls process.exit).

/** Exit codes shared by every command. */
export const ExitCode = {
  ok: 0,
  /** The command ran and found a problem: invalid formula, failed check, conflict. */
  failure: 1,
  /** The command was called wrongly: unknown flag, missing argument, bad id. */
  usage: 2,
  /** Another gastown process holds the lock. */
  busy: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorLocation {
  /** File the problem is in, relative to the repository root where possible. */
  file?: string;
  /** Key path inside the file, e.g. `steps[3].needs[0]`. */
  path?: string;
  line?: number;
  column?: number;
}

export class GastownError extends Error {
  readonly exitCode: ExitCode;
  readonly location: ErrorLocation;
  /** Stable machine-readable code, e.g. `formula.cycle`, `store.locked`. */
  readonly code: string;

  constructor(
    code: string,
    message: string,
    options: { exitCode?: ExitCode; location?: ErrorLocation; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GastownError';
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.location = options.location ?? {};
  }

  /** `file:line: path: message`, the form every error is printed in. */
  override toString(): string {
    return formatLocated(this.location, this.message);
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.location };
  }
}

export class UsageError extends GastownError {
  constructor(message: string, location?: ErrorLocation) {
    super('usage', message, { exitCode: ExitCode.usage, ...(location ? { location } : {}) });
  }
}

/** Formats `file:line:col: path: message`, leaving out the parts that are unknown. */
export function formatLocated(location: ErrorLocation, message: string): string {
  let where = location.file ?? '';
  if (location.file && location.line !== undefined) {
    where += `:${location.line}`;
    if (location.column !== undefined) where += `:${location.column}`;
  }
  const parts = [where, location.path, message].filter((p): p is string => Boolean(p));
  return parts.join(': ');
}

export function isGastownError(err: unknown): err is GastownError {
  return err instanceof GastownError;
}
