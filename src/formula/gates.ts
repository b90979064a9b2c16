// Step gates: the four kinds we execute (human, command, timer, molecule) are checked strictly and
// given their defaults; any other type (beads' gh:run, gh:pr, mail, bead, Gas Town's conditional)
// is kept verbatim as an ExternalGate and reported as parsed but not executed.
import { optionInjections } from './argv.js';
import { parseDuration } from './duration.js';
import type { CommandGate, Gate, HumanGate, MoleculeGate, TimerGate } from './model.js';
import { patternProblem } from './pattern.js';
import { kindOf } from './schema.js';

export interface GateProblem {
  severity: 'error' | 'warning';
  code: string;
  /** Key path below the gate, e.g. `run[0]`; empty for the gate itself. */
  key: string;
  message: string;
}

export interface NormalizedGate {
  gate?: Gate;
  /** Keys the gate kind does not define: kept on the step's `extra.gate`. */
  unknown: Record<string, unknown>;
  problems: GateProblem[];
  /** Step ids the gate refers to (`on_reject`, `on_fail`), with their key, to check later. */
  stepRefs: { key: string; id: string }[];
}

const HUMAN_KEYS = [
  'type',
  'approvers',
  'min_approvals',
  'prevent_self_approval',
  'timeout',
  'on_timeout',
  'on_reject',
];
const COMMAND_KEYS = [
  'type',
  'run',
  'cwd',
  'env',
  'timeout',
  'exit_codes',
  'results',
  'min_pass_rate',
  'allow_skipped',
  'forbid',
  'max_attempts',
  'on_fail',
  'allow_option_vars',
];
const TIMER_KEYS = ['type', 'timeout'];
const MOLECULE_KEYS = ['type', 'molecule', 'state'];
const RESULT_FORMATS = ['junit', 'vitest', 'jest', 'auto'];

export function normalizeGate(raw: Record<string, unknown>): NormalizedGate {
  const r = new GateReader(raw);
  const type = String(raw.type);
  const known = { human: HUMAN_KEYS, command: COMMAND_KEYS, timer: TIMER_KEYS, molecule: MOLECULE_KEYS }[
    type
  ];
  if (!known) {
    r.problems.push({
      severity: 'warning',
      code: 'formula.gate-not-executed',
      key: 'type',
      message: `gate type "${type}" is parsed, not executed: the step will wait until someone completes it by hand`,
    });
    return { gate: { type, raw: { ...raw } }, unknown: {}, problems: r.problems, stepRefs: r.stepRefs };
  }
  const unknown: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!known.includes(k)) {
      unknown[k] = v;
      r.problems.push({
        severity: 'warning',
        code: 'formula.unknown-key',
        key: k,
        message: `unknown ${type} gate key "${k}" (kept, not used)`,
      });
    }
  }
  const gate =
    type === 'human'
      ? humanGate(r)
      : type === 'command'
        ? commandGate(r)
        : type === 'timer'
          ? timerGate(r)
          : moleculeGate(r);
  return { gate, unknown, problems: r.problems, stepRefs: r.stepRefs };
}

/** Typed reads of a raw gate table's keys; a value of the wrong kind is a problem at its key. */
class GateReader {
  readonly problems: GateProblem[] = [];
  readonly stepRefs: { key: string; id: string }[] = [];

  constructor(readonly raw: Record<string, unknown>) {}

  err(key: string, message: string): void {
    this.problems.push({ severity: 'error', code: 'formula.gate', key, message });
  }

