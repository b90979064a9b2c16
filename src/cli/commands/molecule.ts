// `gastown molecule …`: create, status, list, current, cancel, squash, burn.
// The readers (status, list, current) import what they show from the modules that answer from the
// caches; the engine loads only for a molecule judged in full, or for a command that writes.

import type { StepView } from '../../desk/render.js';
import { keepableName, keepOutput, keptOutput, summariesStat } from '../../engine/kept-output.js';
import { listMolecules, moleculeStatus, type StatusJson, statusOf } from '../../engine/molecule-status.js';
import { MOVABLE } from '../../engine/summaries.js';
import type { Transition } from '../../engine/types.js';
import { lookAtMolecules } from '../../engine/views.js';
import { ExitCode } from '../../errors.js';
import { parseVarPairs } from '../../formula/vars.js';
import { stampWindow } from '../../store/cache.js';
import { identityForEmail, loadConfig } from '../../store/config.js';
import { type JournalAnswer, syncJournal } from '../../store/journal.js';
import { findRoot } from '../../store/layout.js';
import { actorOf } from '../actor.js';
import type { CliContext } from '../context.js';

interface CreateFlags {
  formula: string;
  name: string;
  var: string[];
  inputs?: string;
  convoy?: string;
  after?: string;
  assignee?: string;
  owner?: string;
  preset?: string;
  legs?: string;
  force?: boolean;
  json?: boolean;
}

export function parseVars(pairs: string[]): Record<string, string> {
  return parseVarPairs(pairs, '--var');
}

export function printTransitions(ctx: CliContext, transitions: Transition[]): void {
  for (const t of transitions) ctx.io.out(`  ${ctx.io.color.green('→')} ${t.molecule}: ${t.summary}`);
}

/**
 * Who pours a molecule owns it unless `--owner` says otherwise: $GASTOWN_AGENT, else the git
 * user as `[users]`/`[agents]` name them; nobody when neither is known.
 */
async function creator(ctx: CliContext): Promise<string | undefined> {
  const agent = actorOf(ctx, undefined);
  if (agent !== undefined) return agent;
  const root = findRoot(ctx.cwd);
  const { localIdentity } = await import('../../checkpoint/authors.js');
  const ident = await localIdentity(root);
  if (!ident.email) return undefined;
  return identityForEmail(loadConfig(root), ident.email);
}

export async function create(ctx: CliContext, flags: CreateFlags): Promise<number> {
  const legs = flags.legs
    ?.split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  if (flags.owner !== undefined) {
    // The owner gets the molecule's mail: an address the config knows, or the error lists them.
    const { assertAddress } = await import('../../mail/address.js');
    assertAddress(loadConfig(findRoot(ctx.cwd)), flags.owner, '--owner');
  }
  const owner = flags.owner ?? (await creator(ctx));
  const { createMolecule } = await import('../../engine/molecules.js');
  const result = await createMolecule(ctx.cwd, {
    formula: flags.formula,
    name: flags.name,
    vars: parseVars(flags.var ?? []),
    now: ctx.now(),
    cwd: ctx.cwd,
    ...(flags.inputs !== undefined ? { inputsFile: flags.inputs } : {}),
    ...(flags.convoy !== undefined ? { convoy: flags.convoy } : {}),
    ...(flags.after !== undefined ? { after: flags.after } : {}),
    ...(flags.assignee !== undefined ? { assignee: flags.assignee } : {}),
    ...(owner !== undefined ? { owner } : {}),
    ...(flags.preset !== undefined ? { preset: flags.preset } : {}),
    ...(legs !== undefined ? { legs } : {}),
    ...(flags.force ? { keepUnknownVars: true } : {}),
  });
  if (flags.json) {
    ctx.io.json(result);
    return ExitCode.ok;
  }
  ctx.io.out(`created molecule ${result.id} from formula ${result.formula} (${result.dir})`);
  printTransitions(
    ctx,
    result.transitions.filter((t) => t.kind !== 'created'),
  );
  return ExitCode.ok;
}

