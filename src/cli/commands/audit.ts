// `gastown verify|audit|report|evidence`: gather from git (src/audit), print.
import { verify } from '../../audit/verify.js';
import { ExitCode } from '../../errors.js';
import { repoPaths } from '../../git/repo.js';
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
