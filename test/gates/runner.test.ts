// The command gate with real child processes: node scripts that write the runner's report,
// real files to scan, real exit codes. No mocks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandGate } from '../../src/formula/model.js';
import { readGateReport, renderGateReport } from '../../src/gates/report.js';
import { runCommandGate } from '../../src/gates/runner.js';
import { tempDir } from '../helpers/repo.js';
import { junitReport } from './fixtures.js';

const node = process.execPath;

function gate(over: Partial<CommandGate>): CommandGate {
  return {
    type: 'command',
    run: [],
    env: {},
    exit_codes: [0],
    results: [],
    allow_skipped: false,
    forbid: [],
    max_attempts: 3,
    ...over,
  };
}

/** A "test runner": writes a JUnit file where 3 of 35 fail (or none after the fix); exits 1 on failures. */
function writeRunner(dir: string) {
  writeFileSync(
    join(dir, 'run-tests.mjs'),
    `import { readFileSync, writeFileSync } from 'node:fs';
const failing = readFileSync('failing.txt', 'utf8').trim() !== '0';
writeFileSync('reports/junit.xml', failing ? ${JSON.stringify(junitReport(35, 3))} : ${JSON.stringify(junitReport(35, 0))});
process.exit(failing ? 1 : 0);
`,
  );
}

