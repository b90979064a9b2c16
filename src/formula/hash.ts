// Content hash of a resolved formula: sha256 over canonical JSON (sorted keys, no undefined), so the
// same formula hashes the same in every process and key order never matters.
import { hashHex } from '../hash.js';
import type { ResolvedFormula } from './model.js';

export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

// Same text as JSON.stringify over a key-sorted copy, without building the copy.
function write(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += `${i > 0 ? ',' : ''}${write(v[i]) ?? 'null'}`;
    return `${s}]`;
  }
  if (v instanceof Date) return JSON.stringify(v);
  const obj = v as Record<string, unknown>;
  let s = '{';
  let first = true;
  for (const key of Object.keys(obj).sort()) {
    const text = write(obj[key]);
    if (text === undefined) continue;
    s += `${first ? '' : ','}${JSON.stringify(key)}:${text}`;
    first = false;
  }
  return `${s}}`;
}

/** sha256 (hex) of the formula without its `hash` and `warnings`. */
export function formulaHash(f: ResolvedFormula): string {
  // Reads every key but those two, so it is safe to call from a lazy `hash` getter.
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(f)) {
    if (key !== 'hash' && key !== 'warnings') rest[key] = (f as unknown as Record<string, unknown>)[key];
  }
  return hashHex('sha256', canonicalJson(rest));
}

/**
 * Makes `f.hash` computed on first read (then a plain value). Hashing a 1,000-step formula costs
 * about as much as resolving it, and most callers (validate, ready sets) never look at it.
 * The property stays enumerable, so JSON, spreads and TOML writers see a normal string.
 */
export function setLazyHash(f: ResolvedFormula): ResolvedFormula {
  Object.defineProperty(f, 'hash', {
    enumerable: true,
    configurable: true,
    get() {
      const value = formulaHash(f);
      Object.defineProperty(f, 'hash', { value, enumerable: true, configurable: true, writable: true });
      return value;
    },
    set(value: string) {
      Object.defineProperty(f, 'hash', { value, enumerable: true, configurable: true, writable: true });
    },
  });
  return f;
}
