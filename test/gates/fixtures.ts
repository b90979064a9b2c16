// Test-runner outputs as the real tools write them, generated so the counts are exact.

/** A JUnit report like go-junit-report's: `failing` of `total` tests fail, with file:line. */
export function junitReport(total: number, failing: number, skipped = 0): string {
  const cases: string[] = [];
  for (let i = 1; i <= total; i++) {
    const name = `TestAudit/spec_${i}`;
    if (i > total - failing) {
      const line = 100 + i;
      cases.push(
        `    <testcase classname="workflowexecution" name="${name}" time="0.01">\n      <failure message="expected 2 events, got 1">audit_workflow_selection_integration_test.go:${line}: expected 2 events &lt;got 1&gt;</failure>\n    </testcase>`,
      );
    } else if (i <= skipped) {
      cases.push(
        `    <testcase classname="workflowexecution" name="${name}" time="0"><skipped message="Skip()"/></testcase>`,
      );
    } else {
      cases.push(`    <testcase classname="workflowexecution" name="${name}" time="0.01"></testcase>`);
    }
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<!-- generated -->\n<testsuites>\n  <testsuite name="workflowexecution" tests="${total}" failures="${failing}" skipped="${skipped}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

/** The Jest JSON shape vitest's json reporter writes. */
export function vitestReport(passed: number, failed: number, skipped = 0): string {
  const assertions = [
    ...Array.from({ length: passed }, (_, i) => ({
      ancestorTitles: ['suite'],
      fullName: `suite passes ${i}`,
      status: 'passed',
      title: `passes ${i}`,
      failureMessages: [],
    })),
    ...Array.from({ length: failed }, (_, i) => ({
      ancestorTitles: ['suite'],
      fullName: `suite fails ${i}`,
      status: 'failed',
      title: `fails ${i}`,
      failureMessages: [`AssertionError: expected 1 to be 2\n    at /repo/test/a.test.ts:${40 + i}:7`],
      location: { line: 40 + i, column: 3 },
    })),
    ...Array.from({ length: skipped }, (_, i) => ({
      ancestorTitles: ['suite'],
      fullName: `suite skipped ${i}`,
      status: 'skipped',
      title: `skipped ${i}`,
      failureMessages: [],
    })),
  ];
  return JSON.stringify({
    numTotalTests: passed + failed + skipped,
    numPassedTests: passed,
    numFailedTests: failed,
    numPendingTests: skipped,
    success: failed === 0,
    testResults: [
      {
        name: '/repo/test/a.test.ts',
        status: failed > 0 ? 'failed' : 'passed',
        message: '',
        assertionResults: assertions,
      },
    ],
  });
}
