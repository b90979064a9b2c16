// `gastown init`'s planning: which template files to create under `.beads/` (never overwriting
// one that exists) and whether `.beads/.cache/` still needs ignoring.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkBeadsPath } from '../store/links.js';

export interface TemplateFile {
  /** Path relative to the template root, with '/'. */
  rel: string;
  content: Buffer;
}

/**
 * npm never publishes files named `.gitignore` (nor `.npmignore`), so the template stores them
 * without the dot and init restores it: `gitignore` → `.gitignore`, in any folder.
 */
export function destinationName(templateName: string): string {
  return templateName === 'gitignore' || templateName === 'npmignore' ? `.${templateName}` : templateName;
}

/** The template's files, `rel` being where each goes under `.beads/` (see destinationName). */
export function readTemplate(dir: string, prefix = '', destPrefix = prefix): TemplateFile[] {
  const out: TemplateFile[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const src = prefix ? `${prefix}/${entry.name}` : entry.name;
    const name = entry.isFile() ? destinationName(entry.name) : entry.name;
    const rel = destPrefix ? `${destPrefix}/${name}` : name;
    if (entry.isDirectory()) out.push(...readTemplate(dir, src, rel));
    else if (entry.isFile()) out.push({ rel, content: readFileSync(join(dir, src)) });
  }
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

export interface CopyPlan {
  /** Repo-relative paths (`.beads/...`) to create. */
  create: { path: string; content: Buffer }[];
  /** Repo-relative paths that exist and are left as they are. */
  keep: string[];
}

/** Pure: template files whose destination does not exist are created; the rest are kept. */
export function planTemplateCopy(
  files: readonly TemplateFile[],
  exists: (repoRel: string) => boolean,
): CopyPlan {
  const plan: CopyPlan = { create: [], keep: [] };
  for (const f of files) {
    const path = `.beads/${f.rel}`;
    if (exists(path)) plan.keep.push(path);
    else plan.create.push({ path, content: f.content });
  }
  return plan;
}

export function applyTemplateCopy(root: string, plan: CopyPlan): void {
  for (const f of plan.create) {
    const abs = checkBeadsPath(root, join(root, f.path));
    mkdirSync(dirname(abs), { recursive: true });
    // 'wx': if someone created it since we looked, theirs wins.
    try {
      writeFileSync(abs, f.content, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** The line init adds to `.beads/.gitignore` when `.beads/.cache/` is not ignored yet. */
export const CACHE_IGNORE_LINE = '.cache/';

/** Pure: `.beads/.gitignore`'s new content with the cache ignored (existing bytes kept as they are). */
export function withCacheIgnored(existing: string | undefined): string {
  const base = existing ?? '';
  const sep = base === '' || base.endsWith('\n') ? '' : '\n';
  return `${base}${sep}# Derived data (gastown): safe to delete at any time.\n${CACHE_IGNORE_LINE}\n`;
}

export function exists(root: string, repoRel: string): boolean {
  return existsSync(join(root, repoRel));
}
