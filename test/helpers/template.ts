// Repository fixtures built once per test run and copied for each test. Building one (git init,
// `gastown init`, pouring a molecule, a hooked commit) starts node several times; a copy is a
// directory copy. A copy is the repository the build would have made in its own folder: the
// files that name the folder they were built in (git hooks pointing at the runner) are rewritten,
// and git's index is refreshed, as its stat data belong to the original files.
import { randomUUID } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  watch,
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
      if (path !== '.git/objects' && !path.endsWith('/.git/objects'))
        out.push(...filesNaming(dir, needle, path));
    } else if (entry.isFile() && readFileSync(join(dir, path), 'utf8').includes(needle)) out.push(path);
  }
  return out;
}

const built = new Map<string, Promise<string>>();

/** Whether process `pid` is running (a lock's holder). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Resolves when `done()` holds, checked at each change in `dir` (a template renamed into place,
 * a build lock removed), and now and then in case the lock's holder died without removing it.
 */
function waitIn(dir: string, done: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      try {
        if (!done()) return;
      } catch (err) {
        finish();
        reject(err);
        return;
      }
      finish();
      resolve();
    };
    const watcher = watch(dir, check);
    const timer = setInterval(check, 1000);
    const finish = () => {
      watcher.close();
      clearInterval(timer);
    };
    check();
  });
}

/** Builds the template into `final` (its folder in the run's template root) and renames it there. */
async function buildInto(root: string, final: string, build: (dir: string) => Promise<void>): Promise<void> {
  const staging = join(root, `.build-${randomUUID()}`);
  mkdirSync(staging);
  await build(staging);
  const meta: Meta = { builtIn: staging, naming: filesNaming(staging, staging) };
  writeFileSync(join(staging, '.template.json'), JSON.stringify(meta));
  renameSync(staging, final);
}

/**
 * The template for `key`, built by `build` (given an empty folder) the first time any worker asks.
 * One worker builds it (holding `<key>.lock`); the others wait for it instead of building their own.
 */
function template(key: string, build: (dir: string) => Promise<void>): Promise<string> {
  let p = built.get(key);
  if (!p) {
    p = (async () => {
      const root = templateRoot();
      const final = join(root, key.replace(/[^A-Za-z0-9._-]/g, '_'));
      const ready = join(final, '.template.json');
      const lock = `${final}.lock`;
      for (;;) {
        if (existsSync(ready)) return final;
        try {
          writeFileSync(lock, String(process.pid), { flag: 'wx' });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          // Another worker builds it: wait for the template, or for its lock to go.
          await waitIn(root, () => {
            if (existsSync(ready)) return true;
            let holder: number;
            try {
              holder = Number(readFileSync(lock, 'utf8'));
            } catch {
              return true;
            }
            // A holder that died while building (its lock written, or being written) left it.
            if (holder > 0 && !alive(holder)) rmSync(lock, { force: true });
            return false;
          });
          continue;
        }
        try {
          if (!existsSync(ready)) await buildInto(root, final, build);
        } finally {
          rmSync(lock, { force: true });
        }
      }
    })();
    built.set(key, p);
  }
  return p;
}

/**
 * A fresh copy of the template `key` in its own temp folder. `build` makes the template in the
 * empty folder it is given; `key` must name everything that build depends on. `repos`: where the
 * template's git repositories are (relative; the folder itself unless told).
 */
export async function copyOfTemplate(
  key: string,
  build: (dir: string) => Promise<void>,
  { repos = ['.'] }: { repos?: string[] } = {},
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
  for (const repo of repos) await gitIn(join(dir.path, repo), 'update-index', '-q', '--refresh');
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