const MARK: Record<string, string> = {
  done: '✓',
  skipped: '↷',
  failed: '✗',
  in_progress: '▶',
  ready: '●',
  pending: '○',
};

function renderStatus(ctx: CliContext, s: StatusJson): void {
  const c = ctx.io.color;
  const version = s.formula_version !== undefined ? ` v${s.formula_version}` : '';
  const stateColor = s.state === 'completed' ? c.green : s.state === 'active' ? (x: string) => x : c.red;
  ctx.io.out(`${c.bold(s.id)}  (${s.formula}${version})  ${stateColor(s.state)}`);
  const pct = s.progress.total > 0 ? Math.round((100 * s.progress.done) / s.progress.total) : 100;
  ctx.io.out(`Progress: ${s.progress.done}/${s.progress.total} steps (${pct}%)`);
  if (s.convoy) ctx.io.out(`Convoy: ${s.convoy}`);
  if (s.blocked_reason) ctx.io.out(`Blocked: ${s.blocked_reason}`);
  if (s.cancelled) {
    const by = s.cancelled.by ? ` by ${s.cancelled.by}` : '';
    ctx.io.out(`Cancelled${by}${s.cancelled.reason ? `: ${s.cancelled.reason}` : ''}`);
  }
  const byId = new Map(s.steps.map((x) => [x.id, x]));
  const who = (id: string) => {
    const a = byId.get(id)?.assignee;
    return a ? `, ${a}` : '';
  };
  if (s.current.length)
    ctx.io.out(`Current: ${s.current.map((id) => `${id} (in progress${who(id)})`).join(', ')}`);
  if (s.ready.length)
    ctx.io.out(`Ready: ${s.ready.map((id) => `${id}${who(id) ? ` (${who(id).slice(2)})` : ''}`).join(', ')}`);
  ctx.io.out('Steps:');
  const width = Math.max(...s.steps.map((x) => x.id.length), 4);
  for (const step of s.steps) {
    const attempt = step.attempt > 1 ? ` attempt ${step.attempt}` : '';
    const assignee = step.assignee ? `  ${step.assignee}` : '';
    const unmet = step.needs.filter((n) => !['done', 'skipped'].includes(byId.get(n)?.state ?? ''));
    const waits = step.state === 'pending' && unmet.length > 0 ? c.dim(`  needs ${unmet.join(', ')}`) : '';
    const gate = step.gate ? c.dim(`  [gate: ${step.gate}]`) : '';
    ctx.io.out(
      `  ${MARK[step.state] ?? ' '} ${step.id.padEnd(width)}  ${step.state.replace('_', ' ')}${attempt}${assignee}${waits}${gate}`,
    );
    for (const n of step.notes ?? []) ctx.io.out(`      ${c.dim(n)}`);
  }
  for (const conflict of s.conflicts)
    ctx.io.err(`${c.red('conflict')}: ${conflict.file}: ${conflict.message}`);
  for (const p of s.problems)
    ctx.io.err(`${c.red('error')}: ${[p.file, p.path, p.message].filter(Boolean).join(': ')}`);
  if (s.pending_effects > 0)
    ctx.io.out(c.dim(`(${s.pending_effects} change(s) not yet recorded: run \`gastown advance\`)`));
}

export async function status(ctx: CliContext, id: string, flags: { json?: boolean }): Promise<number> {
  const s = await moleculeStatus(ctx.cwd, id, ctx.now());
  if (flags.json) ctx.io.json(s);
  else renderStatus(ctx, s);
  return s.state === 'conflict' || s.state === 'invalid' ? ExitCode.failure : ExitCode.ok;
}

