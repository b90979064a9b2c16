// The reader for the front matter gastown writes (src/checkpoint/frontmatter-subset.ts) must give
// exactly what the YAML parser gives, or leave the text to it: every file shape the engine writes,
// generated documents, and hand-made and random hostile ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  renderApproval,
  renderCheckpoint,
  renderComment,
  renderRejectionFeedback,
  setDecision,
} from '../../src/checkpoint/file.js';
import {
  parseFrontMatter,
  parseYamlFrontMatter,
  renderFrontMatter,
} from '../../src/checkpoint/frontmatter.js';
import { splitFrontMatter } from '../../src/checkpoint/frontmatter-split.js';
import { readWrittenFrontMatter } from '../../src/checkpoint/frontmatter-subset.js';
import type { HumanGate } from '../../src/formula/model.js';
import { renderGateReport } from '../../src/gates/report.js';
import type { GateOutcome } from '../../src/gates/runner.js';

/** What a reader makes of a text: its fields, body and key lines, or its error and line. */
function outcome(fn: () => unknown): unknown {
  try {
    return { value: fn() };
  } catch (err) {
    return { error: (err as Error).message, line: (err as { line?: number }).line };
  }
}

/** The YAML parser alone on the same text, as parseFrontMatter splits it. */
function byYaml(text: string): unknown {
  return outcome(() => {
    const split = splitFrontMatter(text);
    if ('missing' in split) return parseFrontMatter(text); // the same error either way
    return parseYamlFrontMatter(split.yaml, split.body);
  });
}

function expectSame(text: string): void {
  expect(
    outcome(() => parseFrontMatter(text)),
    JSON.stringify(text),
  ).toStrictEqual(byYaml(text));
}

/** The block between the `---` lines. */
function yamlOf(text: string): string {
  const split = splitFrontMatter(text);
  if ('missing' in split) throw new Error('no front matter');
  return split.yaml;
}

const gate = (over: Partial<HumanGate> = {}): HumanGate => ({
  type: 'human',
  approvers: ['@jgil', 'team:leads'],
  min_approvals: 1,
  prevent_self_approval: true,
  on_timeout: 'escalate',
  ...over,
});

const outcomeOf = (over: Partial<GateOutcome>): GateOutcome =>
  ({
    step: 'test-validation',
    attempt: 2,
    verdict: 'fail',
    commands: [],
    results: [],
    forbidden: [],
    reasons: ['pass rate 83.3% is below the required 100% (2 of 12 failed)'],
    totals: { total: 12, passed: 10, failed: 2, skipped: 0, pass_rate: 83.33333333333334 },
    min_pass_rate: 100,
    outputs: [],
    ...over,
  }) as GateOutcome;

/** Every shape of front matter the engine and the CLI write. */
function writtenFiles(): string[] {
  const checkpoint = (g: HumanGate, attempt = 1) =>
    renderCheckpoint({
      molecule: 'm00042',
      step: 'review',
      attempt,
      title: 'Review',
      gate: g,
      reviewed: [{ step: 'implement', attempt: 1, text: '---\nconfidence: high\n---\nDone.\n' }],
    });
  const pending = checkpoint(gate({ timeout: '24h', on_reject: 'implement' }));
  return [
    pending,
    checkpoint(gate({ approvers: [], min_approvals: 2, prevent_self_approval: false }), 3),
    checkpoint(gate({ on_timeout: 'approve', timeout: '90m' })),
    setDecision(pending, 'approved', ''),
    setDecision(pending, 'approved', 'looks right to me'),
    setDecision(pending, 'rejected', 'the error path has no test'),
    setDecision(pending, 'rejected', 'say "why": here # not a comment'),
    renderApproval({ checkpoint: 'review', decision: 'approved' }),
    renderApproval({ checkpoint: 'review', decision: 'approved', text: 'ok' }),
    renderApproval({ checkpoint: 'review', decision: 'rejected', text: 'no: the tests fail' }),
    renderRejectionFeedback({
      checkpoint: 'review',
      step: 'implement',
      attempt: 2,
      reason: 'x',
      by: '@reviewer',
    }),
    renderRejectionFeedback({ checkpoint: 'review', step: 'implement', attempt: 2, reason: 'x' }),
    renderComment({ checkpoint: 'review', step: 'implement', attempt: 1, text: 'Consider the empty case.' }),
    renderGateReport(outcomeOf({}), 'm00042'),
    renderGateReport(outcomeOf({ verdict: 'pass', reasons: [], totals: undefined }), 'm00042'),
    renderGateReport(
      outcomeOf({ totals: { total: 3, passed: 3, failed: 0, skipped: 0, pass_rate: 100 } }),
      'm00042',
    ),
    `${renderFrontMatter({ kind: 'gate-failed', gate: 'test-validation', step: 'implement', attempt: 3, report: 'reports/test-validation.2.md' })}# Gate failed\n`,
    '---\nconfidence: high\n---\n# Analysis\n',
    '---\nconfidence: 85\nitems:\n  - a\n  - b\n---\nbody\n',
  ];
}

