// The benches' generated repositories (bench/gen/, run through bench/generate.mjs as a child
// process): the same seed makes the same tree, the result is what the engine itself writes, and
// `gastown doctor` finds every file valid and every fact standing. The commands that judge the
// result run in the test worker (test/helpers/inproc.ts). No timing is asserted.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Generated, generate, generatedRepo } from '../helpers/generated.js';
import { gastownInProcess } from '../helpers/inproc.js';
import { gitIn, tempDir } from '../helpers/repo.js';

interface DoctorJson {
  ok: boolean;
  checks: { check: string; level: string; message: string }[];
}

/** Doctor's findings other than "ok"/"info", hooks aside (generated repositories have none installed). */
async function doctorProblems(dir: string) {
  const r = await gastownInProcess(['doctor', '--json'], dir);
  const report = JSON.parse(String(r.stdout)) as DoctorJson;
  return {
    ok: report.ok,
    problems: report.checks.filter((c) => (c.level === 'warn' || c.level === 'error') && c.check !== 'hooks'),
    checks: report.checks.map((c) => c.check),
  };
}

/**
 * Molecules per generated repository, and a seed whose draw puts a molecule at every prototype
 * stage in that few (the first test checks it): doctor and advance then judge every stage the
 * generator can write, over less than half the files a size of 100 makes.
 */
const SIZE = 41;
const SEED = '345';

/** How many prototype stages the run with `cacheRoot` built (bench/gen/prototypes.mjs). */
function prototypeStages(cacheRoot: string): number {
  const file = readdirSync(cacheRoot).find((f) => /^prototypes-[0-9a-f]+\.json$/.test(f)) as string;
  return (JSON.parse(readFileSync(join(cacheRoot, file), 'utf8')) as { stages: unknown[] }).stages.length;
}

/** Distinct stages in a generated repository: each molecule's file names, its id taken out. */
function stagesIn(dir: string): number {
  const base = join(dir, '.beads/molecules');
  const names = (d: string, rel = ''): string[] =>
    readdirSync(join(d, rel), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? names(d, `${rel}${e.name}/`) : [`${rel}${e.name}`],
    );
  const shapes = readdirSync(base).map((id) =>
    names(join(base, id))
      .map((n) => n.replaceAll(id, 'ID'))
      .sort()
      .join('\n'),
  );
  return new Set(shapes).size;
}

describe('scale repositories (bench/gen/molecules.mjs)', () => {
  const scratch = tempDir('gastown-bench-gen-');
  let first: Awaited<ReturnType<typeof generatedRepo>>;
  let second: Generated;

  beforeAll(async () => {
    // Two runs that share nothing: each builds its own prototypes with the engine. The first is
    // the run's shared one (other tests read it too), copied.
    first = await generatedRepo(SIZE, SEED);
    second = await generate([
      'molecules',
      '--size',
      String(SIZE),
      '--seed',
      SEED,
      '--out',
      join(scratch.path, 'b'),
      '--cache-root',
      join(scratch.path, 'cb'),
    ]);
  }, 300_000);
  afterAll(() => {
    first.cleanup();
    scratch.cleanup();
  });

  it('makes the same tree from the same seed, and another from another seed', async () => {
    expect(stagesIn(first.dir)).toBe(prototypeStages(first.cacheRoot));
    expect(second.tree).toBe(first.tree);
    expect((await gitIn(first.dir, 'rev-parse', 'HEAD^{tree}')).trim()).toBe(first.tree);
    const other = await generate([
      'molecules',
      '--size',
      String(SIZE),
      '--seed',
      '346',
      '--out',
      join(scratch.path, 'c'),
      '--cache-root',
      first.cacheRoot,
    ]);
    expect(other.tree).not.toBe(first.tree);
  }, 120_000);

  it('passes gastown doctor: every file valid, every fact standing, nothing overdue', async () => {
    const d = await doctorProblems(first.dir);
    expect(d.problems).toEqual([]);
    expect(d.ok).toBe(true);
    expect(d.checks).toEqual(expect.arrayContaining(['files', 'molecules', 'checkpoints']));
    // At rest: a reconcile of the generated state writes nothing.
    const r = await gastownInProcess(['advance'], first.dir);
    expect(r.exitCode).toBe(0);
    expect((await gitIn(first.dir, 'status', '--porcelain')).trim()).toBe('');
  }, 120_000);

  it('writes molecule.toml and the frozen formula byte for byte as `molecule create` does', async () => {
    const base = join(first.dir, '.beads/molecules');
    const seen = new Set<string>();
    for (const id of readdirSync(base).sort()) {
      const meta = readFileSync(join(base, id, 'molecule.toml'), 'utf8');
      const formula = /^formula = "(.*)"$/m.exec(meta)?.[1] as string;
      if (seen.has(formula)) continue;
      seen.add(formula);
      // The same formula and vars under another name. molecule.toml lists every var, defaults
      // included; the generator gives only those that differ from the default, as a user would.
      const frozen = readFileSync(join(base, id, 'formula.resolved.toml'), 'utf8');
      const defaultOf = (v: string) => {
        const section = frozen.slice(frozen.indexOf(`[vars.${v}]\n`));
        return /^default = (".*")$/m.exec(section.slice(0, section.indexOf('\n\n')))?.[1];
      };
      const vars = meta
        .slice(meta.indexOf('[vars]\n') + 7)
        .split('\n')
        .filter((l) => l.includes(' = '))
        .map((l) => [l.slice(0, l.indexOf(' = ')), l.slice(l.indexOf(' = ') + 3)] as const)
        .filter(([k, v]) => defaultOf(k) !== v)
        .flatMap(([k, v]) => ['--var', `${k}=${JSON.parse(v)}`]);
      const assignee = /^assignee = "(.*)"$/m.exec(meta)?.[1];
      const name = `again-${id}`;
      const r = await gastownInProcess(
        [
          'molecule',
          'create',
          '--formula',
          formula,
          '--name',
          name,
          ...vars,
          ...(assignee ? ['--assignee', assignee] : []),
        ],
        first.dir,
      );
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const made = join(base, name);
      expect(readFileSync(join(made, 'formula.resolved.toml'), 'utf8')).toBe(
        readFileSync(join(base, id, 'formula.resolved.toml'), 'utf8'),
      );
      expect(readFileSync(join(made, 'molecule.toml'), 'utf8')).toBe(
        meta.replace(`id = "${id}"`, `id = "${name}"`),
      );
    }
    expect([...seen].sort()).toEqual(['integration-test-full-validation', 'polecat-work', 'shiny']);
  }, 120_000);
});

