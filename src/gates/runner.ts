// The automated gate: run a CommandGate's commands (argument arrays, no shell), read the test
// runner's machine output, scan for forbidden patterns, and decide. Running is the edge;
// `judgeGate` is the pure decision over what was seen.
import { once } from 'node:events';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { optionInjections } from '../formula/argv.js';
import type { CommandGate } from '../formula/model.js';
import { substituteVars } from '../formula/vars.js';
import { hashHex } from '../hash.js';
import { commandEnv } from '../scope.js';
import { durationMs, formatDuration } from './duration.js';
import { type ForbiddenHit, scanForbidden } from './forbid.js';
import { type ParsedResults, parseResults, ResultsFormatError, type TestCounts } from './results.js';
import { displayArgv, substituteArgv } from './template.js';

export interface CommandRun {
  argv: string[];
  /** Working directory relative to the repository root (`.` for the root). */
  cwd: string;
  exitCode?: number;
  ok: boolean;
  /** Why it did not pass: not found, timed out, exit code not allowed. */
  problem?: string;
  /** The last lines of stdout and stderr, interleaved. */
  output: string;
}

export interface ResultsRead {
  path: string;
  format: string;
  parsed?: ParsedResults;
  error?: string;
  /** The file existed before the commands ran and they did not change it. */
  unchanged?: boolean;
}

export interface GateTotals extends TestCounts {
  /** passed / (total - skipped) in percent; undefined when no test ran. */
  pass_rate?: number;
}

export interface GateOutcome {
  step: string;
  attempt: number;
  verdict: 'pass' | 'fail';
  reasons: string[];
  commands: CommandRun[];
  results: ResultsRead[];
  totals?: GateTotals;
  min_pass_rate?: number;
  allow_skipped: boolean;
  forbidden: ForbiddenHit[];
  /** Problems with the gate's own setup (cwd outside the repository, bad pattern). */
  errors: string[];
}

export interface RunGateOptions {
  /** Repository root; the gate's cwd is resolved against it and may not leave it. */
  root: string;
  step: string;
  attempt: number;
  /** Values for `{{name}}` in commands, cwd and env (molecule vars plus built-ins). */
  vars?: Readonly<Record<string, string>>;
  /** Base environment of the commands (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Limit per command when the gate sets none. */
  defaultTimeoutMs?: number;
  /** Stops the command running and runs no more (the caller records nothing then). */
  signal?: AbortSignal;
}

const OUTPUT_TAIL_LINES = 40;
const OUTPUT_TAIL_BYTES = 6000;

/** Resolves the gate's cwd inside the repository, or says why it cannot. */
export function resolveGateCwd(
  root: string,
  cwd: string | undefined,
): { path: string; rel: string } | { error: string } {
  const wanted = cwd ?? '.';
  if (isAbsolute(wanted)) return { error: `gate cwd \`${wanted}\` must be relative to the repository root` };
  const realRoot = realpathSync(root);
  const full = resolve(realRoot, wanted);
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    return { error: `gate cwd \`${wanted}\` does not exist` };
  }
  if (real !== realRoot && !real.startsWith(realRoot + sep))
    return { error: `gate cwd \`${wanted}\` leaves the repository` };
  const rel = relative(realRoot, real).split(sep).join('/');
  return { path: real, rel: rel === '' ? '.' : rel };
}

function hashFile(path: string): string | undefined {
  try {
    return hashHex('sha256', readFileSync(path));
  } catch {
    return undefined;
  }
}

function tail(text: string): string {
  const plain = text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').trimEnd();
  let lines = plain.split('\n');
  if (lines.length > OUTPUT_TAIL_LINES) lines = lines.slice(-OUTPUT_TAIL_LINES);
  let out = lines.join('\n');
  if (out.length > OUTPUT_TAIL_BYTES) out = out.slice(-OUTPUT_TAIL_BYTES);
  return out;
}

export async function runCommandGate(gate: CommandGate, opts: RunGateOptions): Promise<GateOutcome> {
  const vars = opts.vars ?? {};
  const errors: string[] = [];
  const commands: CommandRun[] = [];
  let results: ResultsRead[] = [];
  let forbidden: ForbiddenHit[] = [];
  const place = resolveGateCwd(
    opts.root,
    gate.cwd === undefined ? undefined : substituteVars(gate.cwd, vars),
  );
  if ('error' in place) errors.push(place.error);
  else {
    const plan = planRun(gate, opts, vars, place, errors);
    if (errors.length === 0) {
      const { execa } = await import('execa');
      for (const raw of gate.run) {
        if (opts.signal?.aborted) break;
        commands.push(await runOne(execa, gate, substituteArgv(raw, vars), place, plan, opts.signal));
      }
      results = plan.resultPaths.map((r) => readResultsFile(r, place.path, plan.before.get(r.full)));
      const scan = scanForbidden(place.path, gate.forbid);
      forbidden = scan.hits;
      errors.push(...scan.errors);
    }
  }
  return outcomeOf(gate, opts, { gate, commands, results, forbidden, errors });
}

