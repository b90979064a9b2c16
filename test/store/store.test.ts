// The store's pieces on a real disk: ids, ULIDs, TOML, atomic writes, config, lock, cache keys.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../src/errors.js';
import { createFileExclusive } from '../../src/store/atomic.js';
import {
  eventsKey,
  hashKey,
  moleculeFingerprint,
  moleculeKeyLines,
  moleculeKeyOf,
} from '../../src/store/cache.js';
import { identityForEmail, loadConfig } from '../../src/store/config.js';
import { assertMoleculeId, assertPathSegment, ulid } from '../../src/store/ids.js';
import { parseEventName, stepEventPath } from '../../src/store/layout.js';
import { acquireLock } from '../../src/store/lock.js';
import { hasConflictMarkers, parseFlatToml, parseToml, stringifyToml } from '../../src/store/toml.js';
import { tempDir } from '../helpers/repo.js';

const dirs: { cleanup(): void }[] = [];
const scratch = () => {
  const d = tempDir();
  dirs.push(d);
  return d.path;
};
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

describe('ids', () => {
  it('accepts molecule ids and rejects anything that could escape a folder', () => {
    expect(assertMoleculeId('day3-workflow-refs')).toBe('day3-workflow-refs');
    for (const bad of ['../x', 'a/b', '/abs', 'a\0b', '', '-lead', 'Caps', 'a_b', 'x'.repeat(129), 'a..b']) {
      expect(() => assertMoleculeId(bad), bad).toThrow(UsageError);
    }
    expect(() => assertMoleculeId('a/b')).toThrow('must not contain a path separator');
    expect(() => assertPathSegment('..', 'step id')).toThrow(UsageError);
    expect(() => stepEventPath('../../etc', 1, 'done')).toThrow(UsageError);
  });

  it('round-trips event file names, and molecule facts never look like step facts', () => {
    expect(parseEventName('do-green.2.reopened.toml')).toEqual({
      scope: 'step',
      step: 'do-green',
      attempt: 2,
      kind: 'reopened',
    });
    expect(parseEventName('v1.2.1.done.toml')).toEqual({
      scope: 'step',
      step: 'v1.2',
      attempt: 1,
      kind: 'done',
    });
    expect(parseEventName('molecule.completed.toml')).toEqual({ scope: 'molecule', kind: 'completed' });
    expect(parseEventName('molecule.1.done.toml')).toEqual({
      scope: 'step',
      step: 'molecule',
      attempt: 1,
      kind: 'done',
    });
    expect(parseEventName('notes.txt')).toBeUndefined();
  });

  it('makes ULIDs that sort in creation order, also within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => ulid(1_767_690_000_000));
    expect(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ulid(1_767_690_000_001) > (ids.at(-1) as string)).toBe(true);
  });
});

describe('toml', () => {
  it('writes keys in a stable order, whatever order they were given in', () => {
    const a = stringifyToml({ kind: 'done', step: 's', attempt: 1, by: 'x', extra: undefined }, [
      'step',
      'attempt',
      'kind',
    ]);
    const b = stringifyToml({ by: 'x', attempt: 1, step: 's', kind: 'done' }, ['step', 'attempt', 'kind']);
    expect(a).toBe(b);
    expect(a).toBe('step = "s"\nattempt = 1\nkind = "done"\nby = "x"\n');
  });

  it('the flat fast path reads exactly what the TOML parser reads', () => {
    const key = fc.stringMatching(/^[a-z_][a-z0-9_-]{0,8}$/);
    const value = fc.oneof(fc.string({ maxLength: 20 }), fc.integer({ min: -1000, max: 1000 }));
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), (table) => {
        const text = stringifyToml(table);
        expect(parseFlatToml(text, 'f.toml')).toEqual(parseToml(text, 'f.toml'));
      }),
      { numRuns: 300 },
    );
  });

  it('names file, line and column of a syntax error and spots conflict markers', () => {
    expect(() => parseToml('a = 1\nb = = 2\n', 'x.toml')).toThrow(
      expect.objectContaining({ location: { file: 'x.toml', line: 2, column: 5 } }),
    );
    expect(hasConflictMarkers('<<<<<<< HEAD\nby = "a"\n=======\nby = "b"\n>>>>>>> theirs\n')).toBe(true);
    expect(hasConflictMarkers('reason = "<<<<<<< not a marker"\n')).toBe(false);
  });
});

describe('atomic create', () => {
  it('writes a missing file, leaves an equal one, never overwrites a different one', () => {
    const dir = scratch();
    const path = join(dir, 'events', 'a.1.done.toml');
    expect(createFileExclusive(path, 'one\n')).toBe('written');
    expect(createFileExclusive(path, 'one\n')).toBe('same');
    expect(createFileExclusive(path, 'two\n')).toBe('conflict');
    expect(readFileSync(path, 'utf8')).toBe('one\n');
    expect(readdirSync(join(dir, 'events'))).toEqual(['a.1.done.toml']);
  });
});

