// `gastown verify [--base REF]`: what CI checks on a pull request. Reads the range's commits
// that touch `.beads/molecules/`, folds each molecule they touch at each of those commits, and
// judges with the engine's own rules (rules.ts says which); nothing is written.
import { decisionIn } from '../checkpoint/authors.js';
import { parseCheckpointId } from '../checkpoint/file.js';
import type { VoteFact } from '../checkpoint/trust.js';
import { auditMolecules } from '../doctor/gather.js';
import { loadGatePlugins } from '../engine/gates.js';
import { listMoleculeIds, moleculeRelDir, readMoleculeFiles } from '../engine/io.js';
import { unbackedFacts } from '../engine/plan.js';
import { foldFiles } from '../engine/reconcile.js';
import type { MoleculeState } from '../engine/types.js';
import { judgeCheckpointVote } from '../gates/human.js';
import { trustConfigOf } from '../gates/shared.js';
import { blobText, type CatFileSession, openCatFile } from '../git/cat-file.js';
import { defaultConfig, identityForEmail, loadConfig, parseConfig } from '../store/config.js';
import { CONFIG_FILE } from '../store/layout.js';
import { parseToml } from '../store/toml.js';
import type { GastownConfig } from '../store/types.js';
import {
  type CommitInfo,
  commitSignatures,
  MOLECULES_PREFIX,
  mergeBase,
  moleculeOfPath,
  moleculesFilesAt,
  shallowNote,
  stateCommits,
} from './history.js';
import {
  checkpointOfFile,
  engineCommitFindings,
  isGateReport,
  onlyMembershipChanged,
  problemSet,
  RULES,
  relInMolecule,
  rewriteFindings,
  transitionFindings,
  type VerifyFinding,
} from './rules.js';
import { allowedSignersText, parseSigningConfig, type SigningConfig, signatureProblem } from './signing.js';

export interface VerifyResult {
  ok: boolean;
  base?: string;
  /** Commits judged (those that touch `.beads/`). */
  commits: number;
  molecules: string[];
  findings: VerifyFinding[];
  /** What this run could not check (a shallow clone's edge). */
  notes: string[];
}

/** A decision a commit made: the file, the vote, and the molecule state at that commit. */
interface Decision {
  commit: CommitInfo;
  file: string;
  molecule: string;
  checkpoint: string;
  vote: 'approved' | 'rejected';
}

const EMPTY = new Map<string, string>();

function configOf(text: string | undefined, where: string): GastownConfig {
  return text === undefined ? defaultConfig() : parseConfig(text, where);
}

function problemsOf(state: MoleculeState, config: GastownConfig, now: Date) {
  const env = { config, now, moleculeStatus: () => undefined };
  return [
    ...(state.formula ? unbackedFacts(state, state.formula, env) : []),
    ...state.errors.map((e) => ({ file: e.file, message: e.path ? `${e.path}: ${e.message}` : e.message })),
    ...state.conflicts.map((c) => ({ file: c.file, message: `conflict: ${c.message}` })),
  ];
}

/** A commit's config before and after it; `error` when either cannot be read. */
interface CommitConfig {
  before: GastownConfig;
  after: GastownConfig;
  error?: string;
}

/** What walking the range's commits gathers, in commit order. */
interface Walk {
  findings: VerifyFinding[];
  decisions: Decision[];
  /** `sha\0path` of molecule.toml edits that only change convoy membership. */
  membership: Set<string>;
  statesAt: Map<string, Map<string, MoleculeState>>;
}

/** The molecules the range's commits touch, sorted. */
function touchedMolecules(commits: readonly CommitInfo[]): string[] {
  const touched = new Set<string>();
  for (const c of commits) for (const ch of c.changes) touched.add(moleculeOfPath(ch.file) ?? '');
  touched.delete('');
  return [...touched].sort();
}

/** Doctor's molecule audit at HEAD, for the given molecules. */
async function auditFindings(root: string, ids: readonly string[], now: Date): Promise<VerifyFinding[]> {
  const folded = ids.map((id) => {
    try {
      return { id, state: foldFiles(id, readMoleculeFiles(root, id)) };
    } catch (err) {
      return { id, error: (err as Error).message };
    }
  });
  const audit = await auditMolecules(root, now, folded);
  return audit.problems.map((p) => ({ rule: RULES.audit, file: p.file, message: p.message }));
}

