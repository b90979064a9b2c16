// Escalations on disk: raise, acknowledge, close, read, and the writes patrol makes
// (re-escalations, the engine's own escalations). Planning is in plan.ts.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GastownError, UsageError } from '../errors.js';
import { addressFolder, assertAddress } from '../mail/address.js';
import { writeMailFiles } from '../mail/send.js';
import { createFileExclusive, readIfExists, readSmallFile } from '../store/atomic.js';
import { assertPathSegment, ulid } from '../store/ids.js';
import { checkBeadsPath } from '../store/links.js';
import { parseWrittenToml } from '../store/toml.js';
import type { GastownConfig } from '../store/types.js';
import {
  ackFile,
  checkEscalation,
  closedFile,
  ESCALATIONS_DIR,
  type EscalationRecord,
  escalationRel,
  escalationSettings,
  isSeverity,
  renderEscalation,
  renderMark,
  SEVERITIES,
} from './model.js';
import { type EscalationState, escalationMail, planReescalations, type Reescalation } from './plan.js';

const abs = (root: string, rel: string) => join(root, rel);

export function listEscalationIds(root: string): string[] {
  try {
    return readdirSync(abs(root, ESCALATIONS_DIR), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * Author time of the commit that first added each file under `.beads/escalations/` (one
 * `git log`). A file two clones both added has two such commits; the earlier counts, so every
 * clone agrees after they merge.
 */
export async function addedTimes(root: string): Promise<Map<string, number>> {
  // Loaded here: patrol with no escalation never starts git.
  const { git } = await import('../git/exec.js');
  const r = await git(['log', '--format=%x00%at', '--diff-filter=A', '--name-only', '--', ESCALATIONS_DIR], {
    cwd: root,
    allowFailure: true,
  });
  const out = new Map<string, number>();
  if (r.exitCode !== 0) return out;
  for (const chunk of r.stdout.split('\0')) {
    const [first, ...names] = chunk.split('\n');
    const at = Number(first) * 1000;
    if (!Number.isFinite(at) || first === '') continue;
    for (const n of names) {
      if (n === '') continue;
      const prev = out.get(n);
      if (prev === undefined || at < prev) out.set(n, at);
    }
  }
  return out;
}

/** Reads one escalation's folder; `times` from addedTimes (omit for a view without staleness). */
export function readEscalation(
  root: string,
  id: string,
  times?: ReadonlyMap<string, number>,
): EscalationState {
  assertPathSegment(id, 'escalation id');
  const rel = escalationRel(id);
  const text = readIfExists(abs(root, rel));
  if (text === undefined)
    throw new GastownError('escalation.unknown', `no escalation ${id} (looked for ${rel})`);
  const record = checkEscalation(parseWrittenToml(text, rel), rel, id);
  const state: EscalationState = { record, level: 0, acks: [], closed: [], since: new Map() };
  const t0 = times?.get(rel);
  if (t0 !== undefined) state.since.set(0, t0);
  for (const name of readdirSync(abs(root, `${ESCALATIONS_DIR}/${id}`)).sort()) {
    const file = `${ESCALATIONS_DIR}/${id}/${name}`;
    let m = /^reescalated\.(\d+)\.toml$/.exec(name);
    if (m) {
      const n = Number(m[1]);
      state.level = Math.max(state.level, n);
      const t = times?.get(file);
      if (t !== undefined) state.since.set(n, t);
      continue;
    }
    m = /^(ack|closed)\.(.+)\.toml$/.exec(name);
    if (m) {
      const mark = parseWrittenToml(readSmallFile(abs(root, file)), file);
      const by = typeof mark.by === 'string' ? mark.by : (m[2] as string);
      if (m[1] === 'ack') state.acks.push(by);
      else state.closed.push({ by, ...(typeof mark.reason === 'string' ? { reason: mark.reason } : {}) });
    }
  }
  return state;
}

export async function readEscalations(root: string, withTimes = true): Promise<EscalationState[]> {
  const ids = listEscalationIds(root);
  if (ids.length === 0) return [];
  const times = withTimes ? await addedTimes(root) : undefined;
  return ids.map((id) => readEscalation(root, id, times));
}

/** Writes an escalation's files: its record, then its first mail. Returns the paths written. */
function writeEscalation(
  root: string,
  config: GastownConfig,
  record: EscalationRecord,
): { written: string[]; logged: boolean } {
  const settings = escalationSettings(config);
  const rel = escalationRel(record.id);
  const dir = abs(root, `${ESCALATIONS_DIR}/${record.id}`);
  checkBeadsPath(root, dir);
  const mail = escalationMail(record, 0, settings, config);
  const written: string[] = [];
  // Mail first: a crash before the record leaves mail that the retry writes again byte for byte.
  for (const w of writeMailFiles(root, config, mail.files)) if (w.outcome === 'written') written.push(w.path);
  mkdirSync(dir, { recursive: true });
  if (createFileExclusive(abs(root, rel), renderEscalation(record)) === 'written') written.push(rel);
  return { written, logged: mail.logged };
}

export interface RaiseOptions {
  what: string;
  severity: string;
  molecule?: string;
  to?: string;
  by?: string;
  now: Date;
}

export function checkRaise(config: GastownConfig, opts: RaiseOptions): EscalationRecord {
  const what = opts.what.trim();
  if (what === '' || /[\r\n]/.test(what))
    throw new UsageError('escalate: say what is wrong in one non-empty line');
  if (!isSeverity(opts.severity))
    throw new UsageError(
      `--severity must be one of ${SEVERITIES.join(', ')}, not ${JSON.stringify(opts.severity)}`,
    );
  if (opts.to !== undefined) assertAddress(config, opts.to, '--to');
  escalationSettings(config); // a malformed [escalation] section stops it before anything is written
  return {
    id: ulid(opts.now.getTime()),
    severity: opts.severity,
    what,
    source: 'manual',
    ...(opts.molecule ? { molecule: opts.molecule } : {}),
    ...(opts.to ? { to: [opts.to] } : {}),
    ...(opts.by ? { by: opts.by } : {}),
  };
}

export function raiseEscalation(root: string, config: GastownConfig, record: EscalationRecord) {
  return writeEscalation(root, config, record);
}

/** An ack or close: one file per person, so two people (or two clones) never conflict. */
export function markEscalation(
  root: string,
  id: string,
  kind: 'ack' | 'closed',
  by: string,
  reason?: string,
): { path: string; changed: boolean } {
  const state = readEscalation(root, id);
  if (kind === 'ack' && state.closed.length > 0)
    throw new GastownError(
      'escalation.closed',
      `escalation ${id} is closed; there is nothing to acknowledge`,
    );
  const name = kind === 'ack' ? ackFile(addressFolder(by)) : closedFile(addressFolder(by));
  const rel = escalationRel(id, name);
  checkBeadsPath(root, abs(root, rel));
  const outcome = createFileExclusive(abs(root, rel), renderMark(by, reason));
  if (outcome === 'conflict')
    throw new GastownError('escalation.exists', `${rel} exists with other content; left as it is`, {
      location: { file: rel },
    });
  return { path: rel, changed: outcome === 'written' };
}

export interface PatrolEscalations {
  reescalated: Reescalation[];
  raised: EscalationRecord[];
  written: string[];
}

/** Re-escalates what is stale at `now` and raises the engine's own escalations; call holding the lock. */
export async function escalateDue(
  root: string,
  config: GastownConfig,
  now: number,
  auto: readonly EscalationRecord[],
): Promise<PatrolEscalations> {
  const out: PatrolEscalations = { reescalated: [], raised: [], written: [] };
  for (const record of auto) {
    if (existsSync(abs(root, escalationRel(record.id)))) continue;
    out.written.push(...writeEscalation(root, config, record).written);
    out.raised.push(record);
  }
  const states = await readEscalations(root);
  for (const r of planReescalations(states, escalationSettings(config), config, now)) {
    for (const w of writeMailFiles(root, config, r.mail))
      if (w.outcome === 'written') out.written.push(w.path);
    checkBeadsPath(root, abs(root, r.file.path));
    if (createFileExclusive(abs(root, r.file.path), r.file.content) === 'written')
      out.written.push(r.file.path);
    out.reescalated.push(r);
  }
  return out;
}
