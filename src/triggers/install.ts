// Installing, removing and inspecting gastown's git hooks. Planning (what each file becomes) is
// pure over facts read first; applying writes each file atomically. Chained user hooks keep
// running; uninstall restores every file byte for byte (see sections.ts).
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { configGet, type RepoPaths } from '../git/repo.js';
import { hooksDir as packageHooksDir, packageRoot } from '../paths.js';
import {
  type BlockSpec,
  CHAINED_SUFFIX,
  findBlock,
  type InsertResult,
  insertBlock,
  type RemoveResult,
  removeBlock,
} from './sections.js';

/** The hooks gastown takes part in. */
export const MANAGED_HOOKS = [
  'pre-commit',
  'post-commit',
  'post-merge',
  'post-rewrite',
  'post-checkout',
] as const;
export type ManagedHook = (typeof MANAGED_HOOKS)[number];

export type HookMode = 'husky' | 'native';

/** Per-clone location of the runner (shared by every worktree, never committed). */
export function runnerPath(paths: RepoPaths): string {
  return join(paths.commonDir, 'gastown', 'runner.sh');
}

/** What the installed runner records: which node and which CLI the hooks start. */
export interface RunnerTarget {
  node: string;
  cli: string;
}

export function defaultRunnerTarget(): RunnerTarget {
  return { node: process.execPath, cli: join(packageRoot(), 'dist', 'gastown.cjs') };
}

/** The package's runner template with the install-time paths filled in (single-quoted for sh). */
export function renderRunner(template: string, target: RunnerTarget): string {
  return template.replace("'@NODE@'", shQuote(target.node)).replace("'@CLI@'", shQuote(target.cli));
}

export function readRunnerTemplate(): string {
  return readFileSync(join(packageHooksDir(), 'runner.sh'), 'utf8');
}

