// Formula patterns (forbid, var patterns) run in linear time on text anyone may write: a pattern
// that makes a backtracking engine run for minutes is matched at once, and syntax the linear
// engine lacks (lookaround, backreferences) is refused by `formula validate`, naming the field.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePattern, patternProblem } from '../../src/formula/pattern.js';
import { CLI, makeRepo, testEnv } from '../helpers/repo.js';

const SCAN = (pattern: string) => `formula = "scan"

[[steps]]
id = "scan"
title = "Scan"

[steps.gate]
type = "command"
run = [["true"]]
timeout = "5s"
forbid = [{ pattern = ${JSON.stringify(pattern)}, paths = ["*.txt"], message = "runs of a" }]
`;

/** The CLI with a time limit, so a scan that would run for minutes fails the test instead. */
function gt(cwd: string, args: string[]) {
  return execa(process.execPath, [CLI, ...args], {
    cwd,
    env: testEnv(),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: 30_000,
  });
}

describe('formula patterns', () => {
  let repo: Awaited<ReturnType<typeof makeRepo>>;
  const formula = (name: string, text: string) =>
    writeFileSync(join(repo.path, '.beads/formulas', `${name}.formula.toml`), text);
  beforeAll(async () => {
    repo = await makeRepo();
    mkdirSync(join(repo.path, '.beads/formulas'), { recursive: true });
    // 40 characters on which a backtracking engine tries 2^40 ways to match `(a+)+$`.
    writeFileSync(join(repo.path, 'evil.txt'), `${'a'.repeat(40)}!\nfine\n`);
  });
  afterAll(() => repo.cleanup());

  it('a forbid pattern with nested repetition scans 40 hostile characters at once', async () => {
    formula('scan', SCAN('(a+)+$'));
    const r = await gt(repo.path, ['molecule', 'create', '--formula', 'scan', '--name', 'm1']);
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('gate scan attempt 1: PASS');

    // The same engine still finds what it should: a line ending in a run of a's.
    writeFileSync(join(repo.path, 'hit.txt'), 'xx aaa\n');
    const hit = await gt(repo.path, ['molecule', 'create', '--formula', 'scan', '--name', 'm2']);
    expect(hit.timedOut).toBe(false);
    expect(hit.stdout).toContain('gate scan attempt 1: FAIL');
    const report = readFileSync(join(repo.path, '.beads/molecules/m2/reports/scan.1.md'), 'utf8');
    expect(report).toContain('hit.txt:1: `xx aaa` (pattern `(a+)+$`: runs of a)');
  });

  it('formula validate refuses lookaround and backreferences, naming the field and the syntax', async () => {
    formula(
      'bad',
      `${SCAN('(?=a)x')}\n[vars.v]\npattern = "^(\\\\w)\\\\1$"\n`.replace(
        'formula = "scan"',
        'formula = "bad"',
      ),
    );
    const r = await gt(repo.path, [
      'formula',
      'validate',
      join(repo.path, '.beads/formulas/bad.formula.toml'),
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /bad\.formula\.toml:\d+: steps\[0\]\.gate\.forbid\[0\]\.pattern: not a valid pattern: invalid or unsupported Perl syntax: `\(\?=` \(formula patterns use RE2 syntax/,
    );
    expect(r.stderr).toMatch(
      /bad\.formula\.toml:\d+: vars\.v\.pattern: not a valid pattern: invalid escape sequence: `\\1`/,
    );
  });

  it('var patterns match as before through the same engine', () => {
    expect(compilePattern('^\\d+\\.\\d+\\.\\d+$').test('1.2.3')).toBe(true);
    expect(compilePattern('^\\d+\\.\\d+\\.\\d+$').test('latest')).toBe(false);
    expect(compilePattern('(a+)+$').test(`${'a'.repeat(100_000)}!`)).toBe(false);
    expect(patternProblem('^[A-Za-z0-9/_.-]+$')).toBeUndefined();
    expect(patternProblem('a{2000}')).toMatch(/^not a valid pattern: invalid repeat count/);
  });
});
