// `molecule list` prints again the text it kept (src/engine/kept-output.ts) only while the change
// journal vouches for every summary of the very summaries.json that text was rendered from; after
// any change it prints what a run with no journal prints. The journal runs in this process
// (src/triggers/journal.ts, a worker thread), the CLI too.
import { readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keepOutput, keptOutput, summariesStat } from '../../src/engine/kept-output.js';
import { quietHeadOf, type SummaryFile, summaryFile } from '../../src/store/cache.js';
import type { JournalAnswer } from '../../src/store/journal.js';
import { type Journal, startJournal } from '../../src/triggers/journal.js';
import { inProcess, repoWithFormulas } from './cli.js';

const { gtOk } = inProcess;
// Stamps recorded at once; a journal that is up always answers, however loaded the machine.
const ENV = { GASTOWN_STAMP_WINDOW_MS: '0', GASTOWN_JOURNAL_TIMEOUT_MS: '120000' };
const FORGED = 'forged kept text\n';

describe.skipIf(process.platform !== 'linux')('the kept text of molecule list', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  let journal: Journal | undefined;
  let cwd: string;
  const keptFile = () => join(cwd, '.beads/.cache/status/_reader.list.json');
  const summaries = () => join(cwd, '.beads/.cache/summaries.json');
  const list = async (env: Record<string, string> = {}, json = false) =>
    String((await gtOk(cwd, ['molecule', 'list', ...(json ? ['--json'] : [])], { ...ENV, ...env })).stdout);
  /** What list prints with no journal: every summary's stamp stat'ed, nothing kept printed. */
  const full = (json = false) => list({ GASTOWN_JOURNAL: '0' }, json);
  /** The kept text replaced: printed only if the kept path is taken. */
  const forge = () => {
    const k = JSON.parse(readFileSync(keptFile(), 'utf8'));
    writeFileSync(keptFile(), JSON.stringify({ ...k, text: FORGED }));
  };

  beforeAll(async () => {
    repo = await repoWithFormulas('beads/quick-check');
    cwd = repo.path;
    writeFileSync(
      join(cwd, '.beads/config.toml'),
      ['polecat-1', 'polecat-2', 'polecat-3']
        .map((a) => `[agents.${a}]\nemails = ["${a}@agents.example.com"]\n`)
        .join(''),
    );
    for (const name of ['qa', 'qb'])
      await gtOk(cwd, ['molecule', 'create', '--formula', 'quick-check', '--name', name]);
    await gtOk(cwd, ['advance'], ENV);
    journal = await startJournal(cwd);
    expect(journal).toBeDefined();
  });
  afterAll(async () => {
    await journal?.close();
    repo.cleanup();
  });
  beforeEach(async () => {
    // Summaries with the journal's mark, then a run that keeps its text.
    await list();
    await list();
  });

  it('prints the kept text while nothing changed, as a full run prints it', async () => {
    const text = await list();
    expect(text).toBe(await full());
    expect(JSON.parse(readFileSync(keptFile(), 'utf8')).text).toBe(`${text}\n`);
    forge();
    expect(await list()).toBe(FORGED.trimEnd());
    // Another format is another kept text.
    expect(await list({}, true)).toBe(await full(true));
  });

  it('prints what a full run prints after a fact, an edit in place or a new molecule', async () => {
    forge();
    await gtOk(cwd, ['step', 'start', 'qa', 'lint', '--as', 'polecat-1'], ENV);
    const started = await list();
    expect(started).not.toBe(FORGED.trimEnd());
    expect(started).toBe(await full());
    expect(started).toMatch(/qa\s+active/);

    await list();
    forge();
    writeFileSync(join(cwd, '.beads/molecules/qb/outputs-note.md'), 'a file of its own\n');
    expect(await list()).toBe(await full());

    await list();
    forge();
    await gtOk(cwd, ['molecule', 'create', '--formula', 'quick-check', '--name', 'qc']);
    const created = await list();
    expect(created).toBe(await full());
    expect(created).toMatch(/^qc\s/m);
  });

  it('keeps current over every molecule the same way, per agent and options', async () => {
    const current = async (env: Record<string, string> = {}, ...more: string[]) =>
      String((await gtOk(cwd, ['molecule', 'current', ...more], { ...ENV, ...env })).stdout);
    const file = (kind: string) => join(cwd, `.beads/.cache/status/_reader.${kind}.json`);
    for (const [kind, args] of [
      ['current.for-polecat-2', ['--for', 'polecat-2']],
      ['current.json', ['--json']],
    ] as const) {
      await current({}, ...args);
      const text = await current({}, ...args);
      expect(text).toBe(await current({ GASTOWN_JOURNAL: '0' }, ...args));
      const k = JSON.parse(readFileSync(file(kind), 'utf8'));
      writeFileSync(file(kind), JSON.stringify({ ...k, text: FORGED }));
      expect(await current({}, ...args)).toBe(FORGED.trimEnd());
    }
    await gtOk(cwd, ['step', 'start', 'qb', 'test', '--as', 'polecat-2'], ENV);
    const mine = await current({}, '--for', 'polecat-2');
    expect(mine).toMatch(/^qb\/test {2}in progress {2}polecat-2/m);
    expect(mine).toBe(await current({ GASTOWN_JOURNAL: '0' }, '--for', 'polecat-2'));
    expect(await current({}, '--json')).toBe(await current({ GASTOWN_JOURNAL: '0' }, '--json'));
  });

  it("keeps which steps are an agent's for prime, and reads them again after a change", async () => {
    const prime = async (env: Record<string, string> = {}) =>
      String((await gtOk(cwd, ['prime', '--for', 'polecat-3'], { ...ENV, ...env })).stdout);
    const file = join(cwd, '.beads/.cache/status/_reader.desk.for-polecat-3.json');
    await gtOk(cwd, [
      'molecule',
      'create',
      '--formula',
      'quick-check',
      '--name',
      'qp',
      '--assignee',
      'polecat-3',
    ]);
    await prime();
    await prime();
    expect(await prime()).toBe(await prime({ GASTOWN_JOURNAL: '0' }));
    const k = JSON.parse(readFileSync(file, 'utf8'));
    const steps = JSON.parse(k.text) as { title: string }[];
    expect(steps.length).toBeGreaterThan(1);
    const forged = steps.map((st) => ({ ...st, title: 'FORGED TITLE' }));
    writeFileSync(file, JSON.stringify({ ...k, text: JSON.stringify(forged) }));
    expect(await prime()).toContain('FORGED TITLE');
    await gtOk(cwd, ['step', 'start', 'qp', 'build', '--as', 'polecat-3'], ENV);
    const started = await prime();
    expect(started).not.toContain('FORGED TITLE');
    expect(started).toBe(await prime({ GASTOWN_JOURNAL: '0' }));
  });

  it('is not printed once summaries.json is another file, or a recheck is due', async () => {
    forge();
    const was = readFileSync(summaries(), 'utf8');
    writeFileSync(summaries(), was);
    expect(await list()).toBe(await full());

    // A recheck time in the summaries (and their head), then a text kept from that file.
    const due = Date.now() + 3_600_000;
    const d = JSON.parse(readFileSync(summaries(), 'utf8')) as SummaryFile;
    (d.molecules.qb as SummaryFile['molecules'][string]).recheckAt = due;
    const quiet = quietHeadOf(Object.keys(d.molecules), (id) => d.molecules[id]);
    writeFileSync(summaries(), JSON.stringify(summaryFile(d, d.molecules, quiet)));
    const clock = (ms: number) => ({ GASTOWN_TEST_CLOCK: '1', GASTOWN_NOW: new Date(ms).toISOString() });
    await list(clock(due - 60_000));
    forge();
    expect(await list(clock(due - 60_000))).toBe(FORGED.trimEnd());
    expect(await list(clock(due))).not.toBe(FORGED.trimEnd());
  });
});

