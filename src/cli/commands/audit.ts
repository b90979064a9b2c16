// `gastown verify|audit|report|evidence`: gather from git (src/audit), print.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { verify } from '../../audit/verify.js';
import { ExitCode, GastownError, UsageError } from '../../errors.js';
import { repoPaths } from '../../git/repo.js';
import { writeFileAtomic } from '../../store/atomic.js';
import { assertMoleculeId } from '../../store/ids.js';
import type { CliContext } from '../context.js';

export async function verifyCommand(
  ctx: CliContext,
  flags: { base?: string; json?: boolean },
): Promise<number> {
  const { root } = await repoPaths(ctx.cwd);
  const r = await verify(root, { ...(flags.base ? { base: flags.base } : {}), now: ctx.now() });
  if (flags.json) ctx.io.json(r);
  else {
    const c = ctx.io.color;
    for (const n of r.notes) ctx.io.err(`verify: ${n}`);
    for (const f of r.findings)
      ctx.io.out(
        `${c.red('error')} ${f.rule}: ${f.file}${f.commit ? ` (commit ${f.commit.slice(0, 12)})` : ''}: ${f.message}`,
      );
    const scope = `${r.commits} commit(s) touching ${r.molecules.length} molecule(s)${r.base ? ` since ${r.base.slice(0, 12)}` : ''}`;
    ctx.io.out(r.ok ? `verify: ok (${scope})` : `verify: ${r.findings.length} finding(s) in ${scope}`);
  }
  return r.ok ? ExitCode.ok : ExitCode.failure;
}

export async function auditCommand(
  ctx: CliContext,
  id: string,
  flags: { json?: boolean; markdown?: boolean; csv?: boolean; since?: string },
): Promise<number> {
  const formats = [flags.json, flags.markdown, flags.csv].filter(Boolean).length;
  if (formats > 1) throw new UsageError('audit: give one of --json, --markdown, --csv');
  if (flags.since !== undefined && Number.isNaN(Date.parse(flags.since)))
    throw new UsageError(
      `audit: --since ${flags.since}: not a date (e.g. 2026-01-06 or 2026-01-06T09:00:00Z)`,
    );
  assertMoleculeId(id);
  const { root } = await repoPaths(ctx.cwd);
  const { convoyTimeline, moleculeTimeline } = await import('../../audit/timeline.js');
  const since = flags.since ? { since: flags.since } : {};
  let t: Awaited<ReturnType<typeof moleculeTimeline>>;
  if (!existsSync(join(root, '.beads/molecules', id)) && existsSync(join(root, '.beads/convoys', id))) {
    const store = await import('../../convoy/store.js');
    t = await convoyTimeline(root, id, store.convoyMembers(store.readMemberships(root), id), since);
  } else {
    t = await moleculeTimeline(root, id, since);
    if (t.entries.length === 0 && !flags.since && !existsSync(join(root, '.beads/molecules', id)))
      throw new GastownError(
        'audit.unknown',
        `audit: no molecule or convoy ${id} in .beads/ or the history of .beads/molecules/${id}`,
      );
  }
  const render = await import('../../audit/render.js');
  if (flags.json) ctx.io.json(t);
  else if (flags.markdown) ctx.io.out(render.timelineMarkdown(t).trimEnd());
  else if (flags.csv) ctx.io.write(render.timelineCsv(t));
  else for (const l of render.timelineText(t)) ctx.io.out(l);
  return ExitCode.ok;
}

export async function reportCommand(
  ctx: CliContext,
  id: string | undefined,
  flags: { json?: boolean; markdown?: boolean; base?: string },
): Promise<number> {
  if (flags.json && flags.markdown) throw new UsageError('report: give one of --json, --markdown');
  if (id !== undefined) assertMoleculeId(id);
  const { root } = await repoPaths(ctx.cwd);
  const { collectReport } = await import('../../audit/collect.js');
  const render = await import('../../audit/report.js');
  const r = await collectReport(root, {
    ...(id !== undefined ? { molecule: id } : {}),
    ...(flags.base ? { base: flags.base } : {}),
    now: ctx.now(),
  });
  if (flags.json) ctx.io.json(r);
  else if (flags.markdown) ctx.io.write(render.reportMarkdown(r));
  else for (const l of render.reportText(r)) ctx.io.out(l);
  return ExitCode.ok;
}

export async function evidenceCommand(
  ctx: CliContext,
  id: string,
  flags: { out: string; json?: boolean },
): Promise<number> {
  assertMoleculeId(id);
  const { root } = await repoPaths(ctx.cwd);
  const [{ moleculeTimeline }, ev, { moleculeStatus }, { headCommit }] = await Promise.all([
    import('../../audit/timeline.js'),
    import('../../audit/evidence.js'),
    import('../../engine/molecules.js'),
    import('../../git/repo.js'),
  ]);
  if (!existsSync(join(root, '.beads/molecules', id)))
    throw new GastownError('evidence.unknown', `evidence: no molecule ${id} in .beads/molecules/`);
  const status = await moleculeStatus(root, id, ctx.now());
  const pack = ev.buildEvidence(status, await moleculeTimeline(root, id), await headCommit(root));
  const dir = resolve(ctx.cwd, flags.out);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new GastownError(
      'evidence.out',
      `evidence: --out ${flags.out}: cannot create the folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { exitCode: ExitCode.usage },
    );
  }
  const files = [join(dir, `${id}.evidence.json`), join(dir, `${id}.evidence.md`)];
  writeFileAtomic(files[0] as string, `${JSON.stringify(pack, null, 2)}\n`);
  writeFileAtomic(files[1] as string, ev.evidenceMarkdown(pack));
  if (flags.json)
    ctx.io.json({ molecule: id, files, decisions: pack.decisions.length, reports: pack.reports.length });
  else
    ctx.io.out(
      `evidence: ${pack.decisions.length} decision(s), ${pack.reports.length} gate report(s) → ${files.join(', ')}`,
    );
  return ExitCode.ok;
}
