// `gastown report`: a status report for pull-request comments and CI summaries. The molecule's
// state comes from the engine's verdict (`moleculeStatus`), recent events from the audit
// timeline, and what a pull request moves from its commits. Rendering is pure.
import { checkpointId } from '../checkpoint/file.js';
import type { StatusJson } from '../engine/molecules.js';
import { mdCell } from './render.js';
import type { TimelineEntry } from './timeline.js';

export interface PendingCheckpoint {
  step: string;
  checkpoint: string;
  /** Repo-relative file a person edits (or `gastown checkpoint approve`). */
  file: string;
}

/** A fact a pull request adds: `<step> <kind>` in one molecule. */
export interface Moved {
  molecule: string;
  step?: string;
  attempt?: number;
  kind: string;
  commit: string;
}

export interface MoleculeReport {
  status: StatusJson;
  pending: PendingCheckpoint[];
  recent: TimelineEntry[];
}

export interface Report {
  base?: string;
  molecules: MoleculeReport[];
  /** With --base: the facts the range adds, oldest first. */
  moved?: Moved[];
  notes: string[];
}

const STATE_CLASS: Record<string, string> = {
  done: 'done',
  skipped: 'skipped',
  in_progress: 'active',
  ready: 'ready',
  failed: 'failed',
  pending: 'waiting',
};

/** Colours of the step states (GitHub's palette; readable in light and dark themes). */
const CLASS_DEFS = [
  'classDef done fill:#1a7f37,stroke:#116329,color:#ffffff',
  'classDef skipped fill:#8c959f,stroke:#6e7781,color:#ffffff',
  'classDef active fill:#0969da,stroke:#0550ae,color:#ffffff',
  'classDef ready fill:#bf8700,stroke:#9a6700,color:#ffffff',
  'classDef failed fill:#cf222e,stroke:#a40e26,color:#ffffff',
  'classDef waiting fill:#f6f8fa,stroke:#8c959f,color:#24292f',
];

/** A quoted mermaid label: quotes and markup characters as mermaid's entity codes. */
const label = (s: string) => s.replace(/[#"<>&]/g, (c) => `#${c.charCodeAt(0)};`);

/**
 * A mermaid flowchart of the steps: one node per step (`s<index>`, since step ids may hold
 * characters mermaid reads as syntax), one edge per need, each node in the class of its state.
 */
export function mermaidGraph(steps: StatusJson['steps']): string {
  const idOf = new Map(steps.map((s, i) => [s.id, `s${i}`]));
  const lines = ['flowchart TD'];
  for (const s of steps) {
    const gate = s.gate ? ` (${s.gate})` : '';
    const attempt = s.attempt > 1 ? `, attempt ${s.attempt}` : '';
    lines.push(
      `  ${idOf.get(s.id)}["${label(`${s.id}${gate}`)}<br/>${label(`${s.state}${attempt}`)}"]:::${STATE_CLASS[s.state] ?? 'waiting'}`,
    );
  }
  for (const s of steps)
    for (const n of s.needs ?? []) {
      const from = idOf.get(n);
      if (from) lines.push(`  ${from} --> ${idOf.get(s.id)}`);
    }
  for (const c of CLASS_DEFS) lines.push(`  ${c}`);
  return lines.join('\n');
}

/** The checkpoints of steps waiting on a person, from the status and the files that exist. */
export function pendingCheckpoints(
  status: StatusJson,
  dir: string,
  decisionOf: (rel: string) => string | undefined,
): PendingCheckpoint[] {
  const out: PendingCheckpoint[] = [];
  for (const s of status.steps) {
    if (s.gate !== 'human' || s.state === 'done' || s.state === 'skipped' || s.state === 'failed') continue;
    const checkpoint = checkpointId(s.id, s.attempt);
    const rel = `checkpoints/${checkpoint}.md`;
    if (decisionOf(rel) === 'pending') out.push({ step: s.id, checkpoint, file: `${dir}/${rel}` });
  }
  return out;
}

export function reportMarkdown(r: Report): string {
  const out: string[] = [];
  for (const n of r.notes) out.push(`> ${n}`, '');
  for (const m of r.molecules) {
    const s = m.status;
    const pct = s.progress.total === 0 ? 100 : Math.round((100 * s.progress.done) / s.progress.total);
    out.push(`## ${s.id} — ${s.state}`, '');
    out.push(
      `Formula \`${s.formula}\`: **${s.progress.done}/${s.progress.total} steps** done (${pct}%).${s.blocked_reason ? ` Blocked: ${s.blocked_reason}.` : ''}`,
      '',
    );
    for (const p of s.problems) out.push(`- problem: ${p.file ? `\`${p.file}\`: ` : ''}${p.message}`);
    for (const c of s.conflicts) out.push(`- conflict: \`${c.file}\`: ${c.message}`);
    if (s.problems.length + s.conflicts.length > 0) out.push('');
    out.push('```mermaid', mermaidGraph(s.steps), '```', '');
    if (m.pending.length > 0) {
      out.push('**Waiting for a decision:**', '');
      for (const p of m.pending) out.push(`- [${p.checkpoint}](${p.file}) (step \`${p.step}\`)`);
      out.push('');
    }
    if (m.recent.length > 0) {
      out.push('**Recent:**', '', '| date | commit | who | event |', '|---|---|---|---|');
      for (const e of m.recent)
        out.push(
          `| ${e.date} | \`${e.sha.slice(0, 12)}\` | ${mdCell(e.author.who ?? e.author.name)} | ${mdCell(e.summary)} |`,
        );
      out.push('');
    }
  }
  if (r.moved) {
    out.push(`## This change${r.base ? ` (since ${r.base.slice(0, 12)})` : ''}`, '');
    if (r.moved.length === 0) out.push('Moves no molecule.', '');
    else {
      out.push('| molecule | step | fact | commit |', '|---|---|---|---|');
      for (const m of r.moved)
        out.push(
          `| ${mdCell(m.molecule)} | ${mdCell(m.step ?? '(molecule)')} | ${mdCell(`${m.kind}${m.attempt && m.attempt > 1 ? ` (attempt ${m.attempt})` : ''}`)} | \`${m.commit.slice(0, 12)}\` |`,
        );
      out.push('');
    }
  }
  if (r.molecules.length === 0 && !r.moved) out.push('No molecules.', '');
  return `${out.join('\n').trimEnd()}\n`;
}

export function reportText(r: Report): string[] {
  const lines = r.notes.map((n) => `note: ${n}`);
  for (const m of r.molecules) {
    const s = m.status;
    lines.push(`${s.id}: ${s.state}, ${s.progress.done}/${s.progress.total} steps done`);
    for (const p of m.pending) lines.push(`  waiting for a decision: ${p.checkpoint} (${p.file})`);
    for (const e of m.recent) lines.push(`  ${e.date} ${e.sha.slice(0, 12)} ${e.summary}`);
  }
  if (r.moved)
    for (const m of r.moved)
      lines.push(`moves ${m.molecule}${m.step ? `/${m.step}` : ''}: ${m.kind} (${m.commit.slice(0, 12)})`);
  return lines;
}
