// Parsed TOML stored as JSON (a JSON.parse is many times faster than a TOML parse in a fresh
// process): which documents JSON carries exactly, and how to revive them as smol-toml makes them.

/** True when JSON.stringify then JSON.parse gives back an equal value. */
export function jsonExact(v: unknown): boolean {
  if (typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (Array.isArray(v)) return v.every(jsonExact);
  if (v === null || typeof v !== 'object' || v instanceof Date) return false;
  for (const key of Object.keys(v)) {
    if (key === '__proto__' || !jsonExact((v as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** Null-prototype tables, as smol-toml builds them, so a revived document is deep-equal to a parse. */
export function nullPrototypes(v: unknown): unknown {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = nullPrototypes(v[i]);
    return v;
  }
  if (v === null || typeof v !== 'object') return v;
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(v)) out[key] = nullPrototypes((v as Record<string, unknown>)[key]);
  return out;
}