export async function list(ctx: CliContext, flags: { json?: boolean }): Promise<number> {
  const now = ctx.now();
  return printKeptReader(ctx, now, flags.json ? 'list-json' : 'list', async (journal, tally) => {
    const entries = await listMolecules(ctx.cwd, now, { journal }, tally);
    let text = '';
    let colored = false;
    if (flags.json) text = `${JSON.stringify(entries, null, 2)}\n`;
    else if (entries.length === 0)
      text = 'no molecules (create one with `gastown molecule create --formula F --name ID`)\n';
    else {
      let width = 0;
      for (const e of entries) if (e.id.length > width) width = e.id.length;
      // One write for the table: a line at a time was a system call per molecule.
      for (const e of entries) {
        const reason = e.problem ?? e.blocked_reason;
        colored ||= reason !== undefined;
        const why = reason ? `  ${e.problem ? ctx.io.color.red(reason) : ctx.io.color.dim(reason)}` : '';
        text += `${e.id.padEnd(width)}  ${e.state.padEnd(9)}  ${e.progress.done}/${e.progress.total}  ${e.formula}${why}\n`;
      }
    }
    return { text, colored, keep: entries.length > 0 };
  });
}

/**
 * A reader over every molecule (`list`, `current`): prints the text kept for `kind` while the
 * change journal vouches for it (engine/kept-output.ts), else renders, prints, and keeps what it
 * printed when no molecule was judged in full. `kind` undefined: never kept.
 */
async function printKeptReader(
  ctx: CliContext,
  now: Date,
  kind: string | undefined,
  render: (
    journal: JournalAnswer | undefined,
    tally: { judged: number },
  ) => Promise<{ text: string; colored: boolean; keep: boolean }>,
): Promise<number> {
  const root = findRoot(ctx.cwd);
  const colorOn = () => ctx.io.color.red('x') !== 'x';
  // Before any stat (store/journal.ts).
  const journal = await syncJournal(root);
  const kept = kind && keptOutput(root, kind, journal, now.getTime(), colorOn);
  if (kept !== undefined) {
    ctx.io.write(kept);
    return ExitCode.ok;
  }
  const runStartMs = Date.now();
  const before = summariesStat(root);
  const tally = { judged: 0 };
  const { text, colored, keep } = await render(journal, tally);
  ctx.io.write(text);
  if (kind && keep && tally.judged === 0) {
    const color = colored ? colorOn() : undefined;
    keepOutput(root, kind, journal, before, runStartMs, stampWindow(ctx.env), text, color);
  }
  return ExitCode.ok;
}

/** A step `current` lists: the head of the step view `step show` and `prime` print. */
export type CurrentStep = Pick<StepView, 'molecule' | 'step' | 'title' | 'state' | 'attempt' | 'assignee'>;

/**
 * `synced`: the change journal's answer to a sync the caller made before any stat (else this
 * asks); `tally.judged` counts the molecules judged in full rather than taken from their summaries.
 */
export async function currentSteps(
  cwd: string,
  now: Date,
  id: string | undefined,
  agent: string | undefined,
  synced?: { journal: JournalAnswer | undefined },
  tally?: { judged: number },
): Promise<CurrentStep[]> {
  const out: CurrentStep[] = [];
  const take = (step: Omit<CurrentStep, 'molecule'> & { assignee?: string | undefined }, m: string) => {
    if (agent !== undefined && step.assignee !== undefined && step.assignee !== agent) return;
    const { assignee, ...rest } = step;
    out.push({ molecule: m, ...rest, ...(assignee !== undefined ? { assignee } : {}) });
  };
  const fromStatus = (s: StatusJson) => {
    // Nothing can be worked on in a molecule that is invalid, in conflict or over (its verdict);
    // of all molecules, only the active ones are looked into.
    if (!MOVABLE.has(s.state) || (id === undefined && s.state !== 'active')) return;
    for (const step of s.steps) {
      if (step.state !== 'in_progress' && !(step.state === 'ready' && s.ready.includes(step.id))) continue;
      take(
        {
          step: step.id,
          title: step.title,
          state: step.state,
          attempt: step.attempt,
          assignee: step.assignee,
        },
        s.id,
      );
    }
  };
  if (id !== undefined) fromStatus(await moleculeStatus(cwd, id, now));
  else {
    // A molecule that is not active needs no more than its state from its summary.
    const journal = synced ? synced.journal : await syncJournal(findRoot(cwd));
    for (const next of lookAtMolecules(cwd, now, (state) => state !== 'active', undefined, journal)) {
      const look = next instanceof Promise ? await next : next;
      if (look.judged && tally) tally.judged++;
      if (look.judged) fromStatus(statusOf(look.judged.state, look.judged.plan));
      else if (look.state === 'active') for (const w of look.view?.work ?? []) take(w, look.id);
    }
  }
  // In-progress work first: that is what "current" means; ready steps come next.
  return out.sort((a, b) => (a.state === b.state ? 0 : a.state === 'in_progress' ? -1 : 1));
}

