// verify's pure rules and the report's graph, without git.
import { describe, expect, it } from 'vitest';
import type { CommitInfo } from '../../src/audit/history.js';
import { mermaidGraph } from '../../src/audit/report.js';
import { checkpointOfFile, rewriteFindings } from '../../src/audit/rules.js';
import { allowedSignersText, parseSigningConfig, signatureProblem } from '../../src/audit/signing.js';

const commit = (changes: [string, string][]): CommitInfo => ({
  sha: 'c'.repeat(40),
  parents: ['p'.repeat(40)],
  author: { name: 'A', email: 'a@example.com', date: '' },
  committer: { name: 'A', email: 'a@example.com', date: '' },
  subject: 's',
  changes: changes.map(([status, file]) => ({ status, file })),
});
const M = '.beads/molecules/m1';

describe('immutable-file', () => {
  it('reports a rewritten or deleted fact, not a decision edit, a squash or a burn', () => {
    expect(
      rewriteFindings([
        commit([
          ['M', `${M}/events/a.1.done.toml`],
          ['D', `${M}/reports/t.1.md`],
          ['M', `${M}/checkpoints/review.md`],
          ['M', `${M}/checkpoints/review.approvals/jgil.md`],
        ]),
      ]).map((f) => f.file),
    ).toEqual([`${M}/events/a.1.done.toml`, `${M}/reports/t.1.md`]);
    expect(
      rewriteFindings([
        commit([
          ['A', `${M}/digest.toml`],
          ['D', `${M}/events/a.1.done.toml`],
        ]),
      ]),
    ).toEqual([]);
    expect(
      rewriteFindings([
        commit([
          ['D', `${M}/molecule.toml`],
          ['D', `${M}/events/a.1.done.toml`],
        ]),
      ]),
    ).toEqual([]);
    // A squash removes events/, nothing else.
    expect(
      rewriteFindings([
        commit([
          ['A', `${M}/digest.toml`],
          ['D', `${M}/reports/t.1.md`],
        ]),
      ]),
    ).toHaveLength(1);
  });

  it('finds the checkpoint a decision file belongs to', () => {
    expect(checkpointOfFile('checkpoints/review.md')).toBe('review');
    expect(checkpointOfFile('checkpoints/review.attempt-2.md')).toBe('review.attempt-2');
    expect(checkpointOfFile('checkpoints/review.approvals/jgil.md')).toBe('review');
    expect(checkpointOfFile('feedback/review/1.rejected.md')).toBeUndefined();
  });
});

describe('[verify] keys', () => {
  const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJneltd5QjsRv2PxOJ5xb25X6TkbQe6fPulb0w9T9gy5 jgil';
  it('parses keys, writes allowed_signers lines and names a bad field', () => {
    const cfg = parseSigningConfig(
      { verify: { require_signed: true, keys: { jgil: { ssh: [KEY] } } } },
      'c.toml',
    );
    expect(allowedSignersText(cfg)).toBe(`gastown-user-jgil ${KEY.split(' ').slice(0, 2).join(' ')}\n`);
    expect(() => parseSigningConfig({ verify: { require_signed: 'yes' } }, 'c.toml')).toThrow(
      '`verify.require_signed` must be true or false',
    );
    expect(() =>
      parseSigningConfig({ verify: { keys: { jgil: { ssh: ['not a key'] } } } }, 'c.toml'),
    ).toThrow('verify.keys.jgil.ssh');
  });

  it("counts only a good signature by the approver's own principal or GPG fingerprint", () => {
    const cfg = parseSigningConfig(
      {
        verify: {
          keys: { jgil: { ssh: [KEY], gpg: ['0123 4567 89AB CDEF 0123  4567 89AB CDEF 0123 4567'] } },
        },
      },
      'c.toml',
    );
    expect(signatureProblem(cfg, 'jgil', { status: 'G', signer: 'gastown-user-jgil' })).toBeUndefined();
    expect(signatureProblem(cfg, 'jgil', { status: 'N' })).toContain('not signed');
    expect(signatureProblem(cfg, 'jgil', { status: 'G', signer: 'gastown-user-ana' })).toContain(
      "@ana's key",
    );
    expect(signatureProblem(cfg, 'jgil', { status: 'B', signer: 'gastown-user-jgil' })).toContain('bad');
    expect(
      signatureProblem(cfg, 'jgil', { status: 'U', key: '0123456789ABCDEF0123456789ABCDEF01234567' }),
    ).toBeUndefined();
    expect(
      signatureProblem(cfg, 'jgil', { status: 'G', key: 'FFFF456789ABCDEF0123456789ABCDEF01234567' }),
    ).toContain("not @jgil's");
    expect(signatureProblem(cfg, undefined, { status: 'G' })).toContain('no user');
  });
});

describe('mermaid graph', () => {
  it('escapes quotes and markup in labels and skips needs that are not steps', () => {
    const g = mermaidGraph([
      { id: 'a"b', title: '', state: 'done', attempt: 1, needs: [] },
      { id: 'c<d>', title: '', state: 'ready', attempt: 2, needs: ['a"b', 'gone'] },
    ] as never);
    expect(g.split('\n').slice(0, 4)).toEqual([
      'flowchart TD',
      '  s0["a#34;b<br/>done"]:::done',
      '  s1["c#60;d#62;<br/>ready, attempt 2"]:::ready',
      '  s0 --> s1',
    ]);
  });
});
