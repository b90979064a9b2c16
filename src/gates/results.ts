// Test-runner machine output → counts and failing tests. JUnit XML (most runners, go-junit-report,
// gotestsum) and the Jest JSON shape (jest --json, vitest --reporter=json). Pure: text in,
// summary out; the runner reads the files.
import { parseXml, type XmlElement, XmlError } from './xml.js';

export type ResultFormat = 'junit' | 'vitest' | 'jest' | 'auto';

export interface TestFailure {
  name: string;
  file?: string;
  line?: number;
  message?: string;
}

export interface TestCounts {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
}

export interface ParsedResults extends TestCounts {
  format: 'junit' | 'json';
  failures: TestFailure[];
}

export class ResultsFormatError extends Error {}

/** Which parser a file needs: XML starts with `<`, the Jest/Vitest shape with `{`. */
export function sniffFormat(text: string): 'junit' | 'json' | undefined {
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  if (first === '<') return 'junit';
  if (first === '{') return 'json';
  return undefined;
}

export function parseResults(text: string, format: ResultFormat): ParsedResults {
  const kind = format === 'auto' ? sniffFormat(text) : format === 'junit' ? 'junit' : 'json';
  if (kind === 'junit') return parseJUnit(text);
  if (kind === 'json') return parseJestJson(text);
  throw new ResultsFormatError('not JUnit XML or Jest/Vitest JSON (expected the file to start with < or {)');
}

/** `file.go:145` inside a failure message: where the failure happened when the runner says. */
const LOCATION = /([\w./\\-]+\.[A-Za-z][A-Za-z0-9]*):(\d+)/;

function locate(text: string | undefined): { file: string; line: number } | undefined {
  if (!text) return undefined;
  const m = LOCATION.exec(text);
  return m ? { file: m[1] as string, line: Number(m[2]) } : undefined;
}

function firstLine(text: string | undefined): string | undefined {
  const line = text
    ?.split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  return line === undefined ? undefined : line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function collect(el: XmlElement, name: string, out: XmlElement[]): XmlElement[] {
  for (const child of el.children) {
    if (child.name === name) out.push(child);
    else collect(child, name, out);
  }
  return out;
}

export function parseJUnit(text: string): ParsedResults {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (err) {
    if (err instanceof XmlError) throw new ResultsFormatError(`malformed JUnit XML: ${err.message}`);
    throw err;
  }
  if (root.name !== 'testsuites' && root.name !== 'testsuite') {
    throw new ResultsFormatError(
      `not a JUnit report: root element is <${root.name}>, expected <testsuites> or <testsuite>`,
    );
  }
  const cases = collect(root, 'testcase', []);
  const out: ParsedResults = { format: 'junit', total: 0, passed: 0, failed: 0, skipped: 0, failures: [] };
  if (cases.length === 0) {
    // Some writers give only suite totals.
    const suites = root.name === 'testsuite' ? [root] : collect(root, 'testsuite', []);
    for (const s of suites) {
      const n = (k: string) => Number.parseInt(s.attrs[k] ?? '0', 10) || 0;
      out.total += n('tests');
      out.failed += n('failures') + n('errors');
      out.skipped += n('skipped') + n('disabled');
    }
    out.passed = Math.max(0, out.total - out.failed - out.skipped);
    return out;
  }
  for (const tc of cases) {
    out.total++;
    const bad = tc.children.find((c) => c.name === 'failure' || c.name === 'error');
    if (bad) {
      out.failed++;
      const name =
        [tc.attrs.classname, tc.attrs.name].filter((s) => s && s !== '').join(' ') || '(unnamed test)';
      const body = `${bad.attrs.message ?? ''}\n${bad.text}`;
      const where = tc.attrs.file
        ? { file: tc.attrs.file, line: tc.attrs.line ? Number(tc.attrs.line) : locate(body)?.line }
        : locate(body);
      const failure: TestFailure = { name };
      if (where?.file) failure.file = where.file;
      if (where?.line !== undefined && Number.isFinite(where.line)) failure.line = where.line;
      const message = firstLine(bad.attrs.message) ?? firstLine(bad.text);
      if (message) failure.message = message;
      out.failures.push(failure);
    } else if (tc.children.some((c) => c.name === 'skipped')) out.skipped++;
    else out.passed++;
  }
  return out;
}

interface JestAssertion {
  fullName?: string;
  title?: string;
  ancestorTitles?: string[];
  status?: string;
  location?: { line?: number } | null;
  failureMessages?: string[];
}
interface JestFile {
  name?: string;
  status?: string;
  message?: string;
  assertionResults?: JestAssertion[];
}

export function parseJestJson(text: string): ParsedResults {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ResultsFormatError(`malformed JSON: ${(err as Error).message}`);
  }
  if (
    typeof data !== 'object' ||
    data === null ||
    !Array.isArray((data as { testResults?: unknown }).testResults)
  ) {
    throw new ResultsFormatError('not a Jest/Vitest JSON report: no `testResults` array');
  }
  const report = data as {
    testResults: JestFile[];
    numTotalTests?: number;
    numPassedTests?: number;
    numFailedTests?: number;
    numPendingTests?: number;
    numTodoTests?: number;
  };
  const out: ParsedResults = { format: 'json', total: 0, passed: 0, failed: 0, skipped: 0, failures: [] };
  let sawAssertions = false;
  for (const file of report.testResults) {
    const assertions = Array.isArray(file.assertionResults) ? file.assertionResults : [];
    if (assertions.length > 0) sawAssertions = true;
    for (const a of assertions) {
      out.total++;
      if (a.status === 'passed') out.passed++;
      else if (a.status === 'failed') {
        out.failed++;
        const name = a.fullName ?? [...(a.ancestorTitles ?? []), a.title ?? ''].join(' ').trim();
        const failure: TestFailure = { name: name || '(unnamed test)' };
        const messages = (a.failureMessages ?? []).join('\n');
        if (file.name) failure.file = file.name;
        const line = a.location?.line ?? locateIn(messages, file.name);
        if (line !== undefined) failure.line = line;
        const message = firstLine(messages);
        if (message) failure.message = message;
        out.failures.push(failure);
      } else out.skipped++;
    }
    // A test file that failed to load has no assertions but must not read as a pass.
    if (assertions.length === 0 && file.status === 'failed') {
      out.total++;
      out.failed++;
      const failure: TestFailure = { name: `${file.name ?? 'test file'} (failed to run)` };
      if (file.name) failure.file = file.name;
      const message = firstLine(file.message);
      if (message) failure.message = message;
      out.failures.push(failure);
    }
  }
  if (!sawAssertions && out.total === 0 && typeof report.numTotalTests === 'number') {
    out.total = report.numTotalTests;
    out.passed = report.numPassedTests ?? 0;
    out.failed = report.numFailedTests ?? 0;
    out.skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  }
  return out;
}

/** The line of `file` named in a stack trace, when the runner gave no location. */
function locateIn(messages: string, file: string | undefined): number | undefined {
  if (!file || messages === '') return undefined;
  const base = file.split(/[\\/]/).pop() as string;
  const re = new RegExp(`${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)`);
  const m = re.exec(messages);
  return m ? Number(m[1]) : undefined;
}
