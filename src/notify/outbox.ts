// The outbox under `.beads/.cache/outbox/` (docs/mail.md, "Notifications"): which message copies
// this clone wrote and must still announce, and what each endpoint did with them.
//
//   queued/<folder>/<id>                         written BEFORE the message copy; removed once
//                                                every endpoint that wants it is settled
//   delivered/<endpoint>/<folder>/<id>           the endpoint accepted it (created once)
//   attempts/<endpoint>/<folder>/<id>.json       failed attempts so far, next try, last error
//   lock                                         one delivering process at a time
//
// A copy is pending while its marker is there and no `delivered` file is: a crash at any point
// leaves it pending (or announced twice with the same idempotency key), never lost.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createFileExclusive, writeFileAtomic } from '../store/atomic.js';
import { cacheDir, TEMP_PREFIX } from '../store/layout.js';
import { ensureCacheDir } from '../store/links.js';
import type { AttemptRecord, OutboxView } from './plan.js';

export function outboxDir(root: string): string {
  return join(cacheDir(root), 'outbox');
}

export function outboxLockPath(root: string): string {
  return join(outboxDir(root), 'lock');
}

function ensure(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** Records that this clone must announce a message copy; call before writing the copy. */
export function queueCopy(root: string, folder: string, id: string): void {
  ensureCacheDir(root);
  const dir = join(outboxDir(root), 'queued', folder);
  ensure(dir);
  createFileExclusive(join(dir, id), '');
}

/** The queued copies: folder → ids. */
export function queuedCopies(root: string): { folder: string; id: string }[] {
  const base = join(outboxDir(root), 'queued');
  const out: { folder: string; id: string }[] = [];
  let folders: string[];
  try {
    folders = readdirSync(base).sort();
  } catch {
    return out;
  }
  for (const folder of folders) {
    let ids: string[];
    try {
      ids = readdirSync(join(base, folder)).sort();
    } catch {
      continue;
    }
    for (const id of ids) if (!id.startsWith(TEMP_PREFIX)) out.push({ folder, id });
  }
  return out;
}

/** Every copy is settled for every endpoint: stop tracking it. */
export function unqueueCopy(root: string, folder: string, id: string): void {
  try {
    unlinkSync(join(outboxDir(root), 'queued', folder, id));
  } catch {
    /* gone */
  }
}

function deliveredPath(root: string, endpoint: string, folder: string, id: string): string {
  return join(outboxDir(root), 'delivered', endpoint, folder, id);
}

function attemptsPath(root: string, endpoint: string, folder: string, id: string): string {
  return join(outboxDir(root), 'attempts', endpoint, folder, `${id}.json`);
}

export function markDelivered(root: string, endpoint: string, folder: string, id: string): void {
  const path = deliveredPath(root, endpoint, folder, id);
  ensure(dirname(path));
  createFileExclusive(path, '');
}

export function writeAttempts(
  root: string,
  endpoint: string,
  folder: string,
  id: string,
  r: AttemptRecord,
): void {
  const path = attemptsPath(root, endpoint, folder, id);
  ensure(dirname(path));
  writeFileAtomic(path, `${JSON.stringify(r)}\n`);
}

export function clearAttempts(root: string, endpoint: string, folder: string, id: string): void {
  rmSync(attemptsPath(root, endpoint, folder, id), { force: true });
}

function readAttempts(root: string, endpoint: string, folder: string, id: string): AttemptRecord | undefined {
  let text: string;
  try {
    text = readFileSync(attemptsPath(root, endpoint, folder, id), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const r = JSON.parse(text) as AttemptRecord;
    if (Number.isInteger(r.attempts) && typeof r.last_error === 'string') return r;
  } catch {
    /* torn: written with rename, so only a hand edit; start over */
  }
  return undefined;
}

/** The outbox's records, read from disk as the planner asks for them. */
export function outboxView(root: string): OutboxView {
  return {
    delivered: (endpoint, folder, id) => existsSync(deliveredPath(root, endpoint, folder, id)),
    attempts: (endpoint, folder, id) => readAttempts(root, endpoint, folder, id),
  };
}

/** Copies with a failed record, for every endpoint (they stay queued until retried or dropped). */
export function failedRecords(
  root: string,
): { endpoint: string; folder: string; id: string; record: AttemptRecord }[] {
  const base = join(outboxDir(root), 'attempts');
  const out: { endpoint: string; folder: string; id: string; record: AttemptRecord }[] = [];
  const list = (dir: string) => {
    try {
      return readdirSync(dir).sort();
    } catch {
      return [];
    }
  };
  for (const endpoint of list(base))
    for (const folder of list(join(base, endpoint)))
      for (const name of list(join(base, endpoint, folder))) {
        if (!name.endsWith('.json')) continue;
        const id = name.slice(0, -5);
        const record = readAttempts(root, endpoint, folder, id);
        if (record?.failed) out.push({ endpoint, folder, id, record });
      }
  return out;
}
