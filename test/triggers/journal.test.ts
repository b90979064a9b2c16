// The change journal `gastown watch` serves (src/triggers/journal.ts, src/store/journal.ts):
// while it runs, warm readers stat only the molecules it saw touched since the summaries' mark,
// and every answer is still the one a run with no journal (or no cache at all) gives: after an
// in-place edit, a forged fact, a folder made anew, with the journal killed by SIGKILL (its
// discovery file left behind), and on a generated repository. GASTOWN_TRACE=journal says how
// many molecules a reader took on the journal's word, so a test knows the journal was used.
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inProcess } from '../engine/cli.js';
import { paAtReview } from '../engine/polecats.js';
import { generatedRepo } from '../helpers/generated.js';
import { CLI, commitAll, makeRepo, scratchCopies, testEnv } from '../helpers/repo.js';

// The readers under test run in this process (test/helpers/inproc.ts): what they ask the
// journal goes over its socket as from any process. The journal is a real `gastown watch`.
const { gt, gtJson, gtOk } = inProcess;

// Stamps recorded at once; a journal that is up always answers, however loaded the machine.
const ENV = { GASTOWN_STAMP_WINDOW_MS: '0', GASTOWN_JOURNAL_TIMEOUT_MS: '120000' };
const READS = [
  ['molecule', 'list'],
  ['molecule', 'current', '--for', 'polecat-1'],
  ['prime', '--for', 'polecat-1'],
];

/**
 * A listener on the abstract socket name given as its argument that answers every sync as the
 * journal would with nothing touched: the mark it is asked about, and the request's last word
 * where an answer could carry something of the reader's.
 */
const FAKE_JOURNAL = `
const net = require('node:net');
const server = net.createServer((s) => {
  let text = '';
  s.setEncoding('utf8');
  s.on('error', () => {});
  s.on('data', (c) => {
    text += c;
    const nl = text.indexOf('\\n');
    if (nl < 0) return;
    const w = text.slice(0, nl).split(' ');
    console.log(w.join(' '));
    s.end(JSON.stringify({ epoch: w[1], seq: Number(w[2]), touched: [], nonce: w[3] }) + '\\n');
  });
});
server.listen('\\0' + process.argv[1], () => console.log('listening'));
`;

const procs: ResultPromise[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) {
    p.kill('SIGTERM');
    await p;
  }
});

/**
 * `gastown watch` in `cwd`, once it printed ready (its journal is up by then). Its own reconcile
 * waits far longer than any test: only the readers under test touch the summaries.
 */
async function startWatch(cwd: string, env: Record<string, string>): Promise<{ proc: ResultPromise }> {
  const proc = execa(process.execPath, [CLI, 'watch', '--json', '--debounce', '60000'], {
    cwd,
    env: testEnv(env),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
  procs.push(proc);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"event":"ready"')) resolve();
    });
    proc.once('close', () => reject(new Error(`watch ended before it was ready:\n${out}`)));
  });
  // Wrapped: an awaited process would be waited for until it ends.
  return { proc };
}

/** How many molecules a reader took on the journal's word (0 when it stat'ed them all). */
async function trusted(cwd: string, args: string[], env: Record<string, string>): Promise<number> {
  const r = await gt(cwd, args, { ...env, GASTOWN_TRACE: 'journal' });
  const m = /trace journal trusted (\d+)/.exec(String(r.stderr));
  return m ? Number(m[1]) : 0;
}

