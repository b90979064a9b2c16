// A cold advance lets molecules of one shape share a verdict (src/engine/shapes.ts). It must
// give exactly what reconciling each molecule in full gives, including for molecules that look
// like an earlier one by name but have a bad file of their own.
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advance } from '../../src/engine/advance.js';
import { loadGatePlugins } from '../../src/engine/gates.js';
import { listEvents } from '../../src/engine/io.js';
import { reconcileMolecule } from '../../src/engine/reconcile.js';
import { type Shape, SharedVerdicts } from '../../src/engine/shapes.js';
import { defaultConfig } from '../../src/store/config.js';
import { tempDir } from '../helpers/repo.js';
import { gtOk, repoWithFormulas } from './cli.js';

const NOW = new Date('2026-01-06T09:00:00Z');
const fact = (s: string, kind: string, extra = '') =>
  `step = "${s}"\nattempt = 1\nkind = "${kind}"\n${extra}`;

/** quick-check: lint, test and build in parallel, then report. Facts per point of progress. */
const PROGRESS: Record<string, Record<string, string>> = {
  fresh: {},
  'lint-done': { 'lint.1.done.toml': fact('lint', 'done', 'by = "polecat-1"\n') },
  'lint-started': { 'lint.1.started.toml': fact('lint', 'started', 'by = "polecat-2"\n') },
  'lint-failed': { 'lint.1.failed.toml': fact('lint', 'failed', 'reason = "red"\n') },
  'report-ready': {
    'lint.1.done.toml': fact('lint', 'done'),
    'test.1.done.toml': fact('test', 'done'),
    'build.1.done.toml': fact('build', 'done'),
    'report.1.ready.toml': fact('report', 'ready'),
  },
  // The needs of report are done by hand but report is not ready yet: advance must move it on.
  'report-due': {
    'lint.1.done.toml': fact('lint', 'done'),
    'test.1.done.toml': fact('test', 'done'),
    'build.1.done.toml': fact('build', 'done'),
  },
};