/** Reads the recorded node and CLI paths back out of an installed runner. */
export function parseRunner(content: string): Partial<RunnerTarget> {
  const get = (name: string) => {
    const m = new RegExp(`^${name}='((?:[^']|'\\\\'')*)'$`, 'm').exec(content);
    return m ? m[1]!.replace(/'\\''/g, "'") : undefined;
  };
  const node = get('GASTOWN_NODE');
  const cli = get('GASTOWN_CLI');
  return { ...(node !== undefined ? { node } : {}), ...(cli !== undefined ? { cli } : {}) };
}

export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Husky 9: `core.hooksPath` is `<dir>/_` and `<dir>` exists in the working tree. Returns `<dir>`. */
export async function detectHusky(paths: RepoPaths): Promise<string | undefined> {
  const hooksPath = await configGet(paths.root, 'core.hooksPath');
  if (!hooksPath) return undefined;
  if (basename(paths.hooksDir) !== '_') return undefined;
  const dir = dirname(paths.hooksDir);
  if (basename(dir) !== '.husky' && !existsSync(join(dir, '_', 'h'))) return undefined;
  return existsSync(dir) && statSync(dir).isDirectory() ? dir : undefined;
}

export interface HookFilePlan {
  hook: ManagedHook;
  file: string;
  action: InsertResult['action'] | 'skip-not-executable';
  content?: string;
  /** For `wrap`: where the existing hook moves. */
  moveTo?: string;
  mode?: number;
}

export interface InstallPlan {
  mode: HookMode;
  /** Directory whose files we edit (`.husky/` or the git hooks directory). */
  dir: string;
  runner: { file: string; content: string; action: 'create' | 'update' | 'unchanged' };
  hooks: HookFilePlan[];
  /** Things the user should know (husky's `_` stubs missing, a disabled hook left alone...). */
  notes: string[];
}

/** Facts about one hook file, read before planning. */
interface FileFact {
  content?: string;
  executable: boolean;
}

function readFact(file: string): FileFact {
  if (!existsSync(file)) return { executable: false };
  const st = statSync(file);
  return { content: readFileSync(file, 'utf8'), executable: (st.mode & 0o111) !== 0 };
}

/** Pure: what each file becomes, from the facts. */
export function planHookFiles(
  dir: string,
  facts: Map<ManagedHook, FileFact>,
  specFor: (hook: ManagedHook) => BlockSpec,
  requireExecutable: boolean,
): { hooks: HookFilePlan[]; notes: string[] } {
  const hooks: HookFilePlan[] = [];
  const notes: string[] = [];
  for (const hook of MANAGED_HOOKS) {
    const file = join(dir, hook);
    const fact = facts.get(hook) ?? { executable: false };
    if (fact.content !== undefined && requireExecutable && !fact.executable && !findBlock(fact.content)) {
      // git skips a non-executable hook: the user disabled it. Do not re-enable it by chaining.
      hooks.push({ hook, file, action: 'skip-not-executable' });
      notes.push(
        `${file} exists but is not executable (disabled?); left alone, so gastown's ${hook} does not run`,
      );
      continue;
    }
    const r = insertBlock(fact.content, specFor(hook));
    const plan: HookFilePlan = { hook, file, action: r.action, content: r.content };
    if (r.action === 'wrap') plan.moveTo = file + CHAINED_SUFFIX;
    hooks.push(plan);
  }
  return { hooks, notes };
}

export async function planInstall(
  paths: RepoPaths,
  requested: 'auto' | HookMode,
  target: RunnerTarget = defaultRunnerTarget(),
): Promise<InstallPlan> {
  const husky = await detectHusky(paths);
  const notes: string[] = [];
  let mode: HookMode = requested === 'auto' ? (husky ? 'husky' : 'native') : requested;
  let dir = paths.hooksDir;
  if (mode === 'husky') {
    if (husky) dir = husky;
    else if (existsSync(join(paths.root, '.husky'))) {
      dir = join(paths.root, '.husky');
      notes.push(
        '.husky/ exists but core.hooksPath does not point at .husky/_: run `npx husky` so git uses it',
      );
    } else {
      mode = 'native';
      notes.push('no .husky/ directory: installed native hooks instead');
    }
  }
  const runnerFile = runnerPath(paths);
  const runnerContent = renderRunner(readRunnerTemplate(), target);
  const oldRunner = existsSync(runnerFile) ? readFileSync(runnerFile, 'utf8') : undefined;
  const facts = new Map<ManagedHook, FileFact>();
  for (const hook of MANAGED_HOOKS) facts.set(hook, readFact(join(dir, hook)));
  const specFor = (hook: ManagedHook): BlockSpec =>
    mode === 'husky'
      ? // .husky/ is committed and shared: find the runner per clone, stay quiet where none is installed.
        { hook, runner: '"$(git rev-parse --git-common-dir)/gastown/runner.sh"', warnIfMissing: false }
      : { hook, runner: shQuote(runnerFile), warnIfMissing: true };
  // husky runs .husky/<hook> with `sh -e` whatever its mode; git runs native hooks only when executable.
  const planned = planHookFiles(dir, facts, specFor, mode === 'native');
  if (mode === 'husky') {
    const stubs = join(dir, '_');
    const missing = MANAGED_HOOKS.filter((h) => !existsSync(join(stubs, h)));
    if (missing.length > 0)
      notes.push(`husky has no stub for ${missing.join(', ')} in ${stubs}: run \`npx husky\``);
  }
  return {
    mode,
    dir,
    runner: {
      file: runnerFile,
      content: runnerContent,
      action: oldRunner === undefined ? 'create' : oldRunner === runnerContent ? 'unchanged' : 'update',
    },
    hooks: planned.hooks,
    notes: [...notes, ...planned.notes],
  };
}

/** Writes via a temporary file in the same directory and a rename, keeping `mode`. */
export function writeFileAtomic(file: string, content: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.gastown-tmp-${process.pid}`);
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

export function applyInstall(plan: InstallPlan): void {
  if (plan.runner.action !== 'unchanged') writeFileAtomic(plan.runner.file, plan.runner.content, 0o755);
  for (const h of plan.hooks) {
    if (h.content === undefined || h.action === 'unchanged' || h.action === 'skip-not-executable') continue;
    if (h.action === 'wrap' && h.moveTo) renameSync(h.file, h.moveTo);
    const mode = h.action === 'chain' || h.action === 'update' ? statSync(h.file).mode & 0o7777 : 0o755;
    writeFileAtomic(h.file, h.content, mode);
  }
}

export interface UninstallEntry {
  file: string;
  action: Exclude<RemoveResult['action'], 'none'>;
}

/** Every directory a block could be in: the hooks dir now, `.husky/`, and the default hooks dir. */
function candidateDirs(paths: RepoPaths): string[] {
  return [...new Set([paths.hooksDir, join(paths.root, '.husky'), join(paths.commonDir, 'hooks')])].filter(
    (d) => existsSync(d),
  );
}

export function planUninstall(paths: RepoPaths): {
  entries: (UninstallEntry & { content?: string })[];
  runner?: string;
} {
  const entries: (UninstallEntry & { content?: string })[] = [];
  for (const dir of candidateDirs(paths)) {
    for (const hook of MANAGED_HOOKS) {
      const file = join(dir, hook);
      if (!existsSync(file)) continue;
      const r = removeBlock(readFileSync(file, 'utf8'));
      if (r.action === 'none') continue;
      entries.push({ file, action: r.action, ...(r.action === 'restore' ? { content: r.content } : {}) });
    }
  }
  const runner = runnerPath(paths);
  return { entries, ...(existsSync(runner) ? { runner } : {}) };
}

export function applyUninstall(plan: ReturnType<typeof planUninstall>): void {
  for (const e of plan.entries) {
    if (e.action === 'restore' && e.content !== undefined) {
      writeFileAtomic(e.file, e.content, statSync(e.file).mode & 0o7777);
    } else if (e.action === 'delete') rmSync(e.file, { force: true });
    else if (e.action === 'unwrap') {
      const chained = e.file + CHAINED_SUFFIX;
      if (existsSync(chained)) renameSync(chained, e.file);
      else rmSync(e.file, { force: true });
    }
  }
  if (plan.runner) rmSync(dirname(plan.runner), { recursive: true, force: true });
}

export interface HookState {
  hook: ManagedHook;
  file: string;
  /** Our block is in the file git runs for this hook. */
  installed: boolean;
  /** git will run the file (native: executable bit; husky: the `_` stub exists and is executable). */
  runnable: boolean;
}

export interface HooksStatus {
  mode: HookMode | 'none';
  dir: string;
  hooksDir: string;
  hooks: HookState[];
  runner: { file: string; present: boolean } & Partial<RunnerTarget>;
  /** The installed runner is this gastown's template (with its recorded paths). */
  runnerCurrent: boolean;
  /** The recorded node exists and is executable. */
  nodeReachable: boolean;
  cliPresent: boolean;
}

export async function hooksStatus(paths: RepoPaths): Promise<HooksStatus> {
  const husky = await detectHusky(paths);
  const dir = husky ?? paths.hooksDir;
  const hooks: HookState[] = MANAGED_HOOKS.map((hook) => {
    const file = join(dir, hook);
    const fact = readFact(file);
    const installed = fact.content !== undefined && findBlock(fact.content) !== undefined;
    let runnable: boolean;
    if (husky) {
      const stub = join(husky, '_', hook);
      runnable = existsSync(stub) && (statSync(stub).mode & 0o111) !== 0;
    } else runnable = fact.executable;
    return { hook, file, installed, runnable };
  });
  const runnerFile = runnerPath(paths);
  const present = existsSync(runnerFile);
  const content = present ? readFileSync(runnerFile, 'utf8') : undefined;
  const target = content !== undefined ? parseRunner(content) : {};
  const runnerCurrent =
    content !== undefined &&
    target.node !== undefined &&
    target.cli !== undefined &&
    content === renderRunner(readRunnerTemplate(), { node: target.node, cli: target.cli });
  const nodeReachable = target.node !== undefined && isExecutable(target.node);
  const cliPresent = target.cli !== undefined && existsSync(target.cli);
  const anyInstalled = hooks.some((h) => h.installed);
  return {
    mode: anyInstalled ? (husky ? 'husky' : 'native') : 'none',
    dir,
    hooksDir: paths.hooksDir,
    hooks,
    runner: { file: runnerFile, present, ...target },
    runnerCurrent,
    nodeReachable,
    cliPresent,
  };
}

function isExecutable(file: string): boolean {
  try {
    return statSync(file).isFile() && (statSync(file).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** A path for messages: relative to the repository root when inside it. */
export function displayPath(root: string, file: string): string {
  const rel = relative(root, file);
  return rel.startsWith('..') ? file : rel;
}