describe('config', () => {
  it('uses defaults when missing, keeps unknown sections, names the key of a bad value', () => {
    const root = scratch();
    expect(loadConfig(root).engine).toEqual({
      commit: true,
      author_name: 'gastown',
      author_email: 'gastown@localhost',
      hook_timeout: '5s',
    });
    mkdirSync(join(root, '.beads'));
    writeFileSync(
      join(root, '.beads/config.toml'),
      '[engine]\ncommit = false\nfuture_key = 1\n[users.jgil]\nname = "J. Gil"\nemails = ["jgil@example.com"]\n[agents.polecat-1]\nemails = ["p1@agents.example.com"]\n[teams]\nleads = ["@jgil"]\n[mail]\nroute = "x"\n',
    );
    const config = loadConfig(root);
    expect(config.engine.commit).toBe(false);
    expect(config.teams).toEqual({ leads: ['@jgil'] });
    expect(config.extra).toEqual({ engine: { future_key: 1 }, mail: { route: 'x' } });
    expect(identityForEmail(config, 'P1@agents.example.com')).toBe('polecat-1');
    expect(identityForEmail(config, 'jgil@example.com')).toBe('@jgil');
    writeFileSync(join(root, '.beads/config.toml'), '[users.jgil]\nemails = "jgil@example.com"\n');
    expect(() => loadConfig(root)).toThrow(
      expect.objectContaining({ location: { file: '.beads/config.toml', path: 'users.jgil.emails' } }),
    );
    writeFileSync(join(root, '.beads/config.toml'), '[engine]\nhook_timeout = "soon"\n');
    expect(() => loadConfig(root)).toThrow('must be a duration');
  });
});

describe('lock', () => {
  it('is exclusive, takes over a dead holder, and gives up on a live one with exit code busy', async () => {
    const root = scratch();
    const lock = await acquireLock(root, 0);
    await expect(acquireLock(root, 50)).rejects.toMatchObject({
      exitCode: ExitCode.busy,
      message: expect.stringContaining(`pid ${process.pid}`),
    });
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    // A lock left by a process that no longer exists (pid far above any live one).
    writeFileSync(
      lock.path,
      JSON.stringify({ pid: 2 ** 22 + 17, host: hostname(), started: '2026-01-06T09:00:00Z' }),
    );
    const taken = await acquireLock(root, 0);
    expect(JSON.parse(readFileSync(taken.path, 'utf8')).pid).toBe(process.pid);
    taken.release();
  });
});

describe('cache keys', () => {
  it('the folder read from disk and the same files in memory give one key; a mutable edit changes it', () => {
    const root = scratch();
    const files = new Map([
      ['molecule.toml', 'id = "m"\n'],
      ['events/a.1.ready.toml', 'step = "a"\n'],
      ['checkpoints/a.md', '---\ndecision: pending\n---\n'],
    ]);
    for (const [rel, content] of files) {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), content);
    }
    writeFileSync(join(root, '.gastown-tmp-1-x'), 'ignored');
    expect(moleculeFingerprint(root)).toBe(moleculeKeyOf(files));
    writeFileSync(join(root, 'checkpoints/a.md'), '---\ndecision: approved\n---\n');
    expect(moleculeFingerprint(root)).not.toBe(moleculeKeyOf(files));
  });

  it('the fast events key equals the key of the events lines, and declines folders it cannot key', () => {
    const root = scratch();
    const events = join(root, 'events');
    mkdirSync(events, { recursive: true });
    const slow = () => hashKey(moleculeKeyLines(root, 'events') ?? [], 'events|salt|');
    expect(eventsKey(root, 'events|salt|')).toBe(slow()); // empty
    for (const name of [
      'zeta.1.ready.toml',
      'alpha.2.done.toml',
      'alpha.10.done.toml',
      'molecule.completed.toml',
    ])
      writeFileSync(join(events, name), 'x');
    expect(eventsKey(root, 'events|salt|')).toBe(slow());
    expect(eventsKey(root, 'events|other|')).not.toBe(slow());
    writeFileSync(join(events, '.gastown-tmp-1-x'), 'temp');
    expect(eventsKey(root, 'events|salt|')).toBeUndefined();
    rmSync(join(events, '.gastown-tmp-1-x'));
    mkdirSync(join(events, 'nested'));
    expect(eventsKey(root, 'events|salt|')).toBeUndefined();
    expect(eventsKey(join(root, 'gone'), 'events|salt|')).toBeUndefined();
  });
});
