// `gastown audit`: one timeline of a molecule joining its state files with git history. Each
// entry is a file a commit added or changed, classified (transition, checkpoint decision,
// comment, gate report, mail, escalation), with who committed it and whether it was signed.
// `classify` is pure; `moleculeTimeline` reads git (history.ts).
import { decisionIn } from '../checkpoint/authors.js';
import { blobTexts } from '../git/cat-file.js';
import { shallowBoundary } from '../git/head.js';
import { identityForEmail, loadConfig } from '../store/config.js';
import type { GastownConfig } from '../store/types.js';
import {
  type CommitInfo,
  commitSignatures,
  MOLECULES_PREFIX,
  type SignatureInfo,
  shallowNote,
  stateCommits,
} from './history.js';
import { checkpointOfFile, isGateReport } from './rules.js';
import { allowedSignersText, parseSigningConfig, signatureWord } from './signing.js';

export type EntryKind =
  | 'created'
  | 'transition'
  | 'checkpoint-opened'
  | 'decision'
  | 'checkpoint-edited'
  | 'comment'
  | 'feedback'
  | 'gate-report'
  | 'output'
  | 'mail'
  | 'escalation'
  | 'squash'
  | 'burn'
  | 'convoy'
  | 'rewritten'
  | 'deleted'
  | 'other';

export interface Person {
  name: string;
  email: string;
  /** `@handle` or agent name from config.toml, when the email is someone's. */
  who?: string;
}

export interface TimelineEntry {
  kind: EntryKind;
  /** In a convoy's timeline: the member molecule the entry belongs to. */
  molecule?: string;
  /** One line saying what happened. */
  summary: string;
  /** Repo-relative file that records it. */
  file: string;
  sha: string;
  author: Person;
  committer: Person;
  /** Author date (ISO); a rebase keeps it. */
  date: string;
  committed: string;
  signature: { status: string; word: string; key?: string; signer?: string };
  step?: string;
  attempt?: number;
  transition?: string;
  checkpoint?: string;
  decision?: string;
  /** A decision's checkpoint file, or a gate report, as that commit left it (what was signed off). */
  body?: string;
  /** For a decision: the commit whose tree the approver saw (the decision commit's parent). */
  saw?: string;
  verdict?: string;
  /** This commit is at a shallow clone's edge: it seems to add files it may only have kept. */
  shallowEdge?: boolean;
}

export interface Timeline {
  molecule: string;
  since?: string;
  notes: string[];
  entries: TimelineEntry[];
}

const field = (text: string | undefined, key: string): string | undefined => {
  if (text === undefined) return undefined;
  const m = new RegExp(`^${key}\\s*[:=]\\s*["']?([^"'\\n]*)["']?\\s*$`, 'm').exec(text);
  return m?.[1]?.trim() || undefined;
};

/** What one change to a molecule's file means; `before`/`after` are its texts around the commit. */
export function classify(
  rel: string,
  status: string,
  before: string | undefined,
  after: string | undefined,
): Pick<
  TimelineEntry,
  'kind' | 'summary' | 'step' | 'attempt' | 'transition' | 'checkpoint' | 'decision' | 'verdict'