describe('command gate runner', () => {
  let dir: { path: string; cleanup(): void };
  beforeEach(() => {
    dir = tempDir();
    mkdirSync(join(dir.path, 'reports'));
    mkdirSync(join(dir.path, 'test/integration'), { recursive: true });
    writeRunner(dir.path);
  });
  afterEach(() => dir.cleanup());

  const validation = gate({
    run: [[node, 'run-tests.mjs']],
    results: [{ format: 'auto', path: 'reports/junit.xml' }],
    min_pass_rate: 100,
    forbid: [{ pattern: 'time\\.Sleep', paths: ['test/**/*.go'], message: 'use Eventually()' }],
  });

  it('fails at 32/35 with time.Sleep in a Go test, then passes at 100% after the fix', async () => {
    writeFileSync(join(dir.path, 'failing.txt'), '3');
    const goTest = join(dir.path, 'test/integration/audit_test.go');
    writeFileSync(goTest, 'package audit\n\nfunc TestX(t *testing.T) {\n\ttime.Sleep(5*time.Second)\n}\n');

    const first = await runCommandGate(validation, { root: dir.path, step: 'test-validation', attempt: 1 });
    expect(first.verdict).toBe('fail');
    expect(first.totals).toMatchObject({ total: 35, passed: 32, failed: 3 });
    const report = renderGateReport(first, 'day3');
    expect(report).toContain('pass rate 91.4% is below the required 100% (3 of 35 failed)');
    for (const n of [33, 34, 35])
      expect(report).toContain(
        `TestAudit/spec_${n} (audit_workflow_selection_integration_test.go:${100 + n})`,
      );
    expect(report).toContain(
      'test/integration/audit_test.go:4: `time.Sleep(5*time.Second)` (pattern `time\\.Sleep`: use Eventually())',
    );
    expect(report).toContain('exited 1 (allowed: 0)');
    expect(readGateReport(report)).toMatchObject({
      verdict: 'fail',
      total: 35,
      passed: 32,
      failed: 3,
      pass_rate: 91.4,
      forbidden: 1,
    });

    writeFileSync(join(dir.path, 'failing.txt'), '0');
    writeFileSync(
      goTest,
      'package audit\n\nfunc TestX(t *testing.T) {\n\tEventually(func() bool { return true }).Should(BeTrue())\n}\n',
    );
    const second = await runCommandGate(validation, { root: dir.path, step: 'test-validation', attempt: 2 });
    expect(second.reasons).toEqual([]);
    expect(second.verdict).toBe('pass');
    expect(readGateReport(renderGateReport(second))).toMatchObject({
      verdict: 'pass',
      total: 35,
      passed: 35,
      pass_rate: 100,
      forbidden: 0,
    });
  });

  it('fails on skipped tests unless allow_skipped', async () => {
    writeFileSync(
      join(dir.path, 'skip.mjs'),
      `import { writeFileSync } from 'node:fs'; writeFileSync('reports/junit.xml', ${JSON.stringify(junitReport(10, 0, 2))});`,
    );
    const g = gate({ run: [[node, 'skip.mjs']], results: [{ format: 'junit', path: 'reports/junit.xml' }] });
    const strict = await runCommandGate(g, { root: dir.path, step: 's', attempt: 1 });
    expect(strict.verdict).toBe('fail');
    expect(strict.reasons).toEqual(['2 tests skipped (allow_skipped = false)']);
    const lenient = await runCommandGate(
      { ...g, allow_skipped: true },
      { root: dir.path, step: 's', attempt: 1 },
    );
    expect(lenient.verdict).toBe('pass');
    expect(lenient.totals?.pass_rate).toBe(100);
  });

  it('a command that does not exist fails the gate with a clear report, no crash', async () => {
    const o = await runCommandGate(gate({ run: [['gastown-no-such-tool-xyz', '--version']] }), {
      root: dir.path,
      step: 's',
      attempt: 1,
    });
    expect(o.verdict).toBe('fail');
    expect(o.reasons).toEqual([
      'command 1 `gastown-no-such-tool-xyz --version`: command not found: gastown-no-such-tool-xyz',
    ]);
    expect(renderGateReport(o)).toContain('command not found: gastown-no-such-tool-xyz');
  });

  it('passes `; rm -rf /` from a variable as one literal argument, never to a shell', async () => {
    writeFileSync(
      join(dir.path, 'args.mjs'),
      `import { writeFileSync } from 'node:fs'; writeFileSync('argv.json', JSON.stringify(process.argv.slice(2)));`,
    );
    const g = gate({ run: [[node, 'args.mjs', '{{target}}', '--name={{target}}', '$(whoami)']] });
    const o = await runCommandGate(g, {
      root: dir.path,
      step: 's',
      attempt: 1,
      vars: { target: '; rm -rf /' },
    });
    expect(o.verdict).toBe('pass');
    const { readFileSync } = await import('node:fs');
    expect(JSON.parse(readFileSync(join(dir.path, 'argv.json'), 'utf8'))).toEqual([
      '; rm -rf /',
      '--name=; rm -rf /',
      '$(whoami)',
    ]);
  });

  it('runs in cwd with env, refuses a cwd outside the repository, and enforces the timeout', async () => {
    mkdirSync(join(dir.path, 'sub'));
    writeFileSync(
      join(dir.path, 'sub/where.mjs'),
      `import { writeFileSync } from 'node:fs'; writeFileSync('where.txt', process.cwd() + ' ' + process.env.GATE_MODE);`,
    );
    const ok = await runCommandGate(
      gate({ run: [[node, 'where.mjs']], cwd: 'sub', env: { GATE_MODE: '{{mode}}' } }),
      { root: dir.path, step: 's', attempt: 1, vars: { mode: 'strict' } },
    );
    expect(ok.verdict).toBe('pass');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(dir.path, 'sub/where.txt'), 'utf8')).toBe(`${join(dir.path, 'sub')} strict`);

    const outside = await runCommandGate(gate({ run: [[node, '-e', '0']], cwd: '../..' }), {
      root: dir.path,
      step: 's',
      attempt: 1,
    });
    expect(outside.verdict).toBe('fail');
    expect(outside.commands).toEqual([]);
    expect(outside.reasons).toEqual(['gate cwd `../..` leaves the repository']);

    const slow = await runCommandGate(
      gate({ run: [[node, '-e', 'setTimeout(() => {}, 60000)']], timeout: '300ms' }),
      { root: dir.path, step: 's', attempt: 1 },
    );
    expect(slow.verdict).toBe('fail');
    expect(slow.commands[0]?.problem).toBe('timed out after 300ms');
  });

  it('a missing or malformed results file fails the gate and says which', async () => {
    writeFileSync(join(dir.path, 'reports/bad.xml'), '<testsuite><testcase name="a">');
    const o = await runCommandGate(
      gate({
        run: [[node, '-e', '0']],
        results: [
          { format: 'junit', path: 'reports/none.xml' },
          { format: 'junit', path: 'reports/bad.xml' },
        ],
      }),
      { root: dir.path, step: 's', attempt: 1 },
    );
    expect(o.reasons).toEqual([
      'results file `reports/none.xml`: not found: the commands did not write it',
      expect.stringMatching(
        /^results file `reports\/bad.xml`: malformed JUnit XML: element <testcase> is not closed/,
      ),
    ]);
  });
});
