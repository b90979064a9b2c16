// config.toml parsed once per content. A TOML parse of a config with a hundred `[agents.<name>]`
// tables costs smol-toml ~10 ms in a fresh process, on every command, and a five-line one 1-2 ms
// (the parser's first run is not optimised); reading and JSON.parse of the entry ~0.1 ms, so
// every size is cached. The entry holds the text it was parsed from and counts only when the
// file's text is exactly that (a content key without hashing, which would load node:crypto).
// Derived data under .beads/.cache/: deleting it costs one parse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { jsonExact, nullPrototypes } from './json-exact.js';
import { cacheDir } from './layout.js';
import { ensureCacheDir } from './links.js';
import { parseToml, type TomlTable } from './toml.js';

const FILE = 'config.json';

export function parseConfigTomlCached(root: string, text: string, file: string): TomlTable {
  const path = join(cacheDir(root), FILE);
  try {
    const entry = JSON.parse(readFileSync(path, 'utf8')) as { text?: unknown; doc?: unknown };
    if (
      entry.text === text &&
      typeof entry.doc === 'object' &&
      entry.doc !== null &&
      !Array.isArray(entry.doc)
    )
      return nullPrototypes(entry.doc) as TomlTable;
  } catch {
    /* no entry, or a torn one: parse */
  }
  const doc = parseToml(text, file);
  // Dates and other values JSON cannot carry are never stored.
  if (jsonExact(doc)) {
    try {
      ensureCacheDir(root);
      writeFileAtomic(path, JSON.stringify({ text, doc }), { durable: false });
    } catch {
      /* a cache that cannot be written costs time only */
    }
  }
  return doc;
}
