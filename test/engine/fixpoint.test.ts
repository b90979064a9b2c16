// Reconcile always ends: it reaches a fixpoint, or stops with a problem naming the molecule whose
// plan keeps producing effects, or stops at the next safe point when asked to (watch on a
// signal). The built-in formulas' escalated checkpoint behind an `after` molecule is the case
// that once made advance, the hooks and watch spin forever.
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { advance, createMolecule, moleculeStatus, registerGatePlanner } from '../../src/engine/index.js';
import { isStopped } from '../../src/engine/stop.js';
import { lockPath, unfinishedRunMarked } from '../../src/store/lock.js';
import { CLI, commitAll, gastown, makeRepo, tempDir, testEnv } from '../helpers/repo.js';
import { formula, step } from './formulas.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  // Last in, first out: a child is stopped before its repository is removed.
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function repo() {
  const r = await makeRepo();
  cleanups.push(r.cleanup);
  return r.path;
}

const now = new Date('2026-01-06T09:00:00Z');

async function ok(cwd: string, args: string[], env: Record<string, string> = {}) {
  const r = await gastown(args, cwd, env);
  if (r.exitCode !== 0) throw new Error(`gastown ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/**
 * `first` (shiny) completed, `second` (polecat-work, after first) at its review checkpoint,
 * all committed at 09:00; five hours later the 4h review has timed out with on_timeout =
 * "escalate". Made once; each test works on a copy.
 */
async function escalatedBehindAfter(): Promise<string> {
  const cwd = await makeRepo();
  await ok(cwd.path, ['init', '--hooks', 'none']);
  await ok(cwd.path, ['molecule', 'create', '--formula', 'shiny', '--name', 'first', '--var', 'feature=x']);
  await ok(cwd.path, [
    'molecule',
    'create',
    '--formula',
    'polecat-work',
    '--name',
    'second',
    '--var',
    'issue=y',
    '--after',
    'first',
  ]);
  for (const s of ['design', 'implement', 'review', 'test', 'submit'])
    await ok(cwd.path, ['step', 'done', 'first', s, '--as', s === 'review' ? 'reviewer' : 'polecat']);
  await ok(cwd.path, ['advance']);
  await ok(cwd.path, ['step', 'done', 'second', 'implement', '--as', 'polecat']);
  await ok(cwd.path, ['step', 'done', 'second', 'done', '--as', 'polecat']);
  expect(existsSync(join(cwd.path, '.beads/molecules/second/checkpoints/review.md'))).toBe(true);
  await commitAll(cwd.path, 'second at its review');
  return cwd.path;
}
const later = { GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: '2026-01-06T14:00:00Z' };

/** The built CLI as a child the test can signal; killed when the test ends, however it ends. */
function spawnCli(cwd: string, args: string[], env: Record<string, string>, signal: AbortSignal) {
  const proc = execa(process.execPath, [CLI, ...args], {
    cwd,
    env: testEnv(env),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    cancelSignal: signal,
    // A signal the test sends is the only one: no SIGKILL a few seconds later (how long it
    // takes to stop is bounded by the test's timeout, not by a delay here).
    forceKillAfterDelay: false,
  });
  cleanups.push(async () => {
    proc.kill('SIGKILL');
    await proc;
  });
  return proc;
}

/** Resolves with the first stdout line matching `re` (the test's timeout bounds the wait). */
function lineMatching(proc: ResultPromise, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      const line = buf.split('\n').find((l) => re.test(l));
      if (line !== undefined) {
        proc.stdout?.off('data', onData);
        resolve(line);
      }
    };
    proc.stdout?.on('data', onData);
    void proc.then((r) => reject(new Error(`exited before printing ${re}:\n${r.stdout}\n${r.stderr}`)));
  });
}

describe('an escalated checkpoint in a molecule whose `after` molecule completed', () => {
  let made: string;
  beforeAll(async () => {
    made = await escalatedBehindAfter();
  });
  afterAll(() => rmSync(made, { recursive: true, force: true }));
  const copy = () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    cpSync(made, dir.path, { recursive: true });
    return dir.path;
  };

  it('advance and advance --dry-run record the timeout once and return; the next run has nothing to do', async ({
    signal,
  }) => {
    const cwd = copy();
    const dry = await spawnCli(cwd, ['advance', '--dry-run'], later, signal);
    expect(dry.exitCode, String(dry.stderr)).toBe(0);
    expect(dry.stdout).toContain('second: checkpoint review timed out (no decision within 4h): escalate');

    const real = await spawnCli(cwd, ['advance'], later, signal);
    expect(real.exitCode, String(real.stderr)).toBe(0);
    expect(real.stdout).toContain('second: checkpoint review timed out (no decision within 4h): escalate');
    expect(readdirSync(join(cwd, '.beads/molecules/second/events'))).toContain('review.1.timed-out.toml');

    const again = await spawnCli(cwd, ['advance'], later, signal);
    expect(again.stdout.trim()).toBe('nothing to do');
    const status = JSON.parse(
      String((await gastown(['molecule', 'status', 'second', '--json'], cwd, later)).stdout),
    );
    expect(status.state).toBe('blocked');
    expect(status.blocked_reason).toMatch(/had no decision within 4h: escalated/);
  });

  it('watch records it at start-up, then stops on SIGINT', async ({ signal }) => {
    const cwd = copy();
    const proc = spawnCli(cwd, ['watch', '--debounce', '50'], later, signal);
    await lineMatching(proc, /^watching /);
    proc.kill('SIGINT');
    const done = await proc;
    expect(done.exitCode).toBe(0);
    expect(done.stdout).toMatch(/second\/review timed-out/);
    expect(done.stdout).toMatch(/stopped \(SIGINT\)\s*$/);
  });
});

describe('a plan that never settles', () => {
  it('is stopped and reported as a problem naming the molecule; the other molecules still settle', async () => {
    const root = await repo();
    mkdirSync(join(root, '.beads'), { recursive: true });
    // Once armed, asks for one more new file on every plan. It gives up after 1,000 plans, far
    // past any bound reconcile should set, so without one this test fails instead of hanging.
    let armed = false;
    let plans = 0;
    onTestFinished(
      registerGatePlanner('test-restless', ({ state }) =>
        armed && ++plans <= 1000
          ? {
              holdReady: true,
              effects: [
                {
                  type: 'write',
                  molecule: state.id,
                  path: `notes/${state.files.size}.md`,
                  content: 'again\n',
                },
              ],
            }
          : { holdReady: true },
      ),
    );
    const restless = formula('restless', [step('spin', [], { gate: { type: 'test-restless', raw: {} } })]);
    await createMolecule(root, { formula: 'restless', name: 'r1', resolved: restless, now });
    await createMolecule(root, {
      formula: 'calm',
      name: 'c1',
      resolved: formula('calm', [step('a'), step('b', ['a'])]),
      now,
    });
    armed = true;
    const r = await advance({ root, now });
    const about = r.problems.filter((p) => p.molecule === 'r1');
    expect(about).toHaveLength(1);
    expect(about[0]?.message).toMatch(
      /^molecule r1 did not settle: after \d+ rounds its plan still asks for write notes\/\d+\.md; stopped there/,
    );
    expect(r.problems.filter((p) => p.molecule !== 'r1')).toEqual([]);
    expect((await moleculeStatus(root, 'c1', now)).ready).toEqual(['a']);
  });
});

describe('stopping a reconcile part-way', () => {
  it('stops at the next safe point, releases the lock and leaves whole facts the next run completes', async () => {
    const root = await repo();
    mkdirSync(join(root, '.beads'), { recursive: true });
    // Three notes, one per round, then done; the stop is asked for while writing the second.
    const stop = new AbortController();
    let armed = false;
    onTestFinished(
      registerGatePlanner('test-three-notes', ({ state, step: s, stepState }) => {
        if (!armed) return { holdReady: true };
        const notes = [...state.files.keys()].filter((p) => p.startsWith('notes/')).length;
        if (notes === 2) stop.abort();
        if (notes < 3)
          return {
            holdReady: true,
            effects: [
              { type: 'write', molecule: state.id, path: `notes/${notes}.md`, content: `${notes}\n` },
            ],
          };
        return stepState.status === 'pending' ? undefined : { note: `${s.id} noted` };
      }),
    );
    const resolved = formula('noted', [step('note', [], { gate: { type: 'test-three-notes', raw: {} } })]);
    await createMolecule(root, { formula: 'noted', name: 'n1', resolved, now });
    armed = true;

    const err = await advance({ root, now, signal: stop.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isStopped(err)).toBe(true);
    expect(readdirSync(join(root, '.beads/molecules/n1/notes')).sort()).toEqual(['0.md', '1.md']);
    expect(existsSync(lockPath(root))).toBe(false);
    // What the stopped run wrote goes into the next engine commit (as a dead run's facts do).
    expect(unfinishedRunMarked(root)).toBe(true);

    const next = await advance({ root, now });
    expect(next.problems).toEqual([]);
    expect(readdirSync(join(root, '.beads/molecules/n1/notes')).sort()).toEqual(['0.md', '1.md', '2.md']);
    expect((await moleculeStatus(root, 'n1', now)).ready).toEqual(['note']);
  });
});

describe('gastown watch on a signal', () => {
  it('stops on SIGTERM while a gate command runs: the command is stopped and nothing is recorded for it', async ({
    signal,
  }) => {
    const cwd = await repo();
    await ok(cwd, ['init', '--hooks', 'none']);
    // The gate's command says it started (its pid in a file, written whole), then runs until it
    // is stopped.
    const program =
      "const fs = require('fs'); fs.writeFileSync('gate.tmp', String(process.pid)); fs.renameSync('gate.tmp', 'gate.pid'); setInterval(() => {}, 1000);";
    writeFileSync(
      join(cwd, '.beads/formulas/long-gate.formula.toml'),
      `formula = "long-gate"\n\n[[steps]]\nid = "work"\n\n[[steps]]\nid = "check"\nneeds = ["work"]\n\n[steps.gate]\ntype = "command"\nrun = [[${JSON.stringify(process.execPath)}, "-e", ${JSON.stringify(program)}]]\n`,
    );
    await ok(cwd, ['molecule', 'create', '--formula', 'long-gate', '--name', 'g1']);
    // `work` done as an agent records it by hand: the watcher's first reconcile runs the gate.
    writeFileSync(
      join(cwd, '.beads/molecules/g1/events/work.1.done.toml'),
      'step = "work"\nattempt = 1\nkind = "done"\n',
    );
    const started = new Promise<void>((resolve) => {
      const w = watch(cwd, () => {
        if (existsSync(join(cwd, 'gate.pid'))) {
          w.close();
          resolve();
        }
      });
      cleanups.push(() => w.close());
    });
    const proc = spawnCli(cwd, ['watch', '--debounce', '50'], {}, signal);
    await started;
    proc.kill('SIGTERM');
    const done = await proc;
    expect(done.exitCode, String(done.stderr)).toBe(0);
    expect(done.stdout).toMatch(/stopped \(SIGTERM\)\s*$/);
    expect(done.stderr).toBe('');
    // The gate's command was stopped with it, and no report says it ran.
    const pid = Number(readFileSync(join(cwd, 'gate.pid'), 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(join(cwd, '.beads/molecules/g1/reports/check.1.md'))).toBe(false);
    expect(existsSync(lockPath(cwd))).toBe(false);
  });
});