> {
  if (status === 'D') {
    if (rel === 'molecule.toml') return { kind: 'burn', summary: 'molecule burned (folder removed)' };
    if (rel.startsWith('events/')) return { kind: 'deleted', summary: `${rel} removed` };
    return { kind: 'deleted', summary: `${rel} removed` };
  }
  if (rel === 'molecule.toml' && status === 'A')
    return { kind: 'created', summary: `molecule created from formula ${field(after, 'formula') ?? '?'}` };
  if (rel === 'digest.toml' && status === 'A')
    return { kind: 'squash', summary: 'molecule squashed into digest.toml' };
  const ev = /^events\/(.+)\.(\d+)\.([a-z-]+)\.toml$/.exec(rel);
  if (ev && status === 'A') {
    const [, step = '', attempt = '', kind = ''] = ev;
    const by = field(after, 'by');
    const reason = field(after, 'reason');
    return {
      kind: 'transition',
      step,
      attempt: Number(attempt),
      transition: kind,
      summary: `${step} ${kind} (attempt ${attempt})${by ? ` by ${by}` : ''}${reason ? `: ${reason}` : ''}`,
    };
  }
  const mol = /^events\/molecule\.([a-z-]+)\.toml$/.exec(rel);
  if (mol && status === 'A')
    return { kind: 'transition', transition: mol[1] as string, summary: `molecule ${mol[1]}` };
  const checkpoint = checkpointOfFile(rel);
  if (checkpoint) {
    const now = decisionIn(after);
    const was = decisionIn(before);
    if (now !== was && (now === 'approved' || now === 'rejected')) {
      const reason = field(after, 'reason');
      return {
        kind: 'decision',
        checkpoint,
        decision: now,
        summary: `checkpoint ${checkpoint} ${now}${reason ? `: ${reason}` : ''}`,
      };
    }
    if (status === 'A' && now === 'pending')
      return { kind: 'checkpoint-opened', checkpoint, summary: `checkpoint ${checkpoint} opened` };
    return {
      kind: 'checkpoint-edited',
      checkpoint,
      summary: `checkpoint ${checkpoint} edited (decision: ${now ?? '?'})`,
    };
  }
  if (status !== 'A' && (rel.startsWith('events/') || rel.startsWith('reports/') || rel === 'molecule.toml'))
    return { kind: 'rewritten', summary: `${rel} rewritten after it was recorded` };
  if (isGateReport(rel)) {
    const m = /^reports\/(.+)\.(\d+)\.md$/.exec(rel) as RegExpExecArray;
    const verdict = field(after, 'verdict');
    return {
      kind: 'gate-report',
      step: m[1] as string,
      attempt: Number(m[2]),
      ...(verdict ? { verdict } : {}),
      summary: `gate report ${m[1]} attempt ${m[2]}: ${verdict ?? '?'}`,
    };
  }
  const fb = /^feedback\/([^/]+)\/(.+)\.md$/.exec(rel);
  if (fb) {
    const comment = fb[2]?.endsWith('.comment');
    return {
      kind: comment ? 'comment' : 'feedback',
      step: fb[1] as string,
      summary: `${comment ? 'comment' : 'feedback'} on ${fb[1]}`,
    };
  }
  if (rel.startsWith('outputs/'))
    return { kind: 'output', summary: `output ${rel.slice(8)} ${status === 'A' ? 'written' : 'changed'}` };
  return { kind: 'other', summary: `${rel} ${status === 'A' ? 'added' : 'changed'}` };
}

const person = (config: GastownConfig, name: string, email: string): Person => {
  const who = identityForEmail(config, email);
  return { name, email, ...(who ? { who } : {}) };
};

/** The molecule a mail or escalation file names in its front matter. */
const moleculeNamed = (text: string | undefined) => field(text?.split(/\n---\s*\n/)[0], 'molecule');

export async function moleculeTimeline(
  root: string,
  id: string,
  opts: { since?: string } = {},
): Promise<Timeline> {
  const config = loadConfig(root);
  const dir = `${MOLECULES_PREFIX}${id}/`;
  // One log over the molecule, mail and escalations keeps git's order across all three.
  const commits = await stateCommits(root, {
    paths: [dir, '.beads/mail/', '.beads/escalations/'],
    ...(opts.since ? { after: opts.since } : {}),
  });
  const { changes, sideAdds } = changesOf(commits, dir);
  const names = [
    ...changes.flatMap((x) => [`${x.c.sha}^:${x.file}`, `${x.c.sha}:${x.file}`]),
    ...sideAdds.map((x) => `${x.c.sha}:${x.file}`),
  ];
  const texts = await blobTexts(root, names);
  let signing = { requireSigned: false, keys: {} } as ReturnType<typeof parseSigningConfig>;
  try {
    signing = parseSigningConfig(config.extra, '.beads/config.toml');
  } catch {
    // a broken [verify] table is verify's finding; the audit still shows git's own verdict
  }
  const classified = classifyChanges(id, dir, changes, sideAdds, texts);
  const sigs: Map<string, SignatureInfo> = await commitSignatures(
    root,
    [...new Set(classified.map((e) => e.x.c.sha))],
    allowedSignersText(signing),
  );
  const edge = shallowBoundary(root);
  const entries = classified
    .map((e): TimelineEntry => entryOf(config, e, sigs.get(e.x.c.sha) ?? { status: 'N' }, edge))
    .map((e, i) => ({ e, order: classified[i]?.x.order ?? 0 }))
    .sort((a, b) => a.order - b.order)
    .map(({ e }) => e);
  const notes: string[] = [];
  const shallow = shallowNote(root);
  if (shallow) notes.push(shallow);
  return { molecule: id, ...(opts.since ? { since: opts.since } : {}), notes, entries };
}

type Change = { c: CommitInfo; file: string; status: string; order: number };
type Classified = { x: Change; cls: ReturnType<typeof classify>; body?: string };

