// One long-lived `git cat-file --batch` answering any number of `<rev>:<path>` questions in
// order, so a command that asks about thousands of files starts one git process, not one each.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { GastownError } from '../errors.js';
import { commandEnv } from '../scope.js';
import { GIT_ENV } from './exec.js';

export interface GitObject {
  type: string;
  bytes: Buffer;
}

interface Pending {
  resolve(o: GitObject | undefined): void;
  reject(e: Error): void;
}

export class CatFile {
  private child: ChildProcessByStdio<Writable, Readable, null> | undefined;
  private readonly queue: Pending[] = [];
  private buffered: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;

  constructor(private readonly cwd: string) {}

  private start(): ChildProcessByStdio<Writable, Readable, null> {
    const child = spawn('git', ['cat-file', '--batch'], {
      cwd: this.cwd,
      env: { ...commandEnv(), ...GIT_ENV },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    child.stdin.on('error', () => {}); // a dead git is reported by 'close'
    child.stdout.on('data', (b: Buffer) => {
      this.buffered = this.buffered.length === 0 ? b : Buffer.concat([this.buffered, b]);
      this.drain();
    });
    const fail = (why: string) => {
      this.failure = new GastownError('git.failed', `git cat-file --batch ${why}`);
      for (const p of this.queue.splice(0)) p.reject(this.failure);
    };
    child.once('error', (e: NodeJS.ErrnoException) => fail(`could not start: ${e.code ?? e.message}`));
    child.once('close', (code) => {
      if (this.queue.length > 0) fail(`stopped (exit ${code ?? '?'})`);
    });
    return child;
  }

  /** Answers in the order asked: `<oid> <type> <size>\n<bytes>\n`, or `<name> missing\n`. */
  private drain(): void {
    while (this.queue.length > 0) {
      const eol = this.buffered.indexOf(10);
      if (eol < 0) return;
      const header = this.buffered.subarray(0, eol).toString('utf8');
      const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
      if (!m) {
        this.buffered = this.buffered.subarray(eol + 1);
        this.queue.shift()?.resolve(undefined);
        continue;
      }
      const size = Number(m[2]);
      if (this.buffered.length < eol + 1 + size + 1) return;
      const bytes = Buffer.from(this.buffered.subarray(eol + 1, eol + 1 + size));
      this.buffered = this.buffered.subarray(eol + 1 + size + 1);
      this.queue.shift()?.resolve({ type: m[1] as string, bytes });
    }
  }

  /** The object `spec` names (`HEAD:path`, `<commit>^:path`), undefined when there is none. */
  read(spec: string): Promise<GitObject | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    if (/[\n\r]/.test(spec)) return Promise.resolve(undefined); // not askable on one line
    this.child ??= this.start();
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.child?.stdin.write(`${spec}\n`);
    });
  }

  /** The text of a blob, undefined when `spec` names none. */
  async text(spec: string): Promise<string | undefined> {
    const o = await this.read(spec);
    return o?.type === 'blob' ? o.bytes.toString('utf8') : undefined;
  }

  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }
}
