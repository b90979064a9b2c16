// `gastown init`: `.beads/` from the template (never overwriting), `.beads/.cache/` ignored,
// hooks installed, next steps printed. Running it twice changes nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIgnored, repoPaths } from '../../git/repo.js';
import { templateDir } from '../../paths.js';
import { checkBeadsPath } from '../../store/links.js';
import {
  applyTemplateCopy,
  exists,
  planTemplateCopy,
  readTemplate,
  withCacheIgnored,
} from '../../triggers/init.js';
import { applyInstall, type InstallPlan, planInstall, writeFileAtomic } from '../../triggers/install.js';
import type { CliContext } from '../context.js';
import { installSummary, parseMode, printInstall } from './hooks.js';

const NEXT_STEPS = [
  'put project formulas in .beads/formulas/ (built-ins: `gastown formula list`)',
  'start a workflow: `gastown molecule create --formula shiny --name my-feature --var feature="..."`',
  'commit .beads/ with your code: `git add .beads && git commit -m "gastown: init"`',
  'check the setup any time: `gastown doctor`',
];

export async function init(
  ctx: CliContext,
  opts: { hooks?: string; dryRun?: boolean; json?: boolean },
): Promise<number> {
  const hookMode = parseMode(opts.hooks, true);
  const dryRun = Boolean(opts.dryRun);
  const paths = await repoPaths(ctx.cwd);
  const { root } = paths;

  const copy = planTemplateCopy(readTemplate(templateDir()), (p) => exists(root, p));
  if (!dryRun) applyTemplateCopy(root, copy);

  // After the copy, the template's .beads/.gitignore normally covers the cache already.
  const ignoreFile = '.beads/.gitignore';
  const willCreateIgnore = copy.create.some((f) => f.path === ignoreFile);
  const cacheIgnored = dryRun && willCreateIgnore ? true : await isIgnored(root, '.beads/.cache/lock');
  if (!cacheIgnored && !dryRun) {
    const abs = checkBeadsPath(root, join(root, ignoreFile));
    const before = exists(root, ignoreFile) ? readFileSync(abs, 'utf8') : undefined;
    writeFileAtomic(abs, withCacheIgnored(before), 0o644);
  }

  let plan: InstallPlan | undefined;
  if (hookMode !== 'none') {
    plan = await planInstall(paths, hookMode);
    if (!dryRun) applyInstall(plan);
  }

  if (opts.json) {
    ctx.io.json({
      root,
      dryRun,
      created: copy.create.map((f) => f.path),
      kept: copy.keep,
      gitignore: { file: ignoreFile, changed: !cacheIgnored },
      hooks: plan ? installSummary(root, plan) : { mode: 'none' },
      nextSteps: NEXT_STEPS,
    });
    return 0;
  }
  const changed =
    copy.create.length > 0 || !cacheIgnored || (plan?.hooks.some((h) => h.action !== 'unchanged') ?? false);
  ctx.io.out(`${dryRun ? 'gastown init (dry run: nothing written)' : 'gastown init'} in ${root}`);
  for (const f of copy.create) ctx.io.out(`  ${dryRun ? 'would create' : 'created'} ${f.path}`);
  for (const p of copy.keep) ctx.io.out(`  kept    ${p} (already there)`);
  if (!cacheIgnored) ctx.io.out(`  ${dryRun ? 'would add' : 'added'} .cache/ to ${ignoreFile}`);
  if (plan) printInstall(ctx, root, plan, dryRun);
  else
    ctx.io.out(
      'hooks: not installed (--hooks none); run `gastown advance` after commits, or `gastown watch`',
    );
  if (!changed && !dryRun) ctx.io.out('already initialised: nothing changed');
  ctx.io.out('');
  ctx.io.out('Next steps:');
  for (const [i, s] of NEXT_STEPS.entries()) ctx.io.out(`  ${i + 1}. ${s}`);
  return 0;
}
