// Crash safety: SIGKILL at every effect boundary of `advance`, then advance again; the final
// tree must equal the tree of an uninterrupted run.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/repo.js';
import { gt, gtJson, gtOk, repoWithFormulas, treeHash } from './cli.js';

describe('crash safety', () => {
  let base: Awaited<ReturnType<typeof repoWithFormulas>>;
  let scratch: ReturnType<typeof tempDir>;
  let expected = '';
  let effects = 0;

  beforeAll(async () => {
    base = await repoWithFormulas('beads/quick-check', 'gastown/shiny');
    scratch = tempDir();
    const cwd = base.path;
    // Molecules whose engine-made facts are missing (poured on a clone where no reconcile ran),
    // plus agent facts that arrived as files: advance has many effects across many rounds.
    for (const [name, formula] of [
      ['qc-1', 'quick-check'],
      ['qc-2', 'quick-check'],
      ['shiny-1', 'shiny'],
    ] as const) {
      const vars = formula === 'shiny' ? ['--var', 'feature=f'] : [];
      await gtOk(cwd, ['molecule', 'create', '--formula', formula, '--name', name, ...vars]);
      rmSync(join(cwd, '.beads/molecules', name, 'events'), { recursive: true });
    }
    const ev = (m: string, step: string, kind: string) => {
      const dir = join(cwd, '.beads/molecules', m, 'events');
      writeFileSync(join(dir, `${step}.1.${kind}.toml`), `step = "${step}"\nattempt = 1\nkind = "${kind}"\n`);
    };
    for (const m of ['qc-1', 'shiny-1'])
      mkdirSync(join(cwd, '.beads/molecules', m, 'events'), { recursive: true });
    for (const s of ['lint', 'test', 'build']) ev('qc-1', s, 'done');
    for (const s of ['design', 'implement', 'review']) ev('shiny-1', s, 'done');

    const reference = join(scratch.path, 'reference');
    cpSync(cwd, reference, { recursive: true });
    const r = await gtJson<{ written: string[] }>(reference, ['advance']);
    effects = r.written.length;
    expected = await treeHash(reference);
  });
  afterAll(() => {
    base.cleanup();
    scratch.cleanup();
  });

  it('has a run with several effects to interrupt', () => {
    // qc-1: report ready; qc-2: lint, test, build ready; shiny-1: test ready.
    expect(effects).toBe(5);
  });

  it('reaches the same tree after a SIGKILL before any effect', async () => {
    for (let n = 1; n <= effects; n++) {
      const copy = join(scratch.path, `kill-${n}`);
      cpSync(base.path, copy, { recursive: true });
      const killed = await gt(copy, ['advance'], { GASTOWN_FAULT_KILL_AT: String(n) });
      expect(killed.signal, `advance with kill at effect ${n}`).toBe('SIGKILL');
      const resumed = await gt(copy, ['advance', '--json']);
      expect(resumed.exitCode, String(resumed.stderr)).toBe(0);
      expect(await treeHash(copy), `tree after kill at effect ${n}`).toBe(expected);
      // And the run after that changes nothing.
      const again = await gtJson<{ written: string[] }>(copy, ['advance']);
      expect(again.written).toEqual([]);
      rmSync(copy, { recursive: true, force: true });
    }
  }, 120_000);

  it('ignores the fault variable without the test switch', async () => {
    const copy = join(scratch.path, 'no-switch');
    cpSync(base.path, copy, { recursive: true });
    const r = await gt(copy, ['advance'], { GASTOWN_FAULT_KILL_AT: '1', GASTOWN_TEST_FAULTS: '' });
    expect(r.signal).toBeUndefined();
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(await treeHash(copy)).toBe(expected);
  });
});
