// Runs once before any test file: builds dist/ from the current source, so the end-to-end tests
// (which run the bundle, as users and git hooks do) never test code older than the source.
// The build is skipped when dist/ is the one this setup last built from the same inputs. Also
// makes the run's temp folder (repository templates and every test's temp files) and removes it
// after the run.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import './helpers/repo.js';

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

function build(): void {
  const inputs = inputsHash();
  const stamp = readStamp();
  if (stamp.inputs === inputs && stamp.dist !== undefined && stamp.dist === distId()) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  mkdirSync(join(STAMP, '..'), { recursive: true });
  writeFileSync(STAMP, JSON.stringify({ inputs, dist: distId() }));
}

/**
 * Where this run's temp folders go: memory (/dev/shm) when it has room, as the tests write and
 * fsync many small files and a disk makes each fsync a wait; else the system's temp folder.
 */
function tempBase(): string {
  try {
    const fs = statfsSync('/dev/shm');
    accessSync('/dev/shm', constants.W_OK);
    if (fs.bavail * fs.bsize >= 2 ** 30) return '/dev/shm';
  } catch {
    // No /dev/shm here.
  }
  return tmpdir();
}

export default function setup(project: TestProject): () => void {
  build();
  // Every temp folder of this run (repositories, templates, what the CLI and git make) goes in
  // one folder, removed after the run with anything a failed test left behind.
  const run = realpathSync(mkdtempSync(join(tempBase(), 'gastown-test-run-')));
  process.env.TMPDIR = run;
  // No test makes a TLS connection beyond loopback, and node reads an extra CA bundle at every
  // start: 265 ms instead of 79 ms for `node -e 0` on the CI machine, for each of the thousands
  // of processes (the CLI, every hook) the suite starts. Workers and their children inherit this.
  delete process.env.NODE_EXTRA_CA_CERTS;
  const templates = join(run, 'templates');
  mkdirSync(templates);
  project.provide('gastownTemplates', templates);
  const compileCache = join(run, 'compile-cache');
  mkdirSync(compileCache);
  project.provide('gastownCompileCache', compileCache);
  return () => rmSync(run, { recursive: true, force: true });
}
