// `gastown convoy create|add|show|list|close` (docs/convoys.md). The engine (convoy/store.ts) loads
// only when `show` cannot answer from the cache's stamps, and for the commands that write.
import { progressBar } from '../../convoy/bar.js';
import { keepConvoyView, keptConvoyView, probeConvoyView, type ViewInputs } from '../../convoy/kept.js';
import type { ConvoyView } from '../../convoy/plan.js';
import { countKeptConvoy } from '../../engine/trace.js';
import { ExitCode } from '../../errors.js';
import { stampWindow } from '../../store/cache.js';
import { assertMoleculeId } from '../../store/ids.js';
import { findRoot } from '../../store/layout.js';
import type { CliContext } from '../context.js';

export async function create(
  ctx: CliContext,
  id: string,
  flags: { name: string; owner: string; teams?: string; description?: string; json?: boolean },
): Promise<number> {
  const root = findRoot(ctx.cwd);
  const teams = flags.teams
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const { createConvoy } = await import('../../convoy/store.js');
  const file = await createConvoy(root, {
    id,
    name: flags.name,
    owner: flags.owner,
    ...(teams ? { teams } : {}),
    ...(flags.description !== undefined ? { description: flags.description } : {}),
  });
  if (flags.json) ctx.io.json({ id, file });
  else ctx.io.out(`created convoy ${id} (${file})`);
  return ExitCode.ok;
}

export async function add(
  ctx: CliContext,
  id: string,
  molecule: string,
  flags: { after?: string; json?: boolean },
): Promise<number> {
  const { addToConvoy } = await import('../../convoy/store.js');
  const r = await addToConvoy(findRoot(ctx.cwd), id, molecule, flags.after);
  if (flags.json) ctx.io.json({ convoy: id, molecule, ...(flags.after ? { after: flags.after } : {}), ...r });
  else if (!r.changed) ctx.io.out(`${molecule} is already in convoy ${id}`);
  else
    ctx.io.out(`added ${molecule} to convoy ${id}${flags.after ? ` after ${flags.after}` : ''} (${r.file})`);
  return ExitCode.ok;
}

function viewJson(v: ConvoyView) {
  return {
    ...v,
    molecules: v.molecules.map((m) => ({
      id: m.id,
      state: m.state,
      blocked_by: m.blocked_by,
      ...(m.after ? { after: m.after } : {}),
      ...(m.blocked_reason ? { blocked_reason: m.blocked_reason } : {}),
      progress: m.progress,
      attempts: m.attempts,
      ...(m.pass_rate !== undefined ? { pass_rate: m.pass_rate } : {}),
      ...(m.checkpoint ? { checkpoint: m.checkpoint } : {}),
      ...(m.remote ? { remote: m.remote } : {}),
    })),
  };
}

export async function show(ctx: CliContext, id: string, flags: { json?: boolean }): Promise<number> {
  const root = findRoot(ctx.cwd);
  const now = ctx.now();
  assertMoleculeId(id, 'convoy id');
  // The view kept whole, while every stat it came from holds; else the cache's stamps; else the engine.
  const probe = probeConvoyView(root, id);
  let v = keptConvoyView(probe, now);
  if (v) countKeptConvoy();
  else {
    const inputs: ViewInputs = { members: [], after: [] };
    v = (await import('../../convoy/read.js')).cachedConvoyView(root, id, now, inputs);
    if (v) keepConvoyView(root, id, v, inputs, probe, stampWindow(ctx.env));
    else v = await (await import('../../convoy/store.js')).readConvoyView(root, id, now);
  }
  if (flags.json) {
    ctx.io.json(viewJson(v));
    return ExitCode.ok;
  }
  const c = ctx.io.color;
  const p = v.progress;
  // One write for the whole view: a line each is a system call each.
  const lines = [`${c.bold(`convoy ${v.id}`)}: ${v.name} (owner ${v.owner}) ${v.state}`];
  if (v.description) lines.push(`  ${v.description}`);
  lines.push(`progress ${p.done}/${p.total} (${p.percent}%) ${progressBar(p.done, p.total)}`);
  if (v.teams.length > 0) lines.push(`teams ${v.teams.join(', ')}`);
  for (const m of v.molecules) {
    const parts = [
      `${m.id}`,
      m.state,
      `${m.progress.done}/${m.progress.total} steps`,
      `attempts ${m.attempts}`,
    ];
    if (m.pass_rate !== undefined) parts.push(`gate ${m.pass_rate}%`);
    if (m.remote) parts.push(`from ${m.remote}`);
    if (m.blocked_by.length > 0) parts.push(c.yellow(`blocked by ${m.blocked_by.join(', ')}`));
    else if (m.blocked_reason) parts.push(c.yellow(m.blocked_reason));
    lines.push(`  ${parts.join('  ')}`);
  }
  if (v.next_checkpoint)
    lines.push(
      `next checkpoint ${v.next_checkpoint.molecule}/${v.next_checkpoint.step}: ${v.next_checkpoint.path}`,
    );
  ctx.io.out(lines.join('\n'));
  return ExitCode.ok;
}

export async function list(ctx: CliContext, flags: { json?: boolean }): Promise<number> {
  const root = findRoot(ctx.cwd);
  const config = (await import('../../store/config.js')).loadConfig(root);
  const views: ConvoyView[] = [];
  const { readConvoyView } = await import('../../convoy/store.js');
  const { listConvoyIds } = await import('../../convoy/read.js');
  for (const id of listConvoyIds(root)) views.push(await readConvoyView(root, id, ctx.now(), { config }));
  if (flags.json) {
    ctx.io.json(
      views.map((v) => ({ id: v.id, name: v.name, owner: v.owner, state: v.state, progress: v.progress })),
    );
    return ExitCode.ok;
  }
  if (views.length === 0) ctx.io.out('no convoys (gastown convoy create ID --name N --owner @you)');
  for (const v of views)
    ctx.io.out(
      `${v.id}  ${v.state}  ${v.progress.done}/${v.progress.total} (${v.progress.percent}%) ${progressBar(v.progress.done, v.progress.total, 10)}  ${v.name}`,
    );
  return ExitCode.ok;
}

export async function close(
  ctx: CliContext,
  id: string,
  flags: { reason?: string; json?: boolean },
): Promise<number> {
  const { closeConvoy } = await import('../../convoy/store.js');
  const r = await closeConvoy(findRoot(ctx.cwd), id, flags.reason);
  if (flags.json) ctx.io.json({ convoy: id, ...r });
  else ctx.io.out(r.changed ? `closed convoy ${id} (${r.file})` : `convoy ${id} is already closed`);
  return ExitCode.ok;
}
