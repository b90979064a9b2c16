// The reader's side of the change journal `gastown watch` serves (triggers/journal.ts): which
// molecule folders changed since the mark a summary file carries, so a warm reader stats only
// those. The answer comes after a sync barrier: the journal creates a cookie file and answers
// once it has seen the cookie's event, so every change made before the question is in it. No
// discovery file, another journal, no answer in time: no answer, and every stamp is stat'ed.
//
// An abstract socket has no permissions: once the journal is gone, anyone on the machine may
// listen on its name. So an answer is believed only when it carries a nonce the reader wrote,
// before asking, into a 0600 file in the journal's cookie folder: only the repository's owner
// (the journal) can read it, and it is never sent over the socket. No node:crypto on this side:
// the nonce comes from /dev/urandom.
import { closeSync, openSync, readFileSync, readSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countTrusted } from '../engine/trace.js';
import { commandEnv } from '../scope.js';
import { cacheDir } from './layout.js';

/** The discovery file under `.beads/.cache/`: the journal's socket name, while it runs. */
export const JOURNAL_FILE = 'journal.json';
/** The journal's socket name in Linux's abstract namespace: this prefix and its instance's hex id. */
export const SOCKET_PREFIX = 'gastown-journal-';
const SOCKET_NAME = new RegExp(`^${SOCKET_PREFIX}[0-9a-f]+$`);
/** The folder under `.beads/.cache/` the journal creates its cookies in. */
export const COOKIE_DIR = 'journal-cookies';
/** How long a reader waits for the journal's answer before stat'ing everything. */
export const JOURNAL_TIMEOUT_MS = 300;

/**
 * What a summary file records of the journal: the journal's epoch (its instance, and a count
 * of the times it lost track and started over) and the sequence number of a sync answered
 * before the run that wrote it took any stat.
 */
export interface JournalMark {
  epoch: string;
  seq: number;
}

/** The journal's answer to one sync. */
export interface JournalAnswer {
  epoch: string;
  seq: number;
  /** The mark asked about, and the molecules touched since it; absent: none can be trusted. */
  since?: JournalMark;
  touched?: ReadonlySet<string>;
}

/**
 * The molecules a summary file's entries can be trusted for without a stat: those the journal
 * saw untouched since the file's mark, when the answer was given against that very mark.
 * Undefined when there is no such answer.
 */
export function untouchedSince(
  answer: JournalAnswer | undefined,
  mark: JournalMark | undefined,
): ((id: string, after?: string) => boolean) | undefined {
  const touched = answer?.touched;
  if (!touched || !sameMark(answer, mark)) return undefined;
  // A summary's stamp holds the `after` molecule's completion: it must be untouched too.
  return (id, after) => {
    if (touched.has(id) || (after !== undefined && touched.has(after))) return false;
    countTrusted();
    return true;
  };
}

/** The answer was given against this very mark (and so says what changed since it). */
export function sameMark(answer: JournalAnswer | undefined, mark: JournalMark | undefined): boolean {
  const since = answer?.since;
  return since !== undefined && mark !== undefined && since.epoch === mark.epoch && since.seq === mark.seq;
}

/**
 * The mark a run writes with the summaries: a run over every molecule checked each summary it
 * keeps after its sync, so the answer's sequence number; any other run keeps the file's mark
 * (each summary it keeps unchecked was good at that mark, and one it checked is good later).
 */
export function markToWrite(
  answer: JournalAnswer | undefined,
  fileMark: JournalMark | undefined,
  everyMolecule: boolean,
): JournalMark | undefined {
  return everyMolecule && answer ? { epoch: answer.epoch, seq: answer.seq } : fileMark;
}