describe('readers with the change journal running', () => {
  let base: Awaited<ReturnType<typeof makeRepo>>;
  let copies: ReturnType<typeof scratchCopies>;
  let cwd: string;
  let env: Record<string, string>;
  const pa = (rel: string) => join(cwd, '.beads/molecules/pa', rel);
  const warm = async () => {
    const answers: unknown[] = [];
    for (const args of READS) answers.push(await gtJson(cwd, args, env));
    return answers;
  };
  /** What every reader says with no cache and no journal, in a copy of the repository. */
  const cold = async () => {
    const copy = copies.cacheless(cwd);
    const answers: unknown[] = [];
    for (const args of READS) answers.push(await gtJson(copy, args, env));
    return answers;
  };

  beforeAll(async () => {
    base = await makeRepo();
    copies = scratchCopies();
    await paAtReview(base.path);
    const now = new Date().toISOString();
    await commitAll(base.path, 'pa done', { GIT_AUTHOR_DATE: now, GIT_COMMITTER_DATE: now });
    env = {
      ...ENV,
      GASTOWN_TEST_CLOCK: '1',
      GASTOWN_NOW: new Date(Date.now() + 60_000).toISOString(),
    };
  });
  afterAll(() => {
    base.cleanup();
    copies.cleanup();
  });
  beforeEach(async () => {
    cwd = copies.copy(base.path);
    // Summaries recorded and stamped before the journal starts.
    await gtOk(cwd, ['advance'], env);
    for (const args of READS) await gtJson(cwd, args, env);
  });

  it('sees an in-place edit, a forged fact and a folder made anew', async () => {
    await startWatch(cwd, env);
    const before = await warm();
    expect(before).toEqual(await cold());
    expect(await trusted(cwd, ['molecule', 'list'], env)).toBe(2);

    // In place: the same inode, its folder untouched; only the file's own event says so.
    const request = pa('checkpoints/review.md');
    const text = readFileSync(request, 'utf8');
    writeFileSync(request, text.replace(/^decision: pending/m, 'decision: rejected'));
    const rejected = await warm();
    expect(rejected).not.toEqual(before);
    expect(rejected).toEqual(await cold());
    expect(await trusted(cwd, ['molecule', 'list'], env)).toBe(1);

    // The folder made anew after the journal started is watched: an edit inside it is seen.
    rmSync(pa('checkpoints'), { recursive: true });
    cpSync(join(base.path, '.beads/molecules/pa/checkpoints'), pa('checkpoints'), { recursive: true });
    expect(await warm()).toEqual(before);
    // A molecule judged in full is stamped by the run after (its stats are taken then).
    await warm();
    expect(await trusted(cwd, ['molecule', 'list'], env)).toBe(2);
    writeFileSync(request, text.replace(/^decision: pending/m, 'decision: rejected'));
    expect(await warm()).toEqual(rejected);

    writeFileSync(pa('events/review.1.done.toml'), 'step = "review"\nattempt = 1\nkind = "done"\n');
    const forged = await warm();
    expect(forged).toEqual(await cold());
    expect(forged).not.toEqual(rejected);
  });

  it('answers as with no journal once it is killed, its discovery file left behind', async () => {
    const { proc: watch } = await startWatch(cwd, env);
    const before = await warm();
    expect(await trusted(cwd, ['molecule', 'list'], env)).toBe(2);
    watch.kill('SIGKILL');
    await watch;
    expect(existsSync(join(cwd, '.beads/.cache/journal.json'))).toBe(true);
    const request = pa('checkpoints/review.md');
    writeFileSync(
      request,
      readFileSync(request, 'utf8').replace(/^decision: pending/m, 'decision: rejected'),
    );
    const after = await warm();
    expect(after).not.toEqual(before);
    expect(after).toEqual(await cold());
    expect(await trusted(cwd, ['molecule', 'list'], env)).toBe(0);
    // A no-op advance says the same as with no journal: the quiet check stats everything.
    const quiet = await gtJson(cwd, ['advance'], env);
    expect(quiet).toEqual(await gtJson(cwd, ['advance'], { ...env, GASTOWN_JOURNAL: '0' }));

    // Another journal: the marks of the dead one count for nothing, its own do.
    await startWatch(cwd, env);
    expect(await warm()).toEqual(await cold());
    expect(await trusted(cwd, ['molecule', 'list'], env)).toBeGreaterThan(0);
  });

  it('believes no other listener on the socket name of a dead journal', async () => {
    const { proc: watch } = await startWatch(cwd, env);
    const before = await warm();
    expect(await trusted(cwd, ['molecule', 'list'], env)).toBe(2);
    watch.kill('SIGKILL');
    await watch;
    // Another local user's process takes the name the discovery file still gives and answers
    // as the journal would that nothing changed since whatever mark it is asked about.
    const { socket } = JSON.parse(readFileSync(join(cwd, '.beads/.cache/journal.json'), 'utf8'));
    const fake = execa(process.execPath, ['-e', FAKE_JOURNAL, String(socket)], {
      env: testEnv(),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
    procs.push(fake);
    let asked = 0;
    await new Promise<void>((resolve, reject) => {
      fake.stdout?.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) {
          if (line === 'listening') resolve();
          if (line.startsWith('sync ')) asked++;
        }
      });
      fake.once('close', () => reject(new Error(`the fake listener ended: ${fake.stderr}`)));
    });
    const request = pa('checkpoints/review.md');
    writeFileSync(
      request,
      readFileSync(request, 'utf8').replace(/^decision: pending/m, 'decision: rejected'),
    );
    const after = await warm();
    expect(asked).toBeGreaterThan(0);
    expect(after).not.toEqual(before);
    expect(after).toEqual(await cold());
    // advance judges the rejection as a run with no cache and no journal does (the counts of
    // summaries it kept aside).
    const copy = copies.cacheless(cwd);
    const acts = ({ unchanged: _, ...rest }: Record<string, unknown>) => rest;
    const advanced = acts(await gtJson(cwd, ['advance'], env));
    expect(advanced).toEqual(acts(await gtJson(copy, ['advance'], { ...env, GASTOWN_JOURNAL: '0' })));
    expect(JSON.stringify(advanced.problems)).toMatch(/rejection/);
  });
});

