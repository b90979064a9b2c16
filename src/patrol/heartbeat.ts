// Heartbeat files: `.beads/.cache/heartbeats/<agent>.json`, `{"agent","at"}`. Gitignored with the
// rest of the cache: a heartbeat says something about this machine now, not about the project.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { addressFolder, folderAddress } from '../mail/address.js';
import { readIfExists, writeFileAtomic } from '../store/atomic.js';
import { cacheDir } from '../store/layout.js';
import { ensureCacheDir } from '../store/links.js';

export function heartbeatsDir(root: string): string {
  return join(cacheDir(root), 'heartbeats');
}

export function writeHeartbeat(root: string, agent: string, now: Date): string {
  ensureCacheDir(root);
  const dir = heartbeatsDir(root);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${addressFolder(agent)}.json`);
  writeFileAtomic(path, `${JSON.stringify({ agent, at: now.toISOString() })}\n`, { durable: false });
  return path;
}

/** Every agent's last heartbeat (ms); a torn or foreign file is skipped. */
export function readHeartbeats(root: string): Map<string, number> {
  const out = new Map<string, number>();
  let names: string[];
  try {
    names = readdirSync(heartbeatsDir(root));
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const agent = folderAddress(name.slice(0, -5));
    if (!agent) continue;
    try {
      const data = JSON.parse(readIfExists(join(heartbeatsDir(root), name)) ?? '') as {
        agent?: unknown;
        at?: unknown;
      };
      const at = typeof data.at === 'string' ? Date.parse(data.at) : Number.NaN;
      if (data.agent === agent && Number.isFinite(at)) out.set(agent, at);
    } catch {
      /* a torn write: the next heartbeat replaces it */
    }
  }
  return out;
}