export async function current(
  ctx: CliContext,
  id: string | undefined,
  flags: { for?: string; json?: boolean; full?: boolean },
): Promise<number> {
  if (id === undefined) return currentOfAll(ctx, flags);
  const steps = await currentSteps(ctx.cwd, ctx.now(), id, flags.for);
  const descriptions = await stepDescriptions(ctx, steps);
  if (flags.json) {
    ctx.io.json(steps.map((s) => ({ ...s, description: descriptions.get(`${s.molecule}/${s.step}`) ?? '' })));
    return ExitCode.ok;
  }
  if (id !== undefined && steps.length === 0) {
    // Say why when the molecule named has nothing to work on because of its verdict.
    const s = await moleculeStatus(ctx.cwd, id, ctx.now());
    const problem = s.problems[0] ?? s.conflicts[0];
    if (problem) {
      ctx.io.out(`${id} is ${s.state}: ${[problem.file, problem.message].filter(Boolean).join(': ')}`);
      return ExitCode.failure;
    }
  }
  if (steps.length === 0) {
    ctx.io.out(flags.for ? `nothing in progress or ready for ${flags.for}` : 'nothing in progress or ready');
    return ExitCode.ok;
  }
  // One write for the whole list (a line at a time was a system call per line).
  const { out } = currentLines(ctx, steps, descriptions, flags.full === true);
  ctx.io.write(`${out.join('\n')}\n`);
  return ExitCode.ok;
}

/**
 * `current` over every molecule: kept like `list` (engine/kept-output.ts), under a kind naming the
 * agent and the options; an agent name that cannot be part of a file name is never kept.
 */
async function currentOfAll(ctx: CliContext, flags: { for?: string; json?: boolean; full?: boolean }) {
  const now = ctx.now();
  const agent = flags.for;
  const kind =
    agent === undefined || keepableName(agent)
      ? `current${agent === undefined ? '' : `.for-${agent}`}${flags.json ? '.json' : ''}${flags.full ? '.full' : ''}`
      : undefined;
  return printKeptReader(ctx, now, kind, async (journal, tally) => {
    const steps = await currentSteps(ctx.cwd, now, undefined, agent, { journal }, tally);
    const descriptions = await stepDescriptions(ctx, steps);
    if (flags.json) {
      const shown = steps.map((s) => ({
        ...s,
        description: descriptions.get(`${s.molecule}/${s.step}`) ?? '',
      }));
      return { text: `${JSON.stringify(shown, null, 2)}\n`, colored: false, keep: true };
    }
    if (steps.length === 0) {
      const text = agent ? `nothing in progress or ready for ${agent}` : 'nothing in progress or ready';
      return { text: `${text}\n`, colored: false, keep: true };
    }
    const lines = currentLines(ctx, steps, descriptions, flags.full === true);
    return { text: `${lines.out.join('\n')}\n`, colored: lines.colored, keep: true };
  });
}