type GatePlace = { path: string; rel: string };
type Execa = typeof import('execa').execa;

/** What the commands run with, worked out before any runs; problems go to `errors`. */
interface RunPlan {
  env: Record<string, string>;
  timeoutMs: number | undefined;
  resultPaths: (CommandGate['results'][number] & { full: string })[];
  /** Each results file's hash before the commands ran, to tell a stale file. */
  before: Map<string, string | undefined>;
}

function planRun(
  gate: CommandGate,
  opts: RunGateOptions,
  vars: Readonly<Record<string, string>>,
  place: GatePlace,
  errors: string[],
): RunPlan {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env ?? commandEnv())) if (v !== undefined) env[k] = v;
  for (const [k, v] of Object.entries(gate.env)) env[k] = substituteVars(v, vars);
  const timeoutText = gate.timeout;
  const timeoutMs = timeoutText === undefined ? opts.defaultTimeoutMs : durationMs(timeoutText);
  if (timeoutText !== undefined && timeoutMs === undefined)
    errors.push(`gate timeout \`${timeoutText}\` is not a duration`);

  const resultPaths = gate.results.map((r) => ({
    ...r,
    full: resolve(place.path, substituteVars(r.path, vars)),
  }));
  for (const r of resultPaths) {
    if (!r.full.startsWith(place.path + sep) && r.full !== place.path)
      errors.push(`results path \`${r.path}\` leaves the gate's directory`);
  }
  const before = new Map(resultPaths.map((r) => [r.full, hashFile(r.full)]));

  // A value that would become an option refuses the gate before anything runs. Cooking
  // refused such vars already; this holds for what is substituted only now (molecule.toml).
  for (const p of optionInjections(gate.run, (t) => substituteVars(t, vars), gate.allow_option_vars))
    errors.push(`${p.key}: ${p.message}`);
  return { env, timeoutMs, resultPaths, before };
}

/** One command run to its end (or its timeout, or the stop signal). */
async function runOne(
  execa: Execa,
  gate: CommandGate,
  argv: string[],
  place: GatePlace,
  plan: RunPlan,
  signal: AbortSignal | undefined,
): Promise<CommandRun> {
  const run: CommandRun = { argv, cwd: place.rel, ok: false, output: '' };
  const [file, ...args] = argv;
  if (file === undefined || file === '') {
    run.problem = 'empty command';
    return run;
  }
  const { timeoutMs } = plan;
  const subprocess = execa(file, args, {
    cwd: place.path,
    env: plan.env,
    extendEnv: false,
    reject: false,
    all: true,
    stdin: 'ignore',
    shell: false,
    windowsHide: true,
    cancelSignal: signal,
    ...(timeoutMs !== undefined ? { timeout: timeoutMs, forceKillAfterDelay: 2000 } : {}),
  });
  const r = await subprocess;
  // A cancelled command is signalled, not waited for: wait, so it does not outlive the stop.
  if (r.isCanceled && subprocess.exitCode === null && subprocess.signalCode === null)
    await once(subprocess, 'exit');
  run.output = tail(String(r.all ?? ''));
  if (r.exitCode !== undefined) run.exitCode = r.exitCode;
  const code = (r as { code?: string }).code;
  if (r.timedOut) run.problem = `timed out after ${formatDuration(timeoutMs ?? 0)}`;
  else if (code === 'ENOENT' || (r.exitCode === undefined && /ENOENT/.test(r.shortMessage ?? '')))
    run.problem = `command not found: ${file}`;
  else if (code === 'EACCES') run.problem = `command is not executable: ${file}`;
  else if (r.exitCode === undefined) run.problem = `could not run: ${r.shortMessage ?? 'unknown error'}`;
  else if (!gate.exit_codes.includes(r.exitCode))
    run.problem = `exited ${r.exitCode} (allowed: ${gate.exit_codes.join(', ')})`;
  run.ok = run.problem === undefined;
  return run;
}

/** A results file read after the commands ran; `hashBefore` tells whether they changed it. */
function readResultsFile(
  r: RunPlan['resultPaths'][number],
  root: string,
  hashBefore: string | undefined,
): ResultsRead {
  const read: ResultsRead = { path: relative(root, r.full).split(sep).join('/'), format: r.format };
  if (!existsSync(r.full)) {
    read.error = 'not found: the commands did not write it';
    return read;
  }
  const hash = hashFile(r.full);
  if (hash !== undefined && hashBefore === hash) read.unchanged = true;
  try {
    read.parsed = parseResults(readFileSync(r.full, 'utf8'), r.format);
  } catch (err) {
    if (err instanceof ResultsFormatError) read.error = err.message;
    else throw err;
  }
  return read;
}