  string(key: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      this.err(key, `expected string, got ${kindOf(v)}`);
      return undefined;
    }
    return v;
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') this.err(key, `expected boolean, got ${kindOf(v)}`);
    return v === true;
  }

  int(key: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.err(key, `expected integer, got ${kindOf(v)}`);
      return dflt;
    }
    if (v < min || v > max)
      this.err(
        key,
        max === Number.MAX_SAFE_INTEGER ? `must be at least ${min}` : `must be between ${min} and ${max}`,
      );
    return v;
  }

  duration(key: string): string | undefined {
    const v = this.string(key);
    if (v !== undefined && parseDuration(v) === undefined) {
      this.err(key, `"${v}" is not a duration (use e.g. 90s, 30m, 2h, 1d)`);
    }
    return v;
  }

  /** A step id, remembered to be checked once the whole graph is known. */
  stepRef(key: string): string | undefined {
    const v = this.string(key);
    if (v !== undefined) this.stepRefs.push({ key, id: v });
    return v;
  }

  stringList(key: string): string[] {
    const v = this.raw[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.err(key, `expected array of strings, got ${kindOf(v)}`);
      return [];
    }
    v.forEach((x, i) => {
      if (typeof x !== 'string') this.err(`${key}[${i}]`, `expected string, got ${kindOf(x)}`);
    });
    return v.filter((x): x is string => typeof x === 'string');
  }

  tables(key: string): Record<string, unknown>[] {
    const v = this.raw[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.err(key, `expected array of tables, got ${kindOf(v)}`);
      return [];
    }
    const out: Record<string, unknown>[] = [];
    v.forEach((x, i) => {
      if (x === null || typeof x !== 'object' || Array.isArray(x))
        this.err(`${key}[${i}]`, `expected table, got ${kindOf(x)}`);
      else out.push(x as Record<string, unknown>);
    });
    return out;
  }
}

function humanGate(r: GateReader): HumanGate {
  const onTimeout = r.string('on_timeout') ?? 'escalate';
  if (!['escalate', 'reject', 'approve'].includes(onTimeout)) {
    r.err('on_timeout', `must be escalate, reject or approve, not "${onTimeout}"`);
  }
  const approvers = r.stringList('approvers');
  approvers.forEach((a, i) => {
    const problem = approverProblem(a);
    if (problem) r.err(`approvers[${i}]`, problem);
  });
  const human: HumanGate = {
    type: 'human',
    approvers,
    min_approvals: r.int('min_approvals', 1, 1),
    prevent_self_approval: r.bool('prevent_self_approval', true),
    on_timeout: onTimeout as HumanGate['on_timeout'],
  };
  const timeout = r.duration('timeout');
  if (timeout !== undefined) human.timeout = timeout;
  const onReject = r.stepRef('on_reject');
  if (onReject !== undefined) human.on_reject = onReject;
  if (
    approvers.length > 0 &&
    human.min_approvals > approvers.length &&
    !approvers.some((a) => a.startsWith('team:'))
  ) {
    r.err(
      'min_approvals',
      `needs ${human.min_approvals} approvals but only ${approvers.length} approvers are listed`,
    );
  }
  return human;
}

function commandGate(r: GateReader): CommandGate {
  const raw = r.raw;
  const run = commandRun(r);
  const env = commandEnv(r);
  const exit_codes = exitCodes(r);
  const results = resultFiles(r);
  const forbid = forbidRules(r);
  const command: CommandGate = {
    type: 'command',
    run,
    env,
    exit_codes,
    results,
    allow_skipped: r.bool('allow_skipped', false),
    forbid,
    max_attempts: r.int('max_attempts', 3, 1),
  };
  const cwd = r.string('cwd');
  if (cwd !== undefined) {
    if (cwd.split(/[\\/]/).includes('..') || cwd.startsWith('/'))
      r.err('cwd', `"${cwd}" must be a relative path inside the repository`);
    command.cwd = cwd;
  }
  const timeout = r.duration('timeout');
  if (timeout !== undefined) command.timeout = timeout;
  if (raw.min_pass_rate !== undefined) {
    const rate = raw.min_pass_rate;
    if (typeof rate !== 'number' || rate < 0 || rate > 100)
      r.err('min_pass_rate', 'must be a number between 0 and 100');
    else {
      command.min_pass_rate = rate;
      if (results.length === 0) r.err('min_pass_rate', 'needs `results` to read the pass rate from');
    }
  }
  const onFail = r.stepRef('on_fail');
  if (onFail !== undefined) command.on_fail = onFail;
  // Only when given: a formula without it keeps the hash it had.
  if (raw.allow_option_vars !== undefined) command.allow_option_vars = r.stringList('allow_option_vars');
  return command;
}