/** Each non-merge commit's config before and after it, read in one batch. */
async function commitConfigs(
  cat: CatFileSession,
  commits: readonly CommitInfo[],
  headConfig: GastownConfig,
): Promise<Map<string, CommitConfig>> {
  const shas = commits.filter((c) => c.parents.length <= 1).map((c) => c.sha);
  const parentRevs = shas.map((s) => `${s}^:${CONFIG_FILE}`);
  const ownRevs = shas.map((s) => `${s}:${CONFIG_FILE}`);
  const cfgTexts = (await cat.read([...parentRevs, ...ownRevs])).map(blobText);
  const configs = new Map<string, CommitConfig>();
  shas.forEach((s, i) => {
    try {
      configs.set(s, {
        before: configOf(cfgTexts[i], `${CONFIG_FILE} before ${s.slice(0, 12)}`),
        after: configOf(cfgTexts[i + shas.length], `${CONFIG_FILE} at ${s.slice(0, 12)}`),
      });
    } catch (err) {
      configs.set(s, { before: headConfig, after: headConfig, error: (err as Error).message });
    }
  });
  return configs;
}

/** One molecule a commit changes: its transitions, membership edits, decisions and gate reports. */
function judgeMoleculeAt(
  c: CommitInfo,
  id: string,
  files: { a: Map<string, string>; b: Map<string, string> },
  cfg: CommitConfig,
  now: Date,
  walk: Walk,
): MoleculeState {
  const { a, b } = files;
  const stAfter = foldFiles(id, a);
  const dir = moleculeRelDir(id);
  walk.findings.push(
    ...transitionFindings(
      c.sha,
      // A molecule the commit creates had no state before it: nothing to fold.
      problemSet(b.size === 0 ? [] : problemsOf(foldFiles(id, b), cfg.before, now), dir),
      problemSet(problemsOf(stAfter, cfg.after, now), dir),
    ),
  );
  const meta = 'molecule.toml';
  if (b.has(meta) && a.get(meta) !== b.get(meta)) {
    try {
      if (onlyMembershipChanged(parseToml(b.get(meta) ?? '', meta), parseToml(a.get(meta) ?? '', meta)))
        walk.membership.add(`${c.sha}\0${MOLECULES_PREFIX}${id}/${meta}`);
    } catch {
      // unreadable: reported as rewritten
    }
  }
  const reports: string[] = [];
  for (const ch of c.changes) {
    if (moleculeOfPath(ch.file) !== id || ch.status === 'D') continue;
    const rel = relInMolecule(ch.file);
    if (ch.status === 'A' && isGateReport(rel)) reports.push(ch.file);
    const checkpoint = checkpointOfFile(rel);
    if (!checkpoint) continue;
    const vote = decisionIn(a.get(rel));
    if ((vote === 'approved' || vote === 'rejected') && vote !== decisionIn(b.get(rel)))
      walk.decisions.push({ commit: c, file: ch.file, molecule: id, checkpoint, vote });
  }
  walk.findings.push(...engineCommitFindings(c, cfg.before.engine.author_email, reports));
  return stAfter;
}

/** One non-merge commit, with config and molecules read as of it. */
async function judgeCommit(
  cat: CatFileSession,
  c: CommitInfo,
  cfg: CommitConfig,
  now: Date,
  walk: Walk,
): Promise<void> {
  if (cfg.error)
    walk.findings.push({ rule: RULES.approver, file: CONFIG_FILE, commit: c.sha, message: cfg.error });
  const mols = [...new Set(c.changes.map((ch) => moleculeOfPath(ch.file)).filter((x) => x !== undefined))];
  const parent = c.parents[0];
  const [after, before] = await Promise.all([
    moleculesFilesAt(cat, c.sha, mols),
    parent ? moleculesFilesAt(cat, parent, mols) : Promise.resolve(new Map<string, Map<string, string>>()),
  ]);
  const states = new Map<string, MoleculeState>();
  for (const id of mols) {
    const a = after.get(id);
    if (!a || a.size === 0) continue; // burned here
    states.set(id, judgeMoleculeAt(c, id, { a, b: before.get(id) ?? EMPTY }, cfg, now, walk));
  }
  walk.statesAt.set(c.sha, states);
}

/** The signing rules at HEAD; unreadable ones are a finding and require nothing. */
function signingOf(headConfig: GastownConfig, findings: VerifyFinding[]): SigningConfig {
  try {
    return parseSigningConfig(headConfig.extra, CONFIG_FILE);
  } catch (err) {
    findings.push({ rule: RULES.signature, file: CONFIG_FILE, message: (err as Error).message });
    return { requireSigned: false, keys: {} };
  }
}