/** Changes to the molecule's files, and files added to mail and escalations, in git's order. */
function changesOf(commits: readonly CommitInfo[], dir: string): { changes: Change[]; sideAdds: Change[] } {
  const changes: Change[] = [];
  const sideAdds: Change[] = [];
  let order = 0;
  for (const c of commits)
    for (const ch of c.changes) {
      if (ch.file.startsWith(dir)) changes.push({ c, ...ch, order: order++ });
      else if (
        ch.status === 'A' &&
        !ch.file.includes('/.state/') &&
        (ch.file.endsWith('.md') || /^\.beads\/escalations\/[^/]+\/escalation\.toml$/.test(ch.file))
      )
        sideAdds.push({ c, ...ch, order: order++ });
    }
  return { changes, sideAdds };
}

/**
 * Each molecule change classified from its text before and after; mail and escalations kept
 * when they name this molecule. `texts`: before and after per change, then one per side add.
 */
function classifyChanges(
  id: string,
  dir: string,
  changes: readonly Change[],
  sideAdds: readonly Change[],
  texts: readonly (string | undefined)[],
): Classified[] {
  const out: Classified[] = [];
  changes.forEach((x, i) => {
    const before = texts[2 * i];
    const after = texts[2 * i + 1];
    const cls = classify(x.file.slice(dir.length), x.status, before, after);
    out.push({
      x,
      cls,
      ...((cls.kind === 'decision' || cls.kind === 'gate-report') && after !== undefined
        ? { body: after }
        : {}),
    });
  });
  sideAdds.forEach((x, i) => {
    const text = texts[2 * changes.length + i];
    if (moleculeNamed(text) !== id) return;
    const escalation = x.file.startsWith('.beads/escalations/');
    const subject = field(text, escalation ? 'what' : 'subject');
    out.push({
      x,
      cls: {
        kind: escalation ? 'escalation' : 'mail',
        summary: `${escalation ? 'escalation' : `mail to ${x.file.split('/')[2]}`}${subject ? `: ${subject}` : ''}`,
      },
    });
  });
  return out;
}

function entryOf(
  config: GastownConfig,
  { x, cls, body }: Classified,
  sig: SignatureInfo,
  edge: ReadonlySet<string>,
): TimelineEntry {
  return {
    ...cls,
    file: x.file,
    sha: x.c.sha,
    author: person(config, x.c.author.name, x.c.author.email),
    committer: person(config, x.c.committer.name, x.c.committer.email),
    date: x.c.author.date,
    committed: x.c.committer.date,
    signature: { ...sig, word: signatureWord(sig.status) },
    ...(body !== undefined ? { body } : {}),
    ...(cls.kind === 'decision' && x.c.parents[0] ? { saw: x.c.parents[0] } : {}),
    ...(edge.has(x.c.sha) ? { shallowEdge: true } : {}),
  };
}

/**
 * A convoy's timeline: its own files (created, landed, closed) and every member molecule's
 * timeline, ordered by commit time (members in the order given where times are equal).
 */
export async function convoyTimeline(
  root: string,
  id: string,
  members: readonly string[],
  opts: { since?: string } = {},
): Promise<Timeline> {
  const config = loadConfig(root);
  const dir = `.beads/convoys/${id}/`;
  const own = await stateCommits(root, { paths: [dir], ...(opts.since ? { after: opts.since } : {}) });
  const sigs = await commitSignatures(
    root,
    own.map((c) => c.sha),
  );
  const entries: TimelineEntry[] = [];
  for (const c of own)
    for (const ch of c.changes) {
      if (!ch.file.startsWith(dir)) continue;
      const name = ch.file.slice(dir.length);
      const what: Record<string, string> = {
        'convoy.toml': 'created',
        'landed.toml': 'landed',
        'closed.toml': 'closed',
      };
      const sig = sigs.get(c.sha) ?? { status: 'N' };
      entries.push({
        kind: 'convoy',
        summary: `convoy ${id} ${ch.status === 'A' ? (what[name] ?? `${name} added`) : `${name} ${ch.status === 'D' ? 'removed' : 'changed'}`}`,
        file: ch.file,
        sha: c.sha,
        author: person(config, c.author.name, c.author.email),
        committer: person(config, c.committer.name, c.committer.email),
        date: c.author.date,
        committed: c.committer.date,
        signature: { ...sig, word: signatureWord(sig.status) },
      });
    }
  const notes = new Set<string>();
  for (const m of members) {
    const t = await moleculeTimeline(root, m, opts);
    for (const n of t.notes) notes.add(n);
    entries.push(...t.entries.map((e) => ({ ...e, molecule: m })));
  }
  const at = (e: TimelineEntry) => Date.parse(e.committed);
  return {
    molecule: id,
    ...(opts.since ? { since: opts.since } : {}),
    notes: [...notes],
    entries: entries
      .map((e, i) => ({ e, i }))
      .sort((a, b) => at(a.e) - at(b.e) || a.i - b.i)
      .map(({ e }) => e),
  };
}
