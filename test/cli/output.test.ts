// How the CLI prints: a reader that goes away mid-run (`gastown … | head`) and colour rules.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, gastown, testEnv } from '../helpers/repo.js';
import { shinyRepo } from '../triggers/helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

async function repoWithMolecule() {
  const repo = await shinyRepo();
  cleanups.push(repo.cleanup);
  return repo;
}

/** Runs the CLI with its stdout pipe closed on our side before it can write a byte. */
function runWithClosedStdout(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: testEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('output', () => {
  it('a reader that went away neither fails the command nor stops its work', async () => {
    const repo = await repoWithMolecule();
    // `step done` prints what it did; with nobody reading, it must still record the step.
    const r = await runWithClosedStdout(['step', 'done', 'm1', 'design', '--as', 'agent'], repo.path);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const status = await gastown(['molecule', 'status', 'm1', '--json'], repo.path);
    const steps = JSON.parse(String(status.stdout)).steps as { id: string; state: string }[];
    expect(steps.find((s) => s.id === 'design')?.state).toBe('done');
  });

  it('colours only when asked: none for a pipe or NO_COLOR, FORCE_COLOR turns it on', async () => {
    const repo = await repoWithMolecule();
    const plain = await gastown(['molecule', 'status', 'nope'], repo.path, { NO_COLOR: '' });
    expect(plain.exitCode).toBe(1);
    expect(String(plain.stderr)).toMatch(/^error: no molecule nope/);
    const forced = await gastown(['molecule', 'status', 'nope'], repo.path, {
      NO_COLOR: '',
      FORCE_COLOR: '1',
    });
    expect(String(forced.stderr)).toContain('\u001b[31merror\u001b[39m: no molecule nope');
    const both = await gastown(['molecule', 'status', 'nope'], repo.path, {
      NO_COLOR: '1',
      FORCE_COLOR: '1',
    });
    expect(String(both.stderr)).toMatch(/^error: no molecule nope/);
  });

  it('help and usage errors go to the right stream', async () => {
    const repo = await repoWithMolecule();
    const help = await gastown(['step', '--help'], repo.path);
    expect(help.exitCode).toBe(0);
    expect(String(help.stdout)).toContain('Usage: gastown step');
    expect(String(help.stderr)).toBe('');
    const bad = await gastown(['step', 'done'], repo.path);
    expect(bad.exitCode).toBe(2);
    expect(String(bad.stdout)).toBe('');
    expect(String(bad.stderr)).toContain("missing required argument 'molecule'");
  });
});
