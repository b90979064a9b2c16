// `gastown evidence`: an evidence pack an auditor reads without the tool. For each checkpoint
// who decided, when, on what content, in which commit, signed by which key; every gate report;
// a summary table. Built from the audit timeline and the engine's status; pure.
import type { StatusJson } from '../engine/molecules.js';
import { mdCell } from './render.js';
import type { Timeline, TimelineEntry } from './timeline.js';

export interface EvidenceDecision {
  checkpoint: string;
  decision: string;
  by: { name: string; email: string; who?: string };
  committer: { name: string; email: string };
  /** Author date of the decision commit. */
  when: string;
  commit: string;
  /** The commit the decision was made on (its parent): the tree the approver saw. */
  saw?: string;
  signature: TimelineEntry['signature'];
  file: string;
  /** The checkpoint file as the decision commit left it. */
  content?: string;
  shallowEdge?: boolean;
}

export interface EvidenceReport {
  step?: string;
  attempt?: number;
  verdict?: string;
  commit: string;
  by: { name: string; email: string; who?: string };
  when: string;
  signature: TimelineEntry['signature'];
  file: string;
  content?: string;
}

export interface EvidencePack {
  molecule: string;
  formula: string;
  state: string;
  progress: { done: number; total: number };
  /** HEAD when the pack was made. */
  head?: string;
  notes: string[];
  decisions: EvidenceDecision[];
  reports: EvidenceReport[];
  timeline: Timeline['entries'];
}

export function buildEvidence(status: StatusJson, t: Timeline, head?: string): EvidencePack {
  const decisions: EvidenceDecision[] = t.entries
    .filter((e) => e.kind === 'decision')
    .map((e) => ({
      checkpoint: e.checkpoint ?? '?',
      decision: e.decision ?? '?',
      by: e.author,
      committer: { name: e.committer.name, email: e.committer.email },
      when: e.date,
      commit: e.sha,
      ...(e.saw ? { saw: e.saw } : {}),
      signature: e.signature,
      file: e.file,
      ...(e.body !== undefined ? { content: e.body } : {}),
      ...(e.shallowEdge ? { shallowEdge: true } : {}),
    }));
  const reports: EvidenceReport[] = t.entries
    .filter((e) => e.kind === 'gate-report')
    .map((e) => ({
      ...(e.step ? { step: e.step } : {}),
      ...(e.attempt ? { attempt: e.attempt } : {}),
      ...(e.verdict ? { verdict: e.verdict } : {}),
      commit: e.sha,
      by: e.author,
      when: e.date,
      signature: e.signature,
      file: e.file,
      ...(e.body !== undefined ? { content: e.body } : {}),
    }));
  return {
    molecule: status.id,
    formula: status.formula,
    state: status.state,
    progress: status.progress,
    ...(head ? { head } : {}),
    notes: t.notes,
    decisions,
    reports,
    timeline: t.entries,
  };
}

const person = (p: { name: string; email: string; who?: string }) =>
  p.who ? `${p.who} (${p.name} <${p.email}>)` : `${p.name} <${p.email}>`;
const sig = (s: TimelineEntry['signature']) =>
  `${s.word}${s.key && s.status !== 'N' ? `, key ${s.key}` : ''}`;

/** A fence longer than any backtick run in `text`, so quoted files cannot end it early. */
function fenced(text: string): string[] {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}markdown`, text.trimEnd(), fence];
}

export function evidenceMarkdown(p: EvidencePack): string {
  const out = [`# Evidence: ${p.molecule}`, ''];
  out.push(
    `Formula \`${p.formula}\`; state **${p.state}**, ${p.progress.done}/${p.progress.total} steps done${p.head ? `; as of commit \`${p.head}\`` : ''}.`,
    '',
  );
  for (const n of p.notes) out.push(`> ${n}`, '');
  out.push(
    '## Summary',
    '',
    '| checkpoint | decision | by | when | commit | signature |',
    '|---|---|---|---|---|---|',
  );
  for (const d of p.decisions)
    out.push(
      `| ${mdCell(d.checkpoint)} | ${d.decision} | ${mdCell(person(d.by))} | ${d.when} | \`${d.commit.slice(0, 12)}\` | ${mdCell(sig(d.signature))} |`,
    );
  if (p.decisions.length === 0) out.push('| (none) | | | | | |');
  out.push('', '| gate report | verdict | recorded by | when | commit |', '|---|---|---|---|---|');
  for (const r of p.reports)
    out.push(
      `| ${mdCell(`${r.step ?? '?'} attempt ${r.attempt ?? '?'}`)} | ${r.verdict ?? '?'} | ${mdCell(person(r.by))} | ${r.when} | \`${r.commit.slice(0, 12)}\` |`,
    );
  if (p.reports.length === 0) out.push('| (none) | | | | |');
  out.push('', '## Checkpoint decisions', '');
  for (const d of p.decisions) {
    out.push(`### ${d.checkpoint}: ${d.decision}`, '');
    out.push(`- by: ${person(d.by)}`);
    out.push(`- committed by: ${d.committer.name} <${d.committer.email}>`);
    out.push(`- when: ${d.when}`);
    out.push(`- commit: \`${d.commit}\`${d.saw ? ` (made on \`${d.saw}\`)` : ''}`);
    out.push(`- signature: ${sig(d.signature)}${d.signature.signer ? `, signer ${d.signature.signer}` : ''}`);
    out.push(`- file: \`${d.file}\``);
    if (d.shallowEdge) out.push("- note: at a shallow clone's edge; who made it is not certain");
    out.push('', 'The checkpoint as decided:', '', ...fenced(d.content ?? '(not readable)'), '');
  }
  out.push('## Gate reports', '');
  for (const r of p.reports) {
    out.push(`### ${r.step ?? '?'} attempt ${r.attempt ?? '?'}: ${r.verdict ?? '?'}`, '');
    out.push(`- recorded by: ${person(r.by)}, ${r.when}, commit \`${r.commit}\` (${sig(r.signature)})`);
    out.push(`- file: \`${r.file}\``, '', ...fenced(r.content ?? '(not readable)'), '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
