// `git cat-file --batch` in one process: the object each spec names (`<rev>:<path>`, an object
// id), in the order asked. The one reader of its output format (`<oid> <type> <size>\n<bytes>\n`,
// or `<spec> missing\n`).
import { gitBytes } from './exec.js';

export interface GitObject {
  /** The object's id, as git printed it. */
  id: string;
  type: string;
  bytes: Buffer;
}

/**
 * One object per spec; undefined where git has none (no such revision, or no such path there).
 * `strict`: a git that fails, or stops before the last spec, throws instead of leaving the rest
 * undefined.
 */
export async function catFileBatch(
  root: string,
  specs: readonly string[],
  strict = false,
): Promise<(GitObject | undefined)[]> {
  if (specs.length === 0) return [];
  const out = await gitBytes(['cat-file', '--batch'], {
    cwd: root,
    input: specs.map((s) => `${s}\n`).join(''),
    allowFailure: !strict,
  });
  const objects: (GitObject | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < specs.length; i++) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) break;
    const header = out.subarray(at, eol).toString('utf8');
    at = eol + 1;
    const m = /^([0-9a-f]+) (\w+) (\d+)$/.exec(header);
    if (!m) {
      objects.push(undefined);
      continue;
    }
    const size = Number(m[3]);
    objects.push({ id: m[1] as string, type: m[2] as string, bytes: out.subarray(at, at + size) });
    at += size + 1;
  }
  return objects;
}

/** The text of each blob named (a blob id or `<rev>:<path>`); undefined where there is none. */
export async function blobTexts(root: string, specs: readonly string[]): Promise<(string | undefined)[]> {
  const objects = await catFileBatch(root, specs);
  return specs.map((_, i) => {
    const o = objects[i];
    return o?.type === 'blob' ? o.bytes.toString('utf8') : undefined;
  });
}
