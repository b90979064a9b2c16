// TOML parsed once per content: the parse of a text is stored as JSON under the text's blob id,
// because JSON.parse is many times faster than a TOML parse in a fresh process. For large files
// read on every run (a molecule's frozen `formula.resolved.toml`). Only documents that JSON
// represents exactly are stored (no dates, no NaN/Infinity/-0, no `__proto__` key), and tables
// come back with a null prototype as smol-toml makes them, so a hit is deep-equal to a parse.
import { parse } from 'smol-toml';
import { blobId } from '../git/blob-id.js';
import { jsonExact, nullPrototypes } from '../store/json-exact.js';
import { type ContentCache, moduleFingerprint, sha256 } from './cache.js';

/**
 * `smol-toml`'s `parse(text)`, answered from `cache` when this text was parsed before. Syntax
 * errors are thrown exactly as `parse` throws them (they are never cached).
 */
export function parseTomlCached(text: string, cache: ContentCache | undefined): Record<string, unknown> {
  const fingerprint = cache ? moduleFingerprint(import.meta.url) : undefined;
  if (!cache || fingerprint === undefined) return parse(text);
  const key = sha256('toml', fingerprint, blobId(text));
  const stored = cache.read(key) as { toml?: unknown } | undefined;
  // The stored JSON is revived into null-prototype tables; anything unexpected is a miss.
  if (stored && typeof stored.toml === 'object' && stored.toml !== null && !Array.isArray(stored.toml))
    return nullPrototypes(stored.toml) as Record<string, unknown>;
  const doc = parse(text);
  if (jsonExact(doc)) cache.write(key, { toml: doc });
  return doc;
}
