// The summaries' quiet head (src/store/cache.ts QuietHead): a no-op `advance` told by the change
// journal that no molecule was touched since the file's mark answers from the file's head alone.
// Its answer must be the full quiet check's in every case, and whenever the head is missing,
// stale, forged or says something is due, the full check decides. A targeted run that replaces a
// few entries in the text rewrites the head as a full write would.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type QuietVerdict, quietCheck } from '../../src/engine/quiet.js';
import { quietHeadOf, type SummaryFile, summaryFile } from '../../src/store/cache.js';
import type { JournalAnswer, JournalMark } from '../../src/store/journal.js';
import { inProcess, repoWithFormulas } from './cli.js';

const { gtJson, gtOk } = inProcess;
const ENV = { GASTOWN_STAMP_WINDOW_MS: '0' };
const MARK: JournalMark = { epoch: 'ab12.0', seq: 7 };
/** The journal's answer against MARK: nothing touched since, unless `touched` says. */
const answer = (touched: string[] = [], since: JournalMark = MARK): JournalAnswer => ({
  epoch: MARK.epoch,
  seq: 9,
  since,
  touched: new Set(touched),
});

/** What a verdict says of the molecules: how many, and when one is next due. */
const said = (v: QuietVerdict | undefined) =>
  v && { molecules: v.molecules, ...(v.due ? { due: v.due } : {}) };