// The summary file starts `{"version":N,"journal":{...}`: its mark, without parsing megabytes.
const MARK = /^\{"version":\d+,"journal":\{"epoch":"([0-9a-f]+\.\d+)","seq":(\d+)\}/;

function peekMark(file: string): JournalMark | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(160);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const m = MARK.exec(buf.toString('latin1', 0, n));
    return m ? { epoch: m[1] as string, seq: Number(m[2]) } : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function timeoutMs(env: NodeJS.ProcessEnv): number {
  const ms = Number.parseInt(env.GASTOWN_JOURNAL_TIMEOUT_MS ?? '', 10);
  return Number.isInteger(ms) && ms > 0 ? ms : JOURNAL_TIMEOUT_MS;
}

/**
 * Asks the journal serving `root` (the repository root) what changed since the mark of
 * `summaryFile` (a file under `.beads/.cache/`). Call it before the run takes any stat. node:net
 * is loaded only when a discovery file exists.
 */
export async function syncJournal(
  root: string,
  summaryFile = 'summaries.json',
): Promise<JournalAnswer | undefined> {
  if (process.platform !== 'linux') return undefined;
  const env = commandEnv();
  if (env.GASTOWN_JOURNAL === '0') return undefined;
  let socket: unknown;
  try {
    socket = (JSON.parse(readFileSync(join(cacheDir(root), JOURNAL_FILE), 'utf8')) as { socket?: unknown })
      .socket;
  } catch {
    return undefined;
  }
  if (typeof socket !== 'string' || !SOCKET_NAME.test(socket)) return undefined;
  const nonce = writeNonce(join(cacheDir(root), COOKIE_DIR));
  if (!nonce) return undefined;
  const since = peekMark(join(cacheDir(root), summaryFile));
  const { createConnection } = process.getBuiltinModule('node:net') as typeof import('node:net');
  return new Promise((resolve) => {
    let done = false;
    let text = '';
    // Linux's abstract namespace: no file to go stale, no 108-byte path limit.
    const conn = createConnection({ path: `\0${socket}` });
    const finish = (answer: JournalAnswer | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      conn.destroy();
      // The journal removes the nonce file it read; nobody else did.
      if (!answer) removeNonce(nonce.file);
      resolve(answer);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs(env));
    conn.setEncoding('utf8');
    conn.on('error', () => finish(undefined));
    conn.on('close', () => finish(undefined));
    conn.on('connect', () =>
      conn.write(`sync ${since ? `${since.epoch} ${since.seq}` : '- -'} ${nonce.name}\n`),
    );
    conn.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) finish(parseAnswer(text.slice(0, nl), since, nonce.value));
    });
  });
}

/** The name the request gives (`n-` and 16 hex digits) and the 32 hex digits the file holds. */
export const NONCE_NAME = /^n-[0-9a-f]{16}$/;

interface Nonce {
  name: string;
  value: string;
  file: string;
}

/** A fresh nonce in a new 0600 file (umask can only narrow it); undefined when it cannot be made. */
function writeNonce(cookies: string): Nonce | undefined {
  let fd: number | undefined;
  try {
    fd = openSync('/dev/urandom', 'r');
    const bytes = Buffer.alloc(24);
    if (readSync(fd, bytes, 0, bytes.length, null) !== bytes.length) return undefined;
    const name = `n-${bytes.toString('hex', 0, 8)}`;
    const nonce = { name, value: bytes.toString('hex', 8), file: join(cookies, name) };
    writeFileSync(nonce.file, nonce.value, { flag: 'wx', mode: 0o600 });
    return nonce;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function removeNonce(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* the journal read and removed it */
  }
}

function parseAnswer(line: string, since: JournalMark | undefined, nonce: string): JournalAnswer | undefined {
  try {
    const a = JSON.parse(line) as { epoch?: unknown; seq?: unknown; touched?: unknown; nonce?: unknown };
    // Without the nonce it is not the journal: no answer.
    if (a.nonce !== nonce) return undefined;
    if (typeof a.epoch !== 'string' || typeof a.seq !== 'number') return undefined;
    const answer: JournalAnswer = { epoch: a.epoch, seq: a.seq };
    if (since && Array.isArray(a.touched)) {
      answer.since = since;
      answer.touched = new Set(a.touched.map(String));
    }
    return answer;
  } catch {
    return undefined;
  }
}
