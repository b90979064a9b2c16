// `config set` edits one line of config.toml: what it sets reads back, every comment survives,
// and what it cannot edit safely is refused with the reason and the file left as it was.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import { getPath, parseCliValue, setConfigText } from '../../src/store/config-edit.js';
import { gastownInProcess as gastown } from '../helpers/inproc.js';
import { ROOT } from '../helpers/repo.js';
import { gtOkInProcess as gtOk, mailRepo } from '../mail/helpers.js';

const template = readFileSync(join(ROOT, '.beads-template/config.toml'), 'utf8');
const comments = (text: string) =>
  text.split('\n').filter((l) => l.trim().startsWith('#') || l.includes(' # '));

const segment = fc.stringMatching(/^[a-z][a-z0-9_-]{0,7}$/);
const table = fc.oneof(
  fc.constant(['engine']),
  fc.constant(['teams']),
  fc.constant(['users', 'jgil']),
  fc.array(segment, { minLength: 1, maxLength: 3 }),
);
const value = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.integer({ min: -1e9, max: 1e9 }),
  fc.boolean(),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }),
);

describe('setConfigText', () => {
  it('sets a key so that it reads back, keeping every other key and every comment', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(table, segment, value), { minLength: 1, maxLength: 6 }), (edits) => {
        let text = template;
        const expected = parse(template) as Record<string, unknown>;
        for (const [t, key, v] of edits) {
          const path = [...t, key];
          // A path through something that is a value in the document is refused (tested below).
          let blocked = false;
          for (let n = 1; n <= path.length; n++) {
            const at = getPath(expected, path.slice(0, n));
            if (
              at !== undefined &&
              (n < path.length
                ? typeof at !== 'object' || Array.isArray(at)
                : typeof at === 'object' && !Array.isArray(at))
            )
              blocked = true;
          }
          if (blocked) continue;
          text = setConfigText(text, path, v, 'config.toml');
          let at = expected;
          for (const p of t) at = (at[p] ??= {}) as Record<string, unknown>;
          at[key] = v;
          expect(getPath(parse(text) as Record<string, unknown>, path)).toEqual(v);
        }
        expect(parse(text)).toEqual(expected);
        // Every comment line of the template is still there, in order.
        const kept = comments(text);
        let i = 0;
        for (const c of comments(template)) {
          i = kept.indexOf(c, i);
          expect(i).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('replaces a value in place and keeps the comment after it', () => {
    const text = '[engine]\ncommit = true   # commit after hooks\nhook_timeout = "5s"\n';
    expect(setConfigText(text, ['engine', 'commit'], false, 'c')).toBe(
      '[engine]\ncommit = false   # commit after hooks\nhook_timeout = "5s"\n',
    );
    expect(setConfigText('a = "x # not a comment" # a comment\n', ['a'], 'y', 'c')).toBe(
      'a = "y" # a comment\n',
    );
  });

  it('refuses what it cannot edit safely and says why', () => {
    expect(() =>
      setConfigText('[teams]\nleads = [\n  "@jgil",\n]\n', ['teams', 'leads'], ['@ana'], 'c'),
    ).toThrow('cannot set `teams.leads` safely: its value spans several lines; edit the file by hand');
    expect(() => setConfigText('[users]\njgil.name = "J"\n', ['users', 'jgil', 'name'], 'G', 'c')).toThrow(
      /cannot set `users.jgil.name` safely: .*a dotted key/,
    );
    expect(() =>
      setConfigText('users = { jgil = { name = "J" } }\n', ['users', 'jgil', 'name'], 'G', 'c'),
    ).toThrow(/cannot set `users.jgil.name` safely/);
    expect(() => setConfigText('[engine]\ncommit = true\n', ['engine'], 1, 'c')).toThrow(
      'it is a table; set one of its keys',
    );
    expect(() => setConfigText('[[hooks]]\nname = "a"\n', ['hooks', 'name'], 'b', 'c')).toThrow(
      /`hooks` is a value, not a table/,
    );
  });

  it('reads a value the way TOML writes it, and anything else as text', () => {
    expect(parseCliValue('true', false)).toBe(true);
    expect(parseCliValue('5', false)).toBe(5);
    expect(parseCliValue('["@jgil", "polecat-1"]', false)).toEqual(['@jgil', 'polecat-1']);
    expect(parseCliValue('gastown bot', false)).toBe('gastown bot');
    expect(parseCliValue('5', true)).toBe('5');
  });
});

describe('gastown config', () => {
  let repo: Awaited<ReturnType<typeof mailRepo>> | undefined;
  afterEach(() => repo?.cleanup());

  it('gets, sets and lists keys; a value the schema refuses is not written', async () => {
    repo = await mailRepo();
    const cwd = repo.path;
    const file = join(cwd, '.beads/config.toml');
    writeFileSync(file, `${template}\n[users.jgil]\nemails = ["jgil@example.com"] # the approver\n`);
    expect(await gtOk(cwd, ['config', 'get', 'engine.hook_timeout'])).toBe('5s');
    expect(await gtOk(cwd, ['config', 'set', 'engine.hook_timeout', '10s'])).toBe(
      'engine.hook_timeout = "10s"',
    );
    expect(await gtOk(cwd, ['config', 'set', 'teams.leads', '["@jgil"]'])).toBe('teams.leads = [ "@jgil" ]');
    await gtOk(cwd, ['config', 'set', 'notifications.webhook.ops.url', 'https://hooks.example.com/x']);
    const text = readFileSync(file, 'utf8');
    for (const c of comments(template)) expect(text).toContain(c);
    expect(text).toContain('emails = ["jgil@example.com"] # the approver');
    expect(text).toContain('hook_timeout = "10s"\n');
    expect(text.endsWith('[notifications.webhook.ops]\nurl = "https://hooks.example.com/x"\n')).toBe(true);
    expect(JSON.parse(await gtOk(cwd, ['config', 'get', 'teams', '--json']))).toEqual({ leads: ['@jgil'] });
    const list = await gtOk(cwd, ['config', 'list']);
    expect(list.split('\n')).toContain('engine.commit = true');
    expect(list.split('\n')).toContain('users.jgil.emails = [ "jgil@example.com" ]');

    for (const [args, message] of [
      [
        ['engine.hook_timeout', 'soon'],
        '.beads/config.toml: engine.hook_timeout: `engine.hook_timeout` must be a duration',
      ],
      [['engine.commit', 'yes'], '`engine.commit` must be true or false'],
      [['notifications.webhook.ops.url', 'ftp://x'], 'must be an http:// or https:// URL'],
      [['mail.routes.step_done', '["assignee"]'], 'unknown message type `step_done`'],
    ] as const) {
      const r = await gastown(['config', 'set', ...args], cwd);
      expect(r.exitCode, String(r.stderr)).toBe(1);
      expect(String(r.stderr)).toContain(message);
    }
    expect(readFileSync(file, 'utf8')).toBe(text);
    const missing = await gastown(['config', 'get', 'engine.nope'], cwd);
    expect(missing.exitCode).toBe(1);
    expect(String(missing.stderr).trim()).toBe(
      'error: .beads/config.toml: engine.nope: no key `engine.nope`',
    );
    const bad = await gastown(['config', 'set', 'users.j gil.name', 'x'], cwd);
    expect(bad.exitCode).toBe(2);
  });
});