/** `run`: argument arrays, never shell strings. */
function commandRun(r: GateReader): string[][] {
  const runRaw = r.raw.run;
  const run: string[][] = [];
  if (runRaw === undefined)
    r.err('run', 'run is required: a list of commands, each an argument array like ["npm", "test"]');
  else if (!Array.isArray(runRaw) || runRaw.length === 0) {
    r.err('run', 'expected a non-empty array of argument arrays like [["npm", "test"]]');
  } else {
    runRaw.forEach((cmd, i) => {
      if (!Array.isArray(cmd) || cmd.length === 0 || cmd.some((a) => typeof a !== 'string')) {
        r.err(
          `run[${i}]`,
          typeof cmd === 'string'
            ? `commands are argument arrays, never shell strings: write ["${cmd.split(/\s+/).join('", "')}"]`
            : 'expected a non-empty array of strings',
        );
      } else if (cmd[0] === '') r.err(`run[${i}][0]`, 'the program name is empty');
      else run.push(cmd as string[]);
    });
  }
  return run;
}

function commandEnv(r: GateReader): Record<string, string> {
  const envRaw = r.raw.env;
  const env: Record<string, string> = {};
  if (envRaw !== undefined) {
    if (envRaw === null || typeof envRaw !== 'object' || Array.isArray(envRaw))
      r.err('env', `expected table, got ${kindOf(envRaw)}`);
    else {
      for (const [k, v] of Object.entries(envRaw)) {
        if (typeof v !== 'string') r.err(`env.${k}`, `expected string, got ${kindOf(v)}`);
        else env[k] = v;
      }
    }
  }
  return env;
}

function exitCodes(r: GateReader): number[] {
  const exitCodesRaw = r.raw.exit_codes;
  if (exitCodesRaw === undefined) return [0];
  if (
    !Array.isArray(exitCodesRaw) ||
    exitCodesRaw.length === 0 ||
    exitCodesRaw.some((c) => !Number.isInteger(c) || c < 0 || c > 255)
  ) {
    r.err('exit_codes', 'expected a non-empty array of integers between 0 and 255');
    return [0];
  }
  return exitCodesRaw as number[];
}

function resultFiles(r: GateReader): CommandGate['results'] {
  return r.tables('results').flatMap((t, i) => {
    const format = t.format ?? 'auto';
    const path = t.path;
    let ok = true;
    if (typeof format !== 'string' || !RESULT_FORMATS.includes(format)) {
      r.err(`results[${i}].format`, `must be one of ${RESULT_FORMATS.join(', ')}`);
      ok = false;
    }
    if (typeof path !== 'string' || path === '') {
      r.err(`results[${i}].path`, 'path is required: the file the test runner writes');
      ok = false;
    }
    return ok ? [{ format: format as CommandGate['results'][number]['format'], path: path as string }] : [];
  });
}

function forbidRules(r: GateReader): CommandGate['forbid'] {
  return r.tables('forbid').flatMap((f, i) => {
    let ok = true;
    if (typeof f.pattern !== 'string' || f.pattern === '') {
      r.err(`forbid[${i}].pattern`, 'pattern is required: a regular expression');
      ok = false;
    } else {
      const problem = regexProblem(f.pattern);
      if (problem) {
        r.err(`forbid[${i}].pattern`, problem);
        ok = false;
      }
    }
    const paths = f.paths;
    if (!Array.isArray(paths) || paths.length === 0 || paths.some((p) => typeof p !== 'string')) {
      r.err(`forbid[${i}].paths`, 'expected a non-empty array of globs');
      ok = false;
    }
    if (f.message !== undefined && typeof f.message !== 'string') {
      r.err(`forbid[${i}].message`, `expected string, got ${kindOf(f.message)}`);
      ok = false;
    }
    if (!ok) return [];
    const entry: CommandGate['forbid'][number] = { pattern: f.pattern as string, paths: paths as string[] };
    if (typeof f.message === 'string') entry.message = f.message;
    return [entry];
  });
}

