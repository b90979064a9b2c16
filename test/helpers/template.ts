// Repository fixtures built once per test run and copied for each test. Building one (git init,
// `gastown init`, pouring a molecule, a hooked commit) starts node several times; a copy is a
// directory copy. A copy is the repository the build would have made in its own folder: the
// files that name the folder they were built in (git hooks pointing at the runner) are rewritten,
// and git's index is refreshed, as its stat data belong to the original files.
import { randomUUID } from 'node:crypto';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitIn, provided, tempDir } from './repo.js';

interface Meta {
  /** The folder the template was built in. */
  builtIn: string;
  /** Files (relative) that contain `builtIn` and are rewritten in each copy. */
  naming: string[];
}

let ownRoot: string | undefined;
/** The run's template folder, shared by all workers; a private one outside vitest's setup. */
function templateRoot(): string {
  const shared = provided('gastownTemplates');
  if (shared) return shared;
  if (!ownRoot) {
    ownRoot = realpathSync(mkdtempSync(join(tmpdir(), 'gastown-templates-')));
    const root = ownRoot;
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  }
  return ownRoot;
}

/** Files under `dir` (not git's object store) whose text contains `needle`. */
function filesNaming(dir: string, needle: string, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (path !== '.git/objects') out.push(...filesNaming(dir, needle, path));
    } else if (entry.isFile() && readFileSync(join(dir, path), 'utf8').includes(needle)) out.push(path);
  }
  return out;
}

const built = new Map<string, Promise<string>>();

/** The template for `key`, built by `build` (given an empty folder) the first time any worker asks. */
function template(key: string, build: (dir: string) => Promise<void>): Promise<string> {
  let p = built.get(key);
  if (!p) {
    p = (async () => {
      const root = templateRoot();
      const final = join(root, key.replace(/[^A-Za-z0-9._-]/g, '_'));
      try {
        statSync(join(final, '.template.json'));
        return final;
      } catch {
        // Not built yet (by this worker or another).
      }
      const staging = join(root, `.build-${randomUUID()}`);
      mkdirSync(staging);
      await build(staging);
      const meta: Meta = { builtIn: staging, naming: filesNaming(staging, staging) };
      writeFileSync(join(staging, '.template.json'), JSON.stringify(meta));
      try {
        renameSync(staging, final);
      } catch {
        // Another worker built it first; theirs is as good.
        rmSync(staging, { recursive: true, force: true });
      }
      return final;
    })();
    built.set(key, p);
  }
  return p;
}

/**
 * A fresh copy of the template `key` in its own temp folder. `build` makes the template in the
 * empty folder it is given; `key` must name everything that build depends on.
 */
export async function copyOfTemplate(
  key: string,
  build: (dir: string) => Promise<void>,
): Promise<{ path: string; cleanup(): void }> {
  const source = await template(key, build);
  const meta = JSON.parse(readFileSync(join(source, '.template.json'), 'utf8')) as Meta;
  const dir = tempDir();
  cpSync(source, dir.path, { recursive: true, preserveTimestamps: true });
  rmSync(join(dir.path, '.template.json'));
  for (const rel of meta.naming) {
    const file = join(dir.path, rel);
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll(meta.builtIn, dir.path));
  }
  await gitIn(dir.path, 'update-index', '-q', '--refresh');
  return dir;
}

/**
 * A copy of a repository made once per run: what `makeRepo` makes (one commit on `main`), then
 * `setUp` run in it. `key` names the test file and what `setUp` makes.
 */
export function copyOfRepo(
  key: string,
  setUp: (dir: string) => Promise<void>,
): Promise<{ path: string; cleanup(): void }> {
  return copyOfTemplate(key, async (dir) => {
    await gitIn(dir, 'init', '-q', '-b', 'main');
    await gitIn(dir, 'commit', '-q', '--allow-empty', '-m', 'initial');
    await setUp(dir);
  });
}