describe('the written front matter reader', () => {
  it('reads every shape gastown writes itself, as the YAML parser does', () => {
    for (const text of writtenFiles()) {
      expect(readWrittenFrontMatter(yamlOf(text)), text).toBeDefined();
      expectSame(text);
    }
  });

  it('names each key’s line as the YAML parser does', () => {
    const text = writtenFiles()[0] as string;
    const fast = parseFrontMatter(text);
    expect(fast.lines.decision).toBe(8);
    expect(fast.lines).toStrictEqual((byYaml(text) as { value: { lines: unknown } }).value.lines);
  });

  // Values a person or a tool could write, in every notation the YAML core schema knows.
  const HOSTILE_VALUES = [
    '',
    '~',
    'null',
    'Null',
    'NULL',
    'nULL',
    'true',
    'True',
    'TRUE',
    'tRUE',
    'yes',
    'no',
    'on',
    'off',
    'y',
    '0',
    '00',
    '007',
    '-1',
    '+1',
    '1_000',
    '0x1F',
    '0X1F',
    '0o17',
    '0b101',
    '1e3',
    '1E-3',
    '1.',
    '.5',
    '1.5',
    '1.50',
    '0.8333333333333334',
    '123456789012345678901234',
    '12345678901234.5678901234567',
    '.inf',
    '-.Inf',
    '.nan',
    'Infinity',
    'NaN',
    '2026-12-05',
    '2026-12-05T07:00:00Z',
    '12:30',
    '24h',
    '1h30m',
    '1.2.3',
    'a: b',
    'a:b',
    'a:',
    'http://x.test/a#b',
    'x #y',
    'x# y',
    'x  # y',
    '# all comment',
    '"quoted"',
    '"a\\"b"',
    '"a\\nb"',
    '"a\\x41"',
    '"a\\\\"',
    '"a\\/b\\tc"',
    '"\\"',
    '"a\\',
    '"a\\u00e9"',
    '"unterminated',
    '"a" trailing',
    '"a"# c',
    "'single'",
    "'it''s'",
    "'a' # c",
    "'unterminated",
    '[]',
    '[] # none',
    '[a, b]',
    '[ ]',
    '{}',
    '{a: 1}',
    '&anchor x',
    '*alias',
    '!!str 12',
    '!tag x',
    '|',
    '>',
    '|-',
    '@reviewer',
    '`tick`',
    '%percent',
    '?q',
    '-x',
    '- x',
    '(paren) x',
    '/path/to',
    '_under',
    'a, b',
    'a [b] {c}',
    'trailing   ',
    'é',
    'tab\there',
    'cr\rhere',
    'nbsp\u00a0x',
    'ls\u2028x',
    'bom\ufeffx',
    'ctl\u0001x',
    'del\u007fx',
    'emoji 😀',
  ];

  it('gives the YAML parser’s answer for hostile values (read or left to it)', () => {
    for (const v of HOSTILE_VALUES) {
      expectSame(`---\nkey: ${v}\n---\nbody\n`);
      expectSame(`---\nlist:\n  - ${v}\n  - x\n---\n`);
      expectSame(`---\nlist:\n- ${v}\n---\n`);
    }
  });

  // Whole documents: keys, lists, indentation, comments and structure a parser must refuse or read.
  const HOSTILE_DOCS = [
    '---\n---\n',
    '---\n---',
    '---\n\n---\n',
    '---\n# only a comment\n---\n',
    '---\na: 1\n\nb: 2\n---\n',
    '---\na: 1\na: 2\n---\n',
    '---\n__proto__: x\n---\n',
    '---\nconstructor: x\ntoString: y\n---\n',
    '---\ntrue: x\n---\n',
    '---\nnull: x\n---\n',
    '---\n1: x\n---\n',
    '---\n"quoted key": x\n---\n',
    '---\na.b: x\n---\n',
    '---\nkey-dash: x\n---\n',
    '---\n a: 1\n---\n',
    '---\na: 1\n b: 2\n---\n',
    '---\na: x\n  continued\n---\n',
    '---\na: x\n  - y\n---\n',
    '---\n- a\n- b\n---\n',
    '---\njust text\n---\n',
    '---\na:\n---\n',
    '---\na:\nb: 1\n---\n',
    '---\na: # c\n  - x\n---\n',
    '---\na:\n  - x\n   - y\n---\n',
    '---\na:\n  - x\n - y\n---\n',
    '---\na:\n  - x\n    more\n---\n',
    '---\na:\n  - x\n  -\n---\n',
    '---\na:\n  - - x\n---\n',
    '---\na:\n  - k: v\n---\n',
    '---\na:\n  - x\nb:\n  - y\n---\n',
    '---\na:\n  b: 1\n---\n',
    '---\na:   \n  - x\n---\n',
    '---\na:\t1\n---\n',
    '---\na : 1\n---\n',
    '---\na:1\n---\n',
    '---\n? a\n: 1\n---\n',
    '---\n<<: {b: 1}\n---\n',
    '---\n%YAML 1.2\n---\n',
    '---\n...\n---\n',
    '---\na: 1\r\nb: 2\r\n---\r\nbody\r\n',
    '\ufeff---\na: 1\n---\n',
    '---\na: 1\n---   \nbody',
    '---\na: 1\n',
    'no front matter\n',
    '---\na: "x\n  y"\n---\n',
    "---\na: 'x\n  y'\n---\n",
    '---\na: |\n  block\n---\n',
    '---\na: [x,\n  y]\n---\n',
  ];

  it('gives the YAML parser’s answer for hostile documents', () => {
    for (const text of HOSTILE_DOCS) expectSame(text);
  });

  // Lines built from the pieces that matter to either reader, in random order.
  const piece = fc.constantFrom(
    'a',
    'b',
    'key',
    'x y',
    ':',
    ': ',
    ' ',
    '  ',
    '- ',
    '-',
    '#',
    ' #',
    '"',
    "'",
    '\\',
    '[',
    ']',
    '[]',
    '{',
    '}',
    ',',
    '1',
    '0',
    '.',
    'e',
    'x',
    'null',
    'true',
    '~',
    '&',
    '*',
    '!',
    '|',
    '>',
    '@',
    '%',
    '\t',
    'é',
  );
  const line = fc.array(piece, { maxLength: 6 }).map((p) => p.join(''));
  const doc = fc.array(line, { maxLength: 6 }).map((ls) => `---\n${ls.join('\n')}\n---\nbody\n`);

  it('gives the YAML parser’s answer for random documents', () => {
    fc.assert(
      fc.property(doc, (text) => expectSame(text)),
      { numRuns: 3000 },
    );
  });

  // Fields as the writer renders them: keys it could be given, any printable text, numbers, lists.
  const printable = fc.string({
    unit: fc.constantFrom(...' abcXYZ019:#-"\'\\[]{},.&*!|>@%`?~/()_'.split('')),
  });
  const field = fc.oneof(
    printable,
    fc.string(),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true }).filter(Number.isFinite),
    fc.array(printable, { maxLength: 3 }),
  );
  const fields = fc.dictionary(
    fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/).filter((k) => !['null', 'true', 'false'].includes(k)),
    field,
    { maxKeys: 6 },
  );

  it('gives the YAML parser’s answer for anything the writer renders', () => {
    fc.assert(
      fc.property(fields, (f) => expectSame(`${renderFrontMatter(f)}body\n`)),
      { numRuns: 1500 },
    );
  });

  it('reads itself what the writer renders from names, words and small numbers', () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9 ./-]{0,20}[a-z0-9]$/);
    const plain = fc.dictionary(
      fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/).filter((k) => !['null', 'true', 'false'].includes(k)),
      fc.oneof(word, fc.nat(), fc.boolean(), fc.array(word, { maxLength: 3 })),
      { maxKeys: 6 },
    );
    fc.assert(
      fc.property(plain, (f) => {
        const text = renderFrontMatter(f);
        expect(readWrittenFrontMatter(yamlOf(text)), text).toBeDefined();
        expectSame(text);
      }),
      { numRuns: 500 },
    );
  });
});
