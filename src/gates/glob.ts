// A small glob matcher for forbidden-pattern paths: `**` (any depth), `*` and `?` (within one
// path segment), `{a,b}` alternatives and `[...]` classes. Paths are posix, relative to the
// gate's working directory.

const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  const hit = cache.get(glob);
  if (hit) return hit;
  let re = '';
  let depth = 0; // inside {…}
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        i++;
        if (atStart && glob[i + 1] === '/') {
          i++;
          re += '(?:[^/]*/)*'; // `**/`: zero or more directories
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      depth++;
      re += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      re += ')';
    } else if (c === ',' && depth > 0) re += '|';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  const compiled = new RegExp(`^${re}$`);
  cache.set(glob, compiled);
  return compiled;
}

export function matchGlob(glob: string, path: string): boolean {
  return globToRegExp(normalizeGlob(glob)).test(path);
}

/** `./a/b` → `a/b`; backslashes become slashes. */
export function normalizeGlob(glob: string): string {
  return glob.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

/** The directory part of a glob before its first wildcard: where a walk can start. */
export function globBase(glob: string): string {
  const parts = normalizeGlob(glob).split('/');
  const literal: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (/[*?[{]/.test(part)) break;
    literal.push(part);
  }
  return literal.join('/');
}