function timerGate(r: GateReader): TimerGate {
  const timeout = r.duration('timeout');
  if (timeout === undefined && r.raw.timeout === undefined)
    r.err('timeout', 'timeout is required for a timer gate');
  return { type: 'timer', timeout: timeout ?? '' };
}

function moleculeGate(r: GateReader): MoleculeGate {
  const molecule = r.string('molecule');
  if (molecule === undefined && r.raw.molecule === undefined)
    r.err('molecule', 'molecule is required: the id of the molecule to wait for');
  const state = r.string('state') ?? 'completed';
  if (state !== 'completed') r.err('state', `only "completed" is supported, not "${state}"`);
  return { type: 'molecule', molecule: molecule ?? '', state: 'completed' };
}

const PLACEHOLDER = /\{\{\s*[A-Za-z_][A-Za-z0-9_-]*\s*\}\}/;

/** Why an approver entry is not usable; placeholders are checked after cooking. */
export function approverProblem(a: string): string | undefined {
  if (PLACEHOLDER.test(a)) return undefined;
  if (/^(@[\w.-]+|team:[\w.-]+|[\w.+-]+@[\w.-]+)$/.test(a)) return undefined;
  return `"${a}" is not a user (@name), a team (team:name) or an email`;
}

function regexProblem(pattern: string): string | undefined {
  if (PLACEHOLDER.test(pattern)) return undefined;
  return patternProblem(pattern);
}

/**
 * The gate with `{{var}}` replaced in every string a person or the engine will use (approvers,
 * each run argument as a whole, cwd, env values, result paths, forbid patterns and globs, the
 * molecule id), and the checks that had to wait for the values.
 */
export function cookGate(
  gate: Gate,
  sub: (s: string) => string,
): { gate: Gate; problems: { key: string; message: string }[] } {
  const problems: { key: string; message: string }[] = [];
  if (gate.type === 'human') {
    const g = gate as HumanGate;
    const approvers = g.approvers.map(sub);
    approvers.forEach((a, i) => {
      const p = approverProblem(a) ?? (PLACEHOLDER.test(a) ? `"${a}" has no value` : undefined);
      if (p) problems.push({ key: `approvers[${i}]`, message: p });
    });
    return { gate: { ...g, approvers }, problems };
  }
  if (gate.type === 'command') {
    const g = gate as CommandGate;
    const out: CommandGate = {
      ...g,
      run: g.run.map((cmd) => cmd.map(sub)),
      env: Object.fromEntries(Object.entries(g.env).map(([k, v]) => [k, sub(v)])),
      results: g.results.map((r) => ({ ...r, path: sub(r.path) })),
      forbid: g.forbid.map((f) => ({ ...f, pattern: sub(f.pattern), paths: f.paths.map(sub) })),
    };
    if (g.cwd !== undefined) out.cwd = sub(g.cwd);
    problems.push(...optionInjections(g.run, sub, g.allow_option_vars));
    out.run.forEach((cmd, i) => {
      if (cmd[0] === '')
        problems.push({ key: `run[${i}][0]`, message: 'the program name is empty after substitution' });
    });
    out.forbid.forEach((f, i) => {
      const p = regexProblem(f.pattern);
      if (p) problems.push({ key: `forbid[${i}].pattern`, message: p });
    });
    if (out.cwd !== undefined && (out.cwd.split(/[\\/]/).includes('..') || out.cwd.startsWith('/'))) {
      problems.push({ key: 'cwd', message: `"${out.cwd}" must be a relative path inside the repository` });
    }
    return { gate: out, problems };
  }
  if (gate.type === 'molecule') {
    const g = gate as MoleculeGate;
    return { gate: { ...g, molecule: sub(g.molecule) }, problems };
  }
  return { gate, problems };
}
