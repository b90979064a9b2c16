// The gate report `reports/<step>.<attempt>.md`: everything the gate saw, in front matter the
// engine reads back (verdict, counts, pass rate) and prose a reviewer reads. Pure.
import { FrontMatterError, parseFrontMatter, renderFrontMatter } from '../checkpoint/frontmatter.js';
import type { GateOutcome } from './runner.js';
import { roundRate } from './runner.js';
import { displayArgv } from './template.js';

export function gateReportPath(step: string, attempt: number): string {
  return `reports/${step}.${attempt}.md`;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => {
  const fence = s.includes('`') ? '``' : '`';
  return `${fence}${s.includes('`') ? ` ${s} ` : s}${fence}`;
};

export function renderGateReport(o: GateOutcome, molecule?: string): string {
  const t = o.totals;
  const fm = renderFrontMatter({
    molecule,
    step: o.step,
    attempt: o.attempt,
    verdict: o.verdict,
    total: t?.total,
    passed: t?.passed,
    failed: t?.failed,
    skipped: t?.skipped,
    pass_rate: t?.pass_rate === undefined ? undefined : roundRate(t.pass_rate, o.min_pass_rate),
    min_pass_rate: o.min_pass_rate,
    forbidden: o.forbidden.length,
    reasons: o.reasons.length > 0 ? o.reasons : undefined,
  });
  const lines: string[] = [];
  lines.push(`# Gate report: ${o.step} (attempt ${o.attempt})`, '');
  lines.push(`**Verdict: ${o.verdict.toUpperCase()}**`, '');
  if (o.reasons.length > 0) {
    for (const r of o.reasons) lines.push(`- ${r}`);
    lines.push('');
  }
  lines.push(...commandLines(o), ...resultLines(o), ...forbiddenLines(o), ...outputLines(o));
  return `${fm}${lines.join('\n').trimEnd()}\n`;
}

function commandLines(o: GateOutcome): string[] {
  const lines = ['## Commands', ''];
  if (o.commands.length === 0) lines.push('No command ran.', '');
  else {
    lines.push('| # | command | cwd | exit | result |', '|---|---|---|---|---|');
    o.commands.forEach((c, i) => {
      lines.push(
        `| ${i + 1} | ${cell(code(displayArgv(c.argv)))} | ${cell(c.cwd)} | ${c.exitCode ?? '-'} | ${cell(c.ok ? 'ok' : (c.problem ?? 'failed'))} |`,
      );
    });
    lines.push('');
  }
  return lines;
}

/** Each results file read, the totals, and the failing tests they name. */
function resultLines(o: GateOutcome): string[] {
  if (o.results.length === 0) return [];
  const t = o.totals;
  const lines = ['## Test results', ''];
  for (const r of o.results) {
    if (!r.parsed) {
      lines.push(`- ${code(r.path)} (${r.format}): ${r.error ?? 'not read'}`);
      continue;
    }
    const p = r.parsed;
    lines.push(
      `- ${code(r.path)} (${p.format === 'json' ? 'jest/vitest json' : 'junit'}): ${p.total} tests, ${p.passed} passed, ${p.failed} failed, ${p.skipped} skipped${r.unchanged ? ' (file unchanged by this run: it may be stale)' : ''}`,
    );
  }
  if (t) {
    const rate =
      t.pass_rate === undefined ? 'n/a (no test ran)' : `${roundRate(t.pass_rate, o.min_pass_rate)}%`;
    lines.push(
      '',
      `Total: ${t.total} tests, ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped. Pass rate: ${rate}${o.min_pass_rate !== undefined ? ` (required: ${o.min_pass_rate}%)` : ''}.`,
    );
  }
  lines.push('');
  const failures = o.results.flatMap((r) => r.parsed?.failures ?? []);
  if (failures.length > 0) {
    lines.push('### Failing tests', '');
    for (const f of failures) {
      const where = f.file ? ` (${f.file}${f.line !== undefined ? `:${f.line}` : ''})` : '';
      lines.push(`- ${f.name}${where}${f.message ? `: ${f.message}` : ''}`);
    }
    lines.push('');
  }
  return lines;
}

function forbiddenLines(o: GateOutcome): string[] {
  if (o.forbidden.length === 0) return [];
  const lines = ['## Forbidden patterns', ''];
  for (const h of o.forbidden) {
    lines.push(
      `- ${h.file}:${h.line}: ${code(h.text)} (pattern ${code(h.pattern)}${h.message ? `: ${h.message}` : ''})`,
    );
  }
  lines.push('');
  return lines;
}

/** The last lines each command printed, folded away. */
function outputLines(o: GateOutcome): string[] {
  const lines: string[] = [];
  const withOutput = o.commands.filter((c) => c.output !== '');
  if (withOutput.length > 0) {
    lines.push('## Output (last lines)', '');
    for (const c of withOutput) {
      lines.push(
        `<details><summary>${escapeHtml(displayArgv(c.argv))}</summary>`,
        '',
        '```text',
        c.output.replace(/```/g, '`\u200b``'),
        '```',
        '',
        '</details>',
        '',
      );
    }
  }
  return lines;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface GateReportSummary {
  step?: string;
  attempt?: number;
  verdict: 'pass' | 'fail';
  total?: number;
  passed?: number;
  failed?: number;
  skipped?: number;
  pass_rate?: number;
  min_pass_rate?: number;
  forbidden?: number;
  /** Why it failed, one line each (empty when it passed). */
  reasons: string[];
}

/** Reads a report's front matter back. Throws an Error naming the field when it is not one. */
export function readGateReport(text: string): GateReportSummary {
  let data: Record<string, unknown>;
  try {
    data = parseFrontMatter(text).data;
  } catch (err) {
    if (err instanceof FrontMatterError) throw new Error(err.message);
    throw err;
  }
  const verdict = data.verdict;
  if (verdict !== 'pass' && verdict !== 'fail')
    throw new Error(`verdict: must be pass or fail, found ${JSON.stringify(verdict)}`);
  const reasons = Array.isArray(data.reasons)
    ? data.reasons.filter((r): r is string => typeof r === 'string')
    : [];
  const out: GateReportSummary = { verdict, reasons };
  for (const key of [
    'attempt',
    'total',
    'passed',
    'failed',
    'skipped',
    'pass_rate',
    'min_pass_rate',
    'forbidden',
  ] as const) {
    const v = data[key];
    if (typeof v === 'number') out[key] = v;
  }
  if (typeof data.step === 'string') out.step = data.step;
  return out;
}