describe('commit histories (bench/gen/history.mjs)', () => {
  const scratch = tempDir('gastown-bench-history-');
  afterAll(() => scratch.cleanup());

  it('makes exactly N commits with trailers, the same ids from the same seed, ending at rest', async () => {
    const cache = join(scratch.path, 'cache');
    const a = await generate([
      'history',
      '--commits',
      '60',
      '--seed',
      '3',
      '--out',
      join(scratch.path, 'a'),
      '--cache-root',
      cache,
    ]);
    const b = await generate([
      'history',
      '--commits',
      '60',
      '--seed',
      '3',
      '--out',
      join(scratch.path, 'b'),
      '--cache-root',
      cache,
    ]);
    expect(b.head).toBe(a.head);
    expect((await gitIn(a.dir, 'rev-list', '--count', 'HEAD')).trim()).toBe('60');
    const done = (await gitIn(a.dir, 'log', '--format=%(trailers:key=Gastown-Done,valueonly)'))
      .trim()
      .split('\n');
    expect(done.filter(Boolean).length).toBeGreaterThan(5);
    const engine = (
      await gitIn(
        a.dir,
        'log',
        '--author=gastown@localhost',
        '--format=%(trailers:key=Gastown-Molecule,valueonly)',
      )
    )
      .trim()
      .split('\n');
    expect(engine.filter(Boolean).length).toBeGreaterThan(5);
    // A fact recorded from a trailer names the commit that carries that trailer.
    const base = join(a.dir, '.beads/molecules');
    let named = 0;
    for (const id of readdirSync(base)) {
      for (const f of readdirSync(join(base, id, 'events'))) {
        const text = readFileSync(join(base, id, 'events', f), 'utf8');
        const sha = /^commit = "([0-9a-f]{40})"$/m.exec(text)?.[1];
        if (!sha) continue;
        named++;
        const step = /^step = "(.*)"$/m.exec(text)?.[1];
        const trailers = await gitIn(
          a.dir,
          'log',
          '-1',
          '--format=%(trailers:key=Gastown-Done,valueonly)',
          sha,
        );
        expect(trailers.split('\n'), `${id}/events/${f}`).toContain(`${id}/${step}`);
      }
    }
    expect(named).toBeGreaterThan(5);
    const d = await doctorProblems(a.dir);
    expect(d.problems).toEqual([]);
    // Every trailer is recorded already: catching up on the whole history writes nothing.
    expect((await gastownInProcess(['advance'], a.dir)).exitCode).toBe(0);
    expect((await gitIn(a.dir, 'status', '--porcelain')).trim()).toBe('');
  }, 300_000);
});
