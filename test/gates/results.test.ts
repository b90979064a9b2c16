import { describe, expect, it } from 'vitest';
import { parseResults, ResultsFormatError, sniffFormat } from '../../src/gates/results.js';
import { junitReport, vitestReport } from './fixtures.js';

describe('test results', () => {
  it('reads a JUnit report: counts, failing test names and file:line', () => {
    const r = parseResults(junitReport(35, 3), 'junit');
    expect(r).toMatchObject({ total: 35, passed: 32, failed: 3, skipped: 0 });
    expect(r.failures.map((f) => `${f.name} ${f.file}:${f.line}`)).toEqual([
      'workflowexecution TestAudit/spec_33 audit_workflow_selection_integration_test.go:133',
      'workflowexecution TestAudit/spec_34 audit_workflow_selection_integration_test.go:134',
      'workflowexecution TestAudit/spec_35 audit_workflow_selection_integration_test.go:135',
    ]);
    expect(r.failures[0]?.message).toBe('expected 2 events, got 1');
  });

  it('counts skipped JUnit tests and <error> as a failure; takes file/line attributes when given', () => {
    const xml = `<testsuite><testcase name="a" file="x.py" line="7"><error message="boom"/></testcase><testcase name="b"><skipped/></testcase><testcase name="c"/></testsuite>`;
    const r = parseResults(xml, 'auto');
    expect(r).toMatchObject({ total: 3, passed: 1, failed: 1, skipped: 1 });
    expect(r.failures[0]).toMatchObject({ name: 'a', file: 'x.py', line: 7, message: 'boom' });
  });

  it('falls back to suite totals when a JUnit file lists no test cases', () => {
    const r = parseResults(
      '<testsuites><testsuite tests="10" failures="1" errors="1" skipped="2"/></testsuites>',
      'junit',
    );
    expect(r).toMatchObject({ total: 10, passed: 6, failed: 2, skipped: 2 });
  });

  it('reads vitest/jest JSON, with locations', () => {
    const r = parseResults(vitestReport(5, 2, 1), 'auto');
    expect(r).toMatchObject({ format: 'json', total: 8, passed: 5, failed: 2, skipped: 1 });
    expect(r.failures[1]).toMatchObject({ name: 'suite fails 1', file: '/repo/test/a.test.ts', line: 41 });
  });

  it('counts a test file that failed to load as a failure, not as nothing', () => {
    const json = JSON.stringify({
      testResults: [
        { name: 'x.test.ts', status: 'failed', message: 'SyntaxError: nope', assertionResults: [] },
      ],
    });
    const r = parseResults(json, 'vitest');
    expect(r).toMatchObject({ total: 1, failed: 1 });
    expect(r.failures[0]?.message).toBe('SyntaxError: nope');
  });

  it('sniffs the format and rejects what is neither', () => {
    expect(sniffFormat('  <?xml ?>')).toBe('junit');
    expect(sniffFormat('{"a":1}')).toBe('json');
    expect(() => parseResults('PASS all good', 'auto')).toThrow(ResultsFormatError);
    expect(() => parseResults('<testsuite><testcase name="a">', 'junit')).toThrow(/not closed/);
    expect(() => parseResults('<html/>', 'junit')).toThrow(/root element is <html>/);
    expect(() => parseResults('{"numTotalTests": 3}', 'jest')).toThrow(/testResults/);
  });
});