describe('keptOutput', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  let cwd: string;
  const file = () => join(cwd, '.beads/.cache/summaries.json');
  const answer = (d: SummaryFile, touched: string[] = []): JournalAnswer => ({
    epoch: d.journal?.epoch ?? '',
    seq: (d.journal?.seq ?? 0) + 1,
    since: d.journal as NonNullable<SummaryFile['journal']>,
    touched: new Set(touched),
  });
  const read = () => JSON.parse(readFileSync(file(), 'utf8')) as SummaryFile;

  beforeAll(async () => {
    repo = await repoWithFormulas('beads/quick-check');
    cwd = repo.path;
    for (const name of ['qa', 'qb'])
      await gtOk(cwd, ['molecule', 'create', '--formula', 'quick-check', '--name', name]);
    await gtOk(cwd, ['advance'], ENV);
    await gtOk(cwd, ['advance'], ENV);
    // The file with a mark, as the store writes it.
    const d = read();
    const quiet = quietHeadOf(Object.keys(d.molecules), (id) => d.molecules[id]);
    writeFileSync(
      file(),
      JSON.stringify(summaryFile({ ...d, journal: { epoch: 'ab.0', seq: 3 } }, d.molecules, quiet)),
    );
  });
  afterAll(() => repo.cleanup());

  it('asks for colour only when the kept text has some, and then it must be the same', () => {
    const before = summariesStat(cwd);
    const now = Date.now();
    keepOutput(cwd, 'probe', answer(read()), before, now, 0, 'plain\n', undefined);
    let asked = 0;
    const colorOn = () => {
      asked++;
      return true;
    };
    expect(keptOutput(cwd, 'probe', answer(read()), now, colorOn)).toBe('plain\n');
    expect(asked).toBe(0);
    keepOutput(cwd, 'probe', answer(read()), before, now, 0, 'coloured\n', false);
    expect(keptOutput(cwd, 'probe', answer(read()), now, colorOn)).toBeUndefined();
    expect(keptOutput(cwd, 'probe', answer(read()), now, () => false)).toBe('coloured\n');
  });

  it('is not taken for a molecule touched, another mark, no answer or a file kept too young', () => {
    const now = Date.now();
    keepOutput(cwd, 'probe', answer(read()), summariesStat(cwd), now, 0, 'text\n', undefined);
    const d = read();
    expect(keptOutput(cwd, 'probe', answer(d), now, () => false)).toBe('text\n');
    expect(keptOutput(cwd, 'probe', answer(d, ['qa']), now, () => false)).toBeUndefined();
    expect(
      keptOutput(cwd, 'probe', { ...answer(d), since: { epoch: 'ab.0', seq: 2 } }, now, () => false),
    ).toBeUndefined();
    expect(keptOutput(cwd, 'probe', undefined, now, () => false)).toBeUndefined();
    // summaries.json changed within the stamp window before the run: nothing kept.
    keepOutput(cwd, 'young', answer(read()), summariesStat(cwd), now, 60_000, 'text\n', undefined);
    expect(keptOutput(cwd, 'young', answer(d), now, () => false)).toBeUndefined();
    // A run the journal did not answer keeps nothing: no later run could take it without one.
    keepOutput(cwd, 'unjournalled', undefined, summariesStat(cwd), now, 0, 'text\n', undefined);
    expect(keptOutput(cwd, 'unjournalled', answer(d), now, () => false)).toBeUndefined();
  });

  it("is not taken mid-merge, after a config edit, or with a link in a molecule's place", () => {
    const now = Date.now();
    keepOutput(cwd, 'probe', answer(read()), summariesStat(cwd), now, 0, 'text\n', undefined);
    const d = read();
    const taken = () => keptOutput(cwd, 'probe', answer(d), now, () => false);
    expect(taken()).toBe('text\n');
    const merge = join(cwd, '.git/MERGE_HEAD');
    writeFileSync(merge, `${'0'.repeat(40)}\n`);
    try {
      expect(taken()).toBeUndefined();
    } finally {
      rmSync(merge);
    }
    const config = join(cwd, '.beads/config.toml');
    writeFileSync(config, '[engine]\ncommit = false\n');
    try {
      expect(taken()).toBeUndefined();
    } finally {
      rmSync(config);
    }
    expect(taken()).toBe('text\n');
    const link = join(cwd, '.beads/molecules/qb');
    renameSync(link, `${link}.away`);
    symlinkSync(`${link}.away`, link);
    try {
      expect(taken()).toBeUndefined();
    } finally {
      rmSync(link);
      renameSync(`${link}.away`, link);
    }
  });
});