describe('shared verdicts on a cold advance', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  let scratch: ReturnType<typeof tempDir>;
  const molecules = (root: string) => join(root, '.beads/molecules');

  beforeAll(async () => {
    repo = await repoWithFormulas('beads/quick-check');
    scratch = tempDir();
    // A formula with a human checkpoint: its plan reads more than step states, so it never shares.
    writeFileSync(
      join(repo.path, '.beads/formulas/gated.formula.toml'),
      'formula = "gated"\nversion = 1\ntype = "workflow"\n\n[[steps]]\nid = "a"\ntitle = "A"\n\n' +
        '[[steps]]\nid = "b"\ntitle = "B"\nneeds = ["a"]\n\n[steps.gate]\ntype = "human"\n',
    );
    await gtOk(repo.path, ['molecule', 'create', '--formula', 'quick-check', '--name', 'base']);
    await gtOk(repo.path, ['molecule', 'create', '--formula', 'gated', '--name', 'cbase']);
    const dir = molecules(repo.path);
    const copy = (from: string, to: string, facts: Record<string, string>, meta?: (t: string) => string) => {
      cpSync(join(dir, from), join(dir, to), { recursive: true });
      const metaFile = join(dir, to, 'molecule.toml');
      const text = readFileSync(metaFile, 'utf8').replace(`id = "${from}"`, `id = "${to}"`);
      writeFileSync(metaFile, meta ? meta(text) : text);
      for (const [name, body] of Object.entries(facts)) writeFileSync(join(dir, to, 'events', name), body);
    };
    // Three good molecules of each shape, so verdicts are learned and reused.
    for (const [p, facts] of Object.entries(PROGRESS))
      for (let i = 0; i < 3; i++) copy('base', `q-${p}-${i}`, facts);
    for (let i = 0; i < 3; i++) copy('cbase', `c-${i}`, { 'a.1.done.toml': fact('a', 'done') });
    // Look-alikes that sort after their good twins, each with a fault of its own.
    copy('base', 'z-bad-fact', { 'lint.1.started.toml': fact('lint', 'started', 'by = 7\n') });
    copy('base', 'z-wrong-kind', { 'lint.1.started.toml': fact('lint', 'done') });
    copy('base', 'z-markers', {
      'lint.1.started.toml': `<<<<<<< HEAD\n${fact('lint', 'started')}=======\n${fact('lint', 'started', 'by = "x"\n')}>>>>>>> other\n`,
    });
    copy('base', 'z-id', PROGRESS['lint-done'] ?? {}, (t) =>
      t.replace('id = "z-id"', 'id = "q-lint-done-0"'),
    );
    copy('base', 'z-no-hash', PROGRESS['lint-done'] ?? {}, (t) => t.replace(/^formula_hash = .*\n/m, ''));
    copy('base', 'z-after', PROGRESS['report-ready'] ?? {}, (t) => `after = "q-fresh-0"\n${t}`);
    copy('base', 'z-cancelled', {
      ...PROGRESS['lint-done'],
      'molecule.cancelled.toml': 'kind = "cancelled"\nreason = "dropped"\n',
    });
    copy('base', 'z-temp', {
      ...PROGRESS['report-ready'],
      '.gastown-tmp-2147483646-1.toml': 'left by a crashed writer',
    });
    copy('base', 'z-unknown-step', { 'nope.1.ready.toml': fact('nope', 'ready') });
    copy('base', 'z-settled-corrupt', {
      ...PROGRESS['lint-done'],
      'lint.1.done.toml': 'not toml at all [[[',
    });
  });
  afterAll(() => {
    repo.cleanup();
    scratch.cleanup();
  });

  function treeOf(dir: string, prefix = ''): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      if (statSync(abs).isDirectory()) Object.assign(out, treeOf(abs, `${prefix}${name}/`));
      else out[`${prefix}${name}`] = readFileSync(abs, 'utf8');
    }
    return out;
  }

  it('gives the same transitions, problems, files and cache as reconciling every molecule in full', async () => {
    const shared = join(scratch.path, 'shared');
    const full = join(scratch.path, 'full');
    cpSync(repo.path, shared, { recursive: true });
    cpSync(repo.path, full, { recursive: true });
    // Both runs in this process must key their cache with the same plugins loaded.
    await loadGatePlugins();
    // A window of 0 lets stamps be recorded for the folders just copied.
    const a = await advance({ root: shared, now: NOW, stampWindowMs: 0 });
    const b = await advance({ root: full, now: NOW, shareVerdicts: false, stampWindowMs: 0 });
    expect(a).toEqual(b);
    // The faults are all reported, and the due step moved on in every copy of its shape.
    expect(new Set(a.problems.map((p) => p.molecule))).toEqual(
      new Set(['z-bad-fact', 'z-wrong-kind', 'z-markers', 'z-id', 'z-no-hash', 'z-unknown-step']),
    );
    expect(a.written).toEqual(
      expect.arrayContaining(
        [0, 1, 2].map((i) => `.beads/molecules/q-report-due-${i}/events/report.1.ready.toml`),
      ),
    );
    expect(treeOf(molecules(shared))).toEqual(treeOf(molecules(full)));
    // Stamps name this copy's folders (device, inode, ctime): the same molecules have one.
    // What readers show is recorded only for a molecule that was read: an adopted verdict has none.
    const readSummaries = (root: string) => {
      const data = JSON.parse(readFileSync(join(root, '.beads/.cache/summaries.json'), 'utf8'));
      const stamped: string[] = [];
      type Entry = { stamp?: string; view?: unknown };
      for (const [id, s] of Object.entries(data.molecules as Record<string, Entry>)) {
        if (s.stamp !== undefined) stamped.push(id);
        delete s.stamp;
        delete s.view;
      }
      delete data.config;
      return { data, stamped };
    };
    const fromShared = readSummaries(shared);
    const fromFull = readSummaries(full);
    expect(fromShared.data).toEqual(fromFull.data);
    // The next run checks every key by listing and stamps the same molecules on both sides.
    await advance({ root: shared, now: NOW, stampWindowMs: 0 });
    await advance({ root: full, now: NOW, stampWindowMs: 0 });
    const stampedShared = readSummaries(shared).stamped;
    expect(stampedShared).toEqual(readSummaries(full).stamped);
    expect(stampedShared.length).toBeGreaterThan(10);
    const summaries = fromShared.data;
    expect(summaries.molecules['z-after'].state).toBe('blocked');
    expect(summaries.molecules['z-cancelled'].state).toBe('cancelled');
    expect(summaries.molecules['q-lint-failed-2'].state).toBe('failed');
  });

  it('reuses a learned verdict only for a molecule whose own files pass fold’s checks', async () => {
    const root = join(scratch.path, 'unit');
    cpSync(repo.path, root, { recursive: true });
    rmSync(join(root, '.beads/.cache'), { recursive: true, force: true });
    const verdicts = new SharedVerdicts(root);
    const shapeOf = (id: string) => verdicts.shapeOf(id, listEvents(root, id) ?? []);
    const mustShape = (id: string) => {
      const shape = shapeOf(id);
      if (!shape) throw new Error(`${id} has no shape`);
      return shape;
    };
    // The full path as advance takes it on a cold start, without writing anything.
    const reconcileCold = (id: string, shape: Shape) =>
      reconcileMolecule(id, {
        root,
        now: NOW,
        config: defaultConfig(),
        moleculeStatus: () => undefined,
        dryRun: true,
        trustSettledFacts: true,
        listedEvents: shape.listed,
      });
    const first = mustShape('q-lint-started-0');
    expect(verdicts.reuse('q-lint-started-1', first)).toBeUndefined(); // nothing learned yet
    const outcome = await reconcileCold('q-lint-started-0', first);
    const summary = { key: 'k', state: 'active', done: 0, total: 4, quiet: true, events: true as const };
    verdicts.learn(first, outcome, summary);
    expect(verdicts.reuse('q-lint-started-1', mustShape('q-lint-started-1'))).toBe(summary);
    for (const id of ['z-bad-fact', 'z-markers', 'z-wrong-kind']) {
      const look = mustShape(id);
      expect(look.names).toBe(first.names);
      expect(verdicts.reuse(id, look)).toBeUndefined();
    }
    // Not a shape at all: a temp file in events/, or a formula whose plan reads more.
    expect(shapeOf('z-temp')).toBeUndefined();
    expect(shapeOf('c-0')).toBeUndefined();
    // A molecule whose plan had something to do teaches nothing.
    const due = mustShape('q-report-due-0');
    verdicts.learn(due, await reconcileCold('q-report-due-0', due), summary);
    expect(verdicts.reuse('q-report-due-1', mustShape('q-report-due-1'))).toBeUndefined();
  });
});