describe('a watcher whose journal cannot start', () => {
  it('watches on and says why, and readers stat as without it', async () => {
    const repo = await makeRepo();
    try {
      await gtOk(repo.path, ['init']);
      rmSync(join(repo.path, '.beads/molecules'), { recursive: true, force: true });
      const { proc } = await startWatch(repo.path, ENV);
      proc.kill('SIGTERM');
      const r = await proc;
      expect(String(r.stderr)).toMatch(/change journal stopped .*no \.beads\/molecules folder/);
      expect(String(r.stdout)).toMatch(/"event":"stopped"/);
      expect(existsSync(join(repo.path, '.beads/.cache/journal.json'))).toBe(false);
    } finally {
      repo.cleanup();
    }
  });
});

describe('a generated repository with the change journal running', () => {
  let generated: Awaited<ReturnType<typeof generatedRepo>>;
  let dir: string;
  const env = { ...ENV };
  const asked = [...READS, ['advance']];
  const answers = async (extra: Record<string, string>) => {
    const out: unknown[] = [];
    for (const args of asked) out.push(await gtJson(dir, args, { ...env, ...extra }));
    return out;
  };

  beforeAll(async () => {
    generated = await generatedRepo(41, '345');
    dir = generated.dir;
    await gtOk(dir, ['advance'], env);
  }, 300_000);
  afterAll(() => generated.cleanup());

  it('gives the answers readers give without it, before and after changes', async () => {
    await startWatch(dir, env);
    const without = { GASTOWN_JOURNAL: '0' };
    expect(await answers({})).toEqual(await answers(without));
    expect(await trusted(dir, ['molecule', 'list'], env)).toBeGreaterThan(0);

    const molecules = join(dir, '.beads/molecules');
    const pending = readdirSync(molecules)
      .flatMap((id) => {
        const cps = join(molecules, id, 'checkpoints');
        return existsSync(cps) ? readdirSync(cps).map((f) => join(cps, f)) : [];
      })
      .filter((f) => /^decision: pending/m.test(readFileSync(f, 'utf8')));
    expect(pending.length).toBeGreaterThan(1);
    const [first, second] = pending as [string, string];
    writeFileSync(first, readFileSync(first, 'utf8').replace(/^decision: pending/m, 'decision: approved'));
    // Another molecule made invalid (not one of the two whose checkpoint is decided).
    const deciding = new Set([first, second].map((f) => basename(dirname(dirname(f)))));
    const broken = readdirSync(molecules).find((id) => !deciding.has(id)) as string;
    rmSync(join(molecules, broken, 'molecule.toml'));
    const readers = async (extra: Record<string, string>) => {
      const out: unknown[] = [];
      for (const args of READS) out.push(await gtJson(dir, args, { ...env, ...extra }));
      return out;
    };
    const changed = await readers({});
    expect(changed).toEqual(await readers(without));
    writeFileSync(second, readFileSync(second, 'utf8').replace(/^decision: pending/m, 'decision: rejected'));
    const again = await readers({});
    expect(again).not.toEqual(changed);
    expect(again).toEqual(await readers(without));
  });
});
