// The message file format and address folders: what gastown writes reads back the same by the
// fast reader and by the YAML parser; folder names are safe and map back to their address.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFrontMatter } from '../../src/checkpoint/frontmatter.js';
import { addressFolder, assertAddress, expandRecipients, folderAddress } from '../../src/mail/address.js';
import {
  checkHeader,
  type MailHeader,
  parseMessage,
  parseMessageFast,
  renderMessage,
} from '../../src/mail/message.js';
import { mailConfig } from './helpers.js';

const text = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
  .filter((s) => !/[\r\n]/.test(s) && s.trim() === s && s !== '');
const word = fc.stringMatching(/^[A-Za-z0-9_@:.-]{1,20}$/);

const header: fc.Arbitrary<MailHeader> = fc.record(
  {
    from: word,
    to: fc.array(word, { minLength: 1, maxLength: 3 }),
    cc: fc.array(word, { minLength: 1, maxLength: 2 }),
    subject: text,
    type: fc.constantFrom('message', 'STEP_READY', 'CHECKPOINT_READY'),
    thread: word,
    reply_to: word,
    priority: fc.constantFrom('low', 'normal', 'high', 'urgent'),
    molecule: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/),
    step: word,
    attempt: fc.integer({ min: 1, max: 50 }),
  },
  { requiredKeys: ['from', 'to', 'subject', 'type'] },
);

describe('message files', () => {
  it('read back the same through the fast reader and the YAML parser', async () => {
    await fc.assert(
      fc.asyncProperty(header, fc.string({ maxLength: 200 }), async (h, body) => {
        const file = renderMessage(h, body);
        const fast = parseMessageFast(file);
        expect(fast).toBeDefined();
        const yaml = parseFrontMatter(file);
        expect(checkHeader(yaml.data)).toEqual(fast?.header);
        expect(fast?.header).toEqual(checkHeader(h as unknown as Record<string, unknown>));
        expect((await parseMessage(file)).body).toBe(fast?.body);
      }),
      { numRuns: 100 },
    );
  });

  it('takes the fast path for a subject holding a line or paragraph separator', async () => {
    for (const subject of ['a\u2028b', 'a\u2029b', 'a\u0085b']) {
      const file = renderMessage({ from: 'a', to: ['b'], subject, type: 'message' }, '');
      expect(parseMessageFast(file)?.header.subject).toBe(subject);
      expect((await parseMessage(file)).header.subject).toBe(subject);
    }
  });

  it('reads a message written by hand in other YAML', async () => {
    const m = await parseMessage(
      '---\nfrom: "@jgil"\nto:\n  - polecat-1\nsubject: Day 3 analysis complete\n---\nBody\n',
    );
    expect(m.header).toEqual({
      from: '@jgil',
      to: ['polecat-1'],
      subject: 'Day 3 analysis complete',
      type: 'message',
    });
    expect(m.body).toBe('Body\n');
  });

  it('names the field at fault in a malformed message', async () => {
    await expect(parseMessage('---\nfrom: a\nsubject: s\n---\n')).rejects.toMatchObject({ field: 'to' });
    await expect(
      parseMessage('---\nfrom: a\nto: b\nsubject: s\npriority: asap\n---\n'),
    ).rejects.toMatchObject({
      field: 'priority',
    });
    await expect(parseMessage('no front matter')).rejects.toThrow(/front matter/);
  });
});

describe('addresses', () => {
  const config = mailConfig();

  it('map to folder names without `:` that map back', () => {
    expect(addressFolder('queue:triage')).toBe('queue%3Atriage');
    expect(addressFolder('@jgil')).toBe('@jgil');
    expect(addressFolder('polecat-1')).toBe('polecat-1');
    for (const a of ['queue:triage', '@jgil', 'polecat-1', 'a.b_c-d'])
      expect(folderAddress(addressFolder(a))).toBe(a);
    expect(folderAddress('team%3Aleads')).toBeUndefined();
    expect(folderAddress('..')).toBeUndefined();
  });

  it('an unknown address is an error listing the known ones', () => {
    expect(() => assertAddress(config, '@nobody')).toThrow(
      'unknown address "@nobody"; known addresses in .beads/config.toml: polecat-1, polecat-2, @ana, @jgil, team:leads, queue:triage',
    );
    expect(() => assertAddress(config, '../etc')).toThrow(
      /an address is an agent name, @person, team:<name> or queue:<name>/,
    );
  });

  it('expand teams inside teams once each and report members nobody configured', () => {
    const nested = mailConfig();
    nested.teams.all = ['team:leads', 'polecat-1', 'team:all', 'ghost'];
    expect(expandRecipients(nested, ['team:all'])).toEqual({
      mailboxes: ['@ana', '@jgil', 'polecat-1'],
      unknown: ['ghost'],
    });
  });
});