describe('the quiet head of summaries.json', () => {
  let repo: Awaited<ReturnType<typeof repoWithFormulas>>;
  let file: string;
  let settled: string;
  const read = () => readFileSync(file, 'utf8');
  /** The file as the store writes it, with MARK as its mark, after `edit` changed its data. */
  const rewrite = (edit: (d: SummaryFile) => void = () => {}) => {
    const d = JSON.parse(read()) as SummaryFile;
    edit(d);
    const quiet = quietHeadOf(Object.keys(d.molecules), (id) => d.molecules[id]);
    writeFileSync(file, JSON.stringify(summaryFile({ ...d, journal: MARK }, d.molecules, quiet)));
  };
  /** The quiet check with the journal's answer, and the full one (every stamp stat'ed). */
  const both = (nowMs = Date.now(), a: JournalAnswer = answer()) => ({
    head: said(quietCheck(repo.path, nowMs, undefined, a)),
    full: said(quietCheck(repo.path, nowMs, undefined, undefined)),
  });

  beforeAll(async () => {
    repo = await repoWithFormulas('beads/quick-check');
    for (const name of ['qa', 'qb', 'qc'])
      await gtOk(repo.path, ['molecule', 'create', '--formula', 'quick-check', '--name', name]);
    await gtOk(repo.path, ['advance'], ENV);
    await gtOk(repo.path, ['advance'], ENV);
    file = join(repo.path, '.beads/.cache/summaries.json');
    settled = read();
  });
  beforeEach(() => writeFileSync(file, settled));
  afterAll(() => repo.cleanup());

  it('is written ahead of the entries once every molecule is quiet and stamped', () => {
    const d = JSON.parse(read()) as SummaryFile;
    expect(d.quiet).toEqual({ ids: 'qa\nqb\nqc' });
    expect(Object.keys(d).at(-1)).toBe('molecules');
  });

  it('answers for every molecule without the entries being read', () => {
    rewrite();
    expect(both()).toEqual({ head: { molecules: 3 }, full: { molecules: 3 } });
    // The entries torn after the head: only a reader of the head alone still says quiet.
    const text = read();
    const cut = text.indexOf(',"molecules":{');
    writeFileSync(file, `${text.slice(0, cut)},"molecules":{"qa":{"key":`);
    expect(both()).toEqual({ head: { molecules: 3 }, full: undefined });
  });

  it('leaves to the full check a molecule the journal names, another mark, no mark', () => {
    rewrite();
    const torn = () => {
      const text = read();
      writeFileSync(file, `${text.slice(0, text.indexOf(',"molecules":{'))},"molecules":{`);
    };
    torn();
    // The full check reads every entry: with them torn, nothing is quiet.
    expect(quietCheck(repo.path, Date.now(), undefined, answer(['qb']))).toBeUndefined();
    expect(
      quietCheck(repo.path, Date.now(), undefined, answer([], { epoch: 'ab12.0', seq: 6 })),
    ).toBeUndefined();
    expect(quietCheck(repo.path, Date.now(), undefined, { epoch: MARK.epoch, seq: 9 })).toBeUndefined();
  });

  it('is not taken when a recheck is due, and says the same as the full check either side of it', () => {
    const due = Date.now() + 3_600_000;
    rewrite((d) => {
      (d.molecules.qb as SummaryFile['molecules'][string]).recheckAt = due;
    });
    expect((JSON.parse(read()) as SummaryFile).quiet?.next).toBe(due);
    expect(both(due - 1)).toEqual({ head: { molecules: 3, due }, full: { molecules: 3, due } });
    expect(both(due)).toEqual({ head: undefined, full: undefined });
  });

  it('is not taken for another set of molecules, even when the journal names none', () => {
    rewrite();
    const extra = join(repo.path, '.beads/molecules/qd');
    mkdirSync(extra);
    try {
      expect(both()).toEqual({ head: undefined, full: undefined });
    } finally {
      rmSync(extra, { recursive: true });
    }
    rewrite((d) => {
      delete d.molecules.qc;
    });
    expect(both()).toEqual({ head: undefined, full: undefined });
  });

  it('is not written while a molecule is not quiet, has no stamp or waits for another', () => {
    for (const edit of [
      (s: SummaryFile['molecules'][string]) => {
        s.quiet = false;
      },
      (s: SummaryFile['molecules'][string]) => {
        delete s.stamp;
      },
      (s: SummaryFile['molecules'][string]) => {
        s.after = 'qa';
      },
    ]) {
      writeFileSync(file, settled);
      rewrite((d) => edit(d.molecules.qc as SummaryFile['molecules'][string]));
      expect((JSON.parse(read()) as SummaryFile).quiet).toBeUndefined();
      expect(both()).toEqual({ head: undefined, full: undefined });
    }
  });

  it('is not believed when forged or of another shape; the full check decides', () => {
    const forged = [
      (t: string) => t.replace(/"quiet":\{"ids":"[^"]*"/, '"quiet":{"ids":7'),
      (t: string) => t.replace(/"quiet":\{"ids":"[^"]*"/, '"quiet":{"ids":"qa\\nqb\\nqc","next":"soon"'),
      (t: string) => t.replace('"quiet":{', '"quiet":{{'),
      (t: string) => t.replace('{"version":6,', '{"version":5,'),
    ];
    for (const forge of forged) {
      writeFileSync(file, settled);
      rewrite();
      const text = forge(read());
      expect(text).not.toBe(read());
      writeFileSync(file, text);
      const full = said(quietCheck(repo.path, Date.now(), undefined, undefined));
      expect(said(quietCheck(repo.path, Date.now(), undefined, answer()))).toEqual(full);
    }
  });

  it('is rewritten with the entries a targeted run replaces, as a full write would make it', async () => {
    rewrite();
    // A fact that is no fact: molecule qb gets a problem and loses its summary.
    writeFileSync(join(repo.path, '.beads/molecules/qb/events/not-a-fact.toml'), 'step = 1\n');
    try {
      const r = await gtJson<{ problems: unknown[] }>(repo.path, ['advance', '--molecule', 'qb'], ENV);
      expect(r.problems.length).toBeGreaterThan(0);
      const text = read();
      const d = JSON.parse(text) as SummaryFile;
      expect(Object.keys(d.molecules).sort()).toEqual(['qa', 'qc']);
      expect(d.journal).toEqual(MARK);
      expect(d.quiet).toEqual({ ids: 'qa\nqc' });
      const quiet = quietHeadOf(Object.keys(d.molecules), (id) => d.molecules[id]);
      expect(text).toBe(JSON.stringify(summaryFile(d, d.molecules, quiet)));
      // Three molecules on disk, two in the head: the full check decides (qb is not quiet).
      expect(both()).toEqual({ head: undefined, full: undefined });
    } finally {
      rmSync(join(repo.path, '.beads/molecules/qb/events/not-a-fact.toml'));
    }
  });

  it('keeps its ids through a targeted run that only replaces entries, as a full write would', async () => {
    rewrite();
    await gtOk(repo.path, ['step', 'start', 'qa', 'lint', '--as', 'polecat-1'], ENV);
    await gtOk(repo.path, ['advance', '--molecule', 'qa'], ENV);
    const text = read();
    const d = JSON.parse(text) as SummaryFile;
    expect(d.quiet?.ids).toBe('qa\nqb\nqc');
    expect(d.molecules.qa?.view?.work?.some((w) => w.state === 'in_progress')).toBe(true);
    const quiet = quietHeadOf(Object.keys(d.molecules), (id) => d.molecules[id]);
    expect(text).toBe(JSON.stringify(summaryFile(d, d.molecules, quiet)));
  });
});