function outcomeOf(
  gate: CommandGate,
  opts: RunGateOptions,
  seen: GateObservations & {
    commands: CommandRun[];
    results: ResultsRead[];
    forbidden: ForbiddenHit[];
    errors: string[];
  },
): GateOutcome {
  const judged = judgeGate(seen);
  const outcome: GateOutcome = {
    step: opts.step,
    attempt: opts.attempt,
    verdict: judged.verdict,
    reasons: judged.reasons,
    commands: seen.commands,
    results: seen.results,
    allow_skipped: gate.allow_skipped,
    forbidden: seen.forbidden,
    errors: seen.errors,
  };
  if (judged.totals) outcome.totals = judged.totals;
  if (judged.min_pass_rate !== undefined) outcome.min_pass_rate = judged.min_pass_rate;
  return outcome;
}

export interface GateObservations {
  gate: Pick<CommandGate, 'results' | 'min_pass_rate' | 'allow_skipped'>;
  commands: readonly CommandRun[];
  results: readonly ResultsRead[];
  forbidden: readonly ForbiddenHit[];
  errors: readonly string[];
}

/**
 * A percentage to one decimal for display and the report's front matter, rounded to nearest (2 of
 * 3 is 66.7), except that a rate under a bar (100, the required rate) never reads as reaching it:
 * 99.96 is 99.9, not 100.
 */
export function roundRate(rate: number, ...bars: readonly (number | undefined)[]): number {
  const near = Math.round(rate * 10) / 10;
  for (const bar of [100, ...bars])
    if (bar !== undefined && rate < bar && near >= bar) return Math.floor(rate * 10) / 10;
  return near;
}

/**
 * The verdict from what was seen. A gate passes when every command exited with an allowed
 * code, every results file was read, the pass rate reaches `min_pass_rate` (100 when results
 * are configured and no rate is given), no test was skipped unless `allow_skipped`, and no
 * forbidden pattern matched.
 */
export function judgeGate(o: GateObservations): {
  verdict: 'pass' | 'fail';
  reasons: string[];
  totals?: GateTotals;
  min_pass_rate?: number;
} {
  const reasons: string[] = [...o.errors];
  o.commands.forEach((c, i) => {
    if (!c.ok) reasons.push(`command ${i + 1} \`${displayArgv(c.argv)}\`: ${c.problem ?? 'failed'}`);
  });
  for (const r of o.results) if (r.error) reasons.push(`results file \`${r.path}\`: ${r.error}`);
  const parsed = o.results.flatMap((r) => (r.parsed ? [r.parsed] : []));
  let totals: GateTotals | undefined;
  const minRate = o.gate.min_pass_rate ?? (o.gate.results.length > 0 ? 100 : undefined);
  if (parsed.length > 0) {
    totals = { total: 0, passed: 0, failed: 0, skipped: 0 };
    for (const p of parsed) {
      totals.total += p.total;
      totals.passed += p.passed;
      totals.failed += p.failed;
      totals.skipped += p.skipped;
    }
    const executed = totals.total - totals.skipped;
    if (executed > 0) totals.pass_rate = (totals.passed / executed) * 100;
    if (minRate !== undefined) {
      if (totals.pass_rate === undefined) reasons.push('no test ran');
      else if (totals.pass_rate < minRate) {
        reasons.push(
          `pass rate ${roundRate(totals.pass_rate, minRate)}% is below the required ${minRate}% (${totals.failed} of ${executed} failed)`,
        );
      }
    }
    if (totals.skipped > 0 && !o.gate.allow_skipped)
      reasons.push(
        `${totals.skipped} test${totals.skipped === 1 ? '' : 's'} skipped (allow_skipped = false)`,
      );
  } else if (o.gate.min_pass_rate !== undefined && o.gate.results.length === 0) {
    reasons.push('min_pass_rate is set but the gate names no results file to read it from');
  }
  if (o.forbidden.length > 0) {
    const byPattern = new Map<string, number>();
    for (const h of o.forbidden) byPattern.set(h.pattern, (byPattern.get(h.pattern) ?? 0) + 1);
    for (const [pattern, n] of byPattern)
      reasons.push(`forbidden pattern \`${pattern}\` found ${n} time${n === 1 ? '' : 's'}`);
  }
  const out: { verdict: 'pass' | 'fail'; reasons: string[]; totals?: GateTotals; min_pass_rate?: number } = {
    verdict: reasons.length === 0 ? 'pass' : 'fail',
    reasons,
  };
  if (totals) out.totals = totals;
  if (minRate !== undefined) out.min_pass_rate = minRate;
  return out;
}