/** The lines `current` prints for these steps, and whether any of them is coloured. */
function currentLines(
  ctx: CliContext,
  steps: readonly CurrentStep[],
  descriptions: Map<string, string>,
  full: boolean,
): { out: string[]; colored: boolean } {
  const out: string[] = [];
  let colored = false;
  for (const s of steps) {
    const who = s.assignee ? `  ${s.assignee}` : '';
    out.push(`${s.molecule}/${s.step}  ${s.state.replace('_', ' ')}${who}  ${s.title}`);
    const text = descriptions.get(`${s.molecule}/${s.step}`) ?? '';
    const lines = text === '' ? [] : text.split('\n');
    const shown = full ? lines : lines.slice(0, DESCRIPTION_LINES);
    for (const line of shown) out.push(line === '' ? '' : `    ${line}`);
    if (shown.length < lines.length) {
      colored = true;
      out.push(
        ctx.io.color.dim(
          `    … (${lines.length - shown.length} more lines: --full, or gastown step show ${s.molecule} ${s.step})`,
        ),
      );
    }
  }
  return { out, colored };
}

/** How many lines of each step's description `molecule current` prints without `--full`. */
const DESCRIPTION_LINES = 3;

/** Each listed step's description with its molecule's vars filled in, by `molecule/step`. */
async function stepDescriptions(
  ctx: CliContext,
  steps: readonly CurrentStep[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (steps.length === 0) return out;
  const { stepDescriptions: fromFormula } = await import('../../desk/describe.js');
  const root = findRoot(ctx.cwd);
  for (const m of new Set(steps.map((s) => s.molecule))) {
    const ids = steps.filter((s) => s.molecule === m).map((s) => s.step);
    // The frozen formula and vars say it; folding the molecule is the way when they cannot.
    let described = fromFormula(root, m, ids);
    if (!described) {
      const { loadView, stepView } = await import('../../desk/view.js');
      const { state, plan } = await loadView(root, m, loadConfig(root), ctx.now());
      described = new Map(ids.map((step) => [step, stepView(state, plan, step).description]));
    }
    for (const [step, text] of described) out.set(`${m}/${step}`, text);
  }
  return out;
}

export async function cancel(
  ctx: CliContext,
  id: string,
  flags: { reason?: string; as?: string; json?: boolean },
): Promise<number> {
  const as = actorOf(ctx, flags.as);
  const { cancelMolecule } = await import('../../engine/molecules.js');
  const r = await cancelMolecule(ctx.cwd, id, {
    now: ctx.now(),
    ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
    ...(as !== undefined ? { as } : {}),
  });
  if (flags.json) ctx.io.json(r);
  else if (!r.cancelled) ctx.io.out(`${id} is already cancelled: nothing to record`);
  else {
    ctx.io.out(`cancelled ${id}${flags.reason ? `: ${flags.reason}` : ''}`);
    for (const w of r.written) ctx.io.out(`  wrote ${w}`);
  }
  return ExitCode.ok;
}

export async function squash(ctx: CliContext, id: string, flags: { json?: boolean }): Promise<number> {
  const { squashMolecule } = await import('../../engine/molecules.js');
  const r = await squashMolecule(ctx.cwd, id, { now: ctx.now() });
  if (flags.json) ctx.io.json(r);
  else
    ctx.io.out(
      `squashed ${id}: ${r.removed.length} event file(s) replaced by ${r.written[0] ?? 'the existing digest'}`,
    );
  return ExitCode.ok;
}

export async function burn(ctx: CliContext, id: string, flags: { json?: boolean }): Promise<number> {
  const { burnMolecule } = await import('../../engine/molecules.js');
  const r = await burnMolecule(ctx.cwd, id);
  if (flags.json) ctx.io.json(r);
  else ctx.io.out(`burned ${id}: removed ${r.removed}`);
  return ExitCode.ok;
}
