// Runs once before any test file: builds dist/ from the current source, so the end-to-end tests
// (which run the bundle, as users and git hooks do) never test code older than the source.
// The build is skipped when dist/ is the one this setup last built from the same inputs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
/** What the bundle is made from. */
const INPUTS = ['src', 'scripts/build.mjs', 'package-lock.json', 'tsconfig.json'];
const STAMP = join(ROOT, 'node_modules/.cache/gastown-test-build.json');

function files(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => files(join(path, name)));
}

function inputsHash(): string {
  const h = createHash('sha256');
  for (const file of INPUTS.flatMap((p) => files(join(ROOT, p)))) {
    h.update(`${file}\0`);
    h.update(readFileSync(file));
  }
  return h.digest('hex');
}

/** Identifies the dist/ on disk: any other build (`npm run build`) swaps in a new file. */
function distId(): string | undefined {
  try {
    const st = statSync(join(ROOT, 'dist/gastown.cjs'));
    return `${st.ino}:${st.mtimeMs}:${st.size}`;
  } catch {
    return undefined;
  }
}

function readStamp(): { inputs?: string; dist?: string } {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return {};
  }
}

export default function setup(): void {
  const inputs = inputsHash();
  const stamp = readStamp();
  if (stamp.inputs === inputs && stamp.dist !== undefined && stamp.dist === distId()) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  mkdirSync(join(STAMP, '..'), { recursive: true });
  writeFileSync(STAMP, JSON.stringify({ inputs, dist: distId() }));
}
