// Forbidden patterns: walk the files a glob names under the gate's working directory and report
// every line a pattern matches, with file:line and the line's text.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ForbiddenPattern } from '../formula/model.js';
import { compilePattern, type Pattern } from '../formula/pattern.js';
import { globBase, globToRegExp, normalizeGlob } from './glob.js';

export interface ForbiddenHit {
  pattern: string;
  message?: string;
  /** Posix path relative to the gate's working directory. */
  file: string;
  line: number;
  text: string;
}

export interface ForbidScan {
  hits: ForbiddenHit[];
  filesScanned: number;
  /** Problems with the rules themselves (bad regex, glob leaving the directory). */
  errors: string[];
}

/** Directories never entered unless a glob starts inside them. */
const SKIP_DIRS = new Set(['.git', 'node_modules', '.beads']);
const MAX_FILE_BYTES = 8 * 1024 * 1024;
const MAX_TEXT = 200;

export function scanForbidden(cwd: string, rules: readonly ForbiddenPattern[]): ForbidScan {
  const result: ForbidScan = { hits: [], filesScanned: 0, errors: [] };
  const seen = new Set<string>();
  for (const rule of rules) {
    let re: Pattern;
    try {
      re = compilePattern(rule.pattern);
    } catch (err) {
      result.errors.push(`forbidden pattern \`${rule.pattern}\` is not valid: ${(err as Error).message}`);
      continue;
    }
    const files = new Set<string>();
    for (const raw of rule.paths) {
      const glob = normalizeGlob(raw);
      if (glob.startsWith('/') || glob.split('/').includes('..')) {
        result.errors.push(`forbidden-pattern path \`${raw}\` leaves the gate's directory`);
        continue;
      }
      const matcher = globToRegExp(glob);
      const base = globBase(glob);
      walk(cwd, base, (rel) => {
        if (matcher.test(rel)) files.add(rel);
      });
    }
    for (const rel of [...files].sort()) {
      const text = readText(join(cwd, rel));
      if (text === undefined) continue;
      if (!seen.has(rel)) {
        seen.add(rel);
        result.filesScanned++;
      }
      const lines = text.split(/\r?\n/);
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string;
        if (re.test(line)) {
          const trimmed = line.trim();
          const hit: ForbiddenHit = {
            pattern: rule.pattern,
            file: rel,
            line: i + 1,
            text: trimmed.length > MAX_TEXT ? `${trimmed.slice(0, MAX_TEXT - 3)}...` : trimmed,
          };
          if (rule.message !== undefined) hit.message = rule.message;
          result.hits.push(hit);
        }
      }
    }
  }
  return result;
}

/** Calls `visit` with the posix relative path of every regular file under `base`. */
function walk(root: string, base: string, visit: (rel: string) => void): void {
  const stack = [base];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(join(root, dir), { withFileTypes: true });
    } catch {
      continue; // a base directory that does not exist matches nothing
    }
    for (const e of entries) {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      // Symlinks are not followed: they could leave the directory or loop.
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) stack.push(rel);
      } else if (e.isFile()) visit(rel);
    }
  }
}

function readText(path: string): string | undefined {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || st.size > MAX_FILE_BYTES) return undefined;
    const buf = readFileSync(path);
    if (buf.subarray(0, 8000).includes(0)) return undefined; // binary
    return buf.toString('utf8');
  } catch {
    return undefined;
  }
}
