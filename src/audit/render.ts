// Text, markdown and CSV renderings of an audit timeline. Pure.
import type { Timeline, TimelineEntry } from './timeline.js';

const short = (sha: string) => sha.slice(0, 12);
const who = (p: TimelineEntry['author']) => (p.who ? `${p.who} <${p.email}>` : `${p.name} <${p.email}>`);
/** A markdown table cell: pipes escaped, one line. */
export const mdCell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function sigText(e: TimelineEntry): string {
  const s = e.signature;
  return `${s.word}${s.signer ? ` by ${s.signer.replace(/^gastown-user-/, '@')}` : ''}${s.key && s.status !== 'N' ? ` (${s.key})` : ''}`;
}

export function timelineText(t: Timeline): string[] {
  const lines = t.notes.map((n) => `note: ${n}`);
  if (t.entries.length === 0)
    lines.push(`${t.molecule}: nothing recorded${t.since ? ` since ${t.since}` : ''}`);
  for (const e of t.entries)
    lines.push(
      `${e.date}  ${short(e.sha)}  ${who(e.author)}  [${sigText(e)}]  ${e.summary}  (${e.file})${e.shallowEdge ? '  (shallow edge: author not certain)' : ''}`,
    );
  return lines;
}

export function timelineMarkdown(t: Timeline): string {
  const out = [`# Audit: ${t.molecule}`, ''];
  if (t.since) out.push(`Since ${t.since}.`, '');
  for (const n of t.notes) out.push(`> ${n}`, '');
  out.push(
    '| date | commit | author | committer | signature | event | file |',
    '|---|---|---|---|---|---|---|',
  );
  for (const e of t.entries)
    out.push(
      `| ${e.date} | \`${short(e.sha)}\` | ${mdCell(who(e.author))} | ${mdCell(who(e.committer))} | ${mdCell(sigText(e))} | ${mdCell(e.summary)}${e.shallowEdge ? ' (shallow edge)' : ''} | \`${mdCell(e.file)}\` |`,
    );
  if (t.entries.length === 0) out.push('| | | | | | nothing recorded | |');
  return `${out.join('\n')}\n`;
}

/** RFC 4180: every field quoted, quotes doubled, CRLF line ends. */
const csvField = (s: string | number | undefined) => `"${String(s ?? '').replace(/"/g, '""')}"`;

export const CSV_COLUMNS = [
  'date',
  'committed',
  'sha',
  'author_name',
  'author_email',
  'who',
  'committer_email',
  'signature',
  'signing_key',
  'kind',
  'step',
  'attempt',
  'checkpoint',
  'decision',
  'summary',
  'file',
] as const;

export function timelineCsv(t: Timeline): string {
  const rows = [CSV_COLUMNS.map(csvField).join(',')];
  for (const e of t.entries)
    rows.push(
      [
        e.date,
        e.committed,
        e.sha,
        e.author.name,
        e.author.email,
        e.author.who,
        e.committer.email,
        e.signature.status,
        e.signature.key,
        e.kind,
        e.step,
        e.attempt,
        e.checkpoint,
        e.decision,
        e.summary,
        e.file,
      ]
        .map(csvField)
        .join(','),
    );
  return `${rows.join('\r\n')}\r\n`;
}