/** One decision: an allowed approver, not who did the work; signed by their key when required. */
function decisionFinding(
  d: Decision,
  cfg: CommitConfig,
  state: MoleculeState | undefined,
  signing: SigningConfig,
  signature: Parameters<typeof signatureProblem>[2],
): VerifyFinding | undefined {
  const { step } = parseCheckpointId(d.checkpoint);
  const short = d.commit.sha.slice(0, 12);
  const at = { file: d.file, commit: d.commit.sha };
  if (JSON.stringify(trustConfigOf(cfg.before)) !== JSON.stringify(trustConfigOf(cfg.after))) {
    return {
      rule: RULES.approver,
      ...at,
      message: `commit ${short} changes who may approve (${CONFIG_FILE} [users], [agents], [teams]) and decides ${d.checkpoint}: a decision counts only from a commit that leaves them alone`,
    };
  }
  const vote: VoteFact = {
    decision: d.vote,
    source: d.file,
    email: d.commit.author.email,
    committed: true,
    commit: d.commit.sha,
    config: trustConfigOf(cfg.before),
  };
  const judged = state ? judgeCheckpointVote(state, step, cfg.before, vote) : undefined;
  if (!judged) {
    return {
      rule: RULES.approver,
      ...at,
      message: `${d.checkpoint} is no human checkpoint of molecule ${d.molecule} at commit ${short}`,
    };
  }
  const who = `${d.vote} by ${d.commit.author.name} <${d.commit.author.email}>`;
  if (!judged.counts) return { rule: RULES.approver, ...at, message: `${who} does not count: ${judged.why}` };
  if (!signing.requireSigned) return undefined;
  const handle = identityForEmail(cfg.before, d.commit.author.email);
  const why = signatureProblem(signing, handle?.startsWith('@') ? handle.slice(1) : undefined, signature);
  if (!why) return undefined;
  return {
    rule: RULES.signature,
    ...at,
    message: `${who} needs a good signature by their own key (verify.require_signed): ${why}`,
  };
}

/** Every decision the range makes, judged against the config before its commit. */
async function decisionFindings(
  root: string,
  headConfig: GastownConfig,
  configs: Map<string, CommitConfig>,
  walk: Walk,
): Promise<VerifyFinding[]> {
  const findings: VerifyFinding[] = [];
  const signing = signingOf(headConfig, findings);
  const sigs = signing.requireSigned
    ? await commitSignatures(
        root,
        walk.decisions.map((d) => d.commit.sha),
        allowedSignersText(signing),
      )
    : new Map();
  for (const d of walk.decisions) {
    const cfg = configs.get(d.commit.sha) as CommitConfig;
    const state = walk.statesAt.get(d.commit.sha)?.get(d.molecule);
    const f = decisionFinding(d, cfg, state, signing, sigs.get(d.commit.sha));
    if (f) findings.push(f);
  }
  return findings;
}

export async function verify(root: string, opts: { base?: string; now: Date }): Promise<VerifyResult> {
  const since = opts.base ? await mergeBase(root, opts.base) : undefined;
  const commits = await stateCommits(root, { ...(since ? { since } : {}), paths: [MOLECULES_PREFIX] });
  const findings: VerifyFinding[] = [];
  const notes: string[] = [];
  const shallow = shallowNote(root);
  if (shallow) notes.push(shallow);
  const ids = touchedMolecules(commits);

  // 1. doctor's molecule audit at HEAD, for the molecules the range touches that still exist.
  const present = new Set(listMoleculeIds(root));
  const headConfig = loadConfig(root);
  findings.push(
    ...(await auditFindings(
      root,
      ids.filter((id) => present.has(id)),
      opts.now,
    )),
  );

  // 3. Per commit: transitions, decisions, gate reports; config and molecules read as of it.
  await loadGatePlugins();
  // Every object read from history (configs, trees, files) goes through one git process.
  const cat = openCatFile(root);
  const walk: Walk = { findings, decisions: [], membership: new Set(), statesAt: new Map() };
  let configs: Map<string, CommitConfig>;
  try {
    configs = await commitConfigs(cat, commits, headConfig);
    for (const c of commits) {
      if (c.parents.length > 1) continue; // a merge's changes are judged in the commits it brings in
      await judgeCommit(cat, c, configs.get(c.sha) as CommitConfig, opts.now, walk);
    }
  } finally {
    await cat.close();
  }

  // Nothing written once is rewritten or removed (but `convoy add` may set convoy/after).
  findings.push(...rewriteFindings(commits, walk.membership));

  // 4. Decisions: an allowed approver, not who did the work; signed by their key when required.
  findings.push(...(await decisionFindings(root, headConfig, configs, walk)));
  return {
    ok: findings.length === 0,
    ...(since ? { base: since } : {}),
    commits: commits.length,
    molecules: ids,
    findings,
    notes,
  };
}
