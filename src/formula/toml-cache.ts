// TOML parsed once per content: the parse of a text is stored as JSON under the text's blob id,
// because JSON.parse is many times faster than a TOML parse in a fresh process. For large files
// read on every run (a molecule's frozen `formula.resolved.toml`). Only documents that JSON
// represents exactly are stored (no dates, no NaN/Infinity/-0, no `__proto__` key), and tables
// come back with a null prototype as smol-toml makes them, so a hit is deep-equal to a parse.
import { parse } from 'smol-toml';
import { blobId, type ContentCache, moduleFingerprint, sha256 } from './cache.js';

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

/** True when JSON.stringify then JSON.parse gives back an equal value. */
function jsonExact(v: unknown): boolean {
  if (typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (Array.isArray(v)) return v.every(jsonExact);
  if (v === null || typeof v !== 'object' || v instanceof Date) return false;
  for (const key of Object.keys(v)) {
    if (key === '__proto__' || !jsonExact((v as Record<string, unknown>)[key])) return false;
  }
  return true;
}

function nullPrototypes(v: unknown): unknown {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = nullPrototypes(v[i]);
    return v;
  }
  if (v === null || typeof v !== 'object') return v;
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(v)) out[key] = nullPrototypes((v as Record<string, unknown>)[key]);
  return out;
}
