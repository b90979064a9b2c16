// Commit histories for the audit suite: N commits of agents finishing polecat-work steps with
// `Gastown-Done` trailers, the engine commits the hooks make for them, and reviewers deciding
// checkpoints, interleaved over several molecules in flight, padded with plain code commits to
// exactly N. Every molecule is completed by the last commit, so the final tree is at rest.
//
// How: a prototype history is recorded once with the real thing (the built CLI, hooks installed,
// real commits by an agent, a reviewer and the engine), then replayed per molecule through
// `git fast-import` with that molecule's id, issue, agent and commit ids in place of the
// prototype's. Commit dates are fixed (a minute apart), so the same seed gives the same commit ids.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { git, identity } from './git.mjs';
import { AGENTS, agentName, CACHE_ROOT, projectFiles, withPeople } from './molecules.mjs';
import { prng } from './prng.mjs';
import { agentEmail, formulaFiles, loadEngine, PLACEHOLDER, REVIEWER } from './prototypes.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/gastown.cjs');

/** Bump when what the generator writes changes for the same inputs. */
export const HISTORY_VERSION = 2;
/** Molecules in flight at once; with commits a minute apart a lifecycle spans about an hour. */
const LANES = 8;
const START = Date.UTC(2025, 5, 2, 8, 0, 0) / 1000;
const PROTO_IDS = { straight: 'qqha', rejected: 'qqhb' };

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

function cli(repo, args, env) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: repo, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gastown ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Records the prototype lifecycles in a scratch repository with hooks installed. Returns
 * `{ lifecycles: { straight, rejected } }`, each a list of commits `{ who, message, changes, sha }`
 * where `who` is `agent`, `reviewer`, `refinery` or `engine` and `changes` are
 * `[path, text | null]` (null: deleted).
 */
export function recordPrototypeHistory(work) {
  const repo = join(work, 'history-prototype');
  mkdirSync(repo, { recursive: true });
  const base = { ...process.env, NO_COLOR: '1', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  let minute = 0;
  const as = (name, email) => {
    const at = new Date((START + 60 * minute++) * 1000).toISOString();
    return { ...base, ...identity(name, email, at) };
  };
  const agentId = () => as(PLACEHOLDER.agent, agentEmail(PLACEHOLDER.agent));
  const reviewerId = () => as(REVIEWER.name, REVIEWER.email);
  const refineryId = () => as('refinery', agentEmail('refinery'));

  git(repo, ['init', '-q', '-b', 'main']);
  cli(repo, ['init', '--hooks', 'native'], base);
  const config = join(repo, '.beads/config.toml');
  writeFileSync(config, withPeople(readFileSync(config, 'utf8'), [PLACEHOLDER.agent, 'refinery']));
  for (const [rel, text] of [...formulaFiles(), ...projectFiles()]) {
    mkdirSync(dirname(join(repo, rel)), { recursive: true });
    writeFileSync(join(repo, rel), text);
  }
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'set up gastown'], { env: reviewerId() });

  const head = () => git(repo, ['rev-parse', 'HEAD']).trim();
  const lifecycle = (id, rejectOnce) => {
    const start = head();
    const work = (env, message, trailer) => {
      writeFileSync(join(repo, `src/${id}.txt`), `${message}\n`);
      git(repo, ['add', `src/${id}.txt`]);
      git(repo, ['commit', '-q', '-m', message, ...(trailer ? ['--trailer', trailer] : [])], { env });
    };
    const decide = (checkpoint, decision, reason) => {
      const file = join(repo, '.beads/molecules', id, 'checkpoints', `${checkpoint}.md`);
      let text = readFileSync(file, 'utf8').replace(/^decision: pending/m, `decision: ${decision}`);
      if (reason) text = text.replace(/^reason: ""/m, `reason: ${JSON.stringify(reason)}`);
      writeFileSync(file, text);
      git(repo, ['add', '-A', '.beads']);
      git(
        repo,
        ['commit', '-q', '-m', `${decision === 'approved' ? 'approve' : 'reject'} ${checkpoint} of ${id}`],
        {
          env: reviewerId(),
        },
      );
    };
    const env = agentId();
    cli(
      repo,
      [
        'molecule',
        'create',
        '--formula',
        'polecat-work',
        '--name',
        id,
        '--var',
        `issue=${PLACEHOLDER.issue}`,
        '--var',
        `polecat=${PLACEHOLDER.agent}`,
      ],
      env,
    );
    git(repo, ['add', '-A', '.beads']);
    git(repo, ['commit', '-q', '-m', `start ${PLACEHOLDER.issue}`], { env: reviewerId() });
    work(agentId(), `implement ${PLACEHOLDER.issue}`, `Gastown-Done: ${id}/implement`);
    work(agentId(), `push ${PLACEHOLDER.issue} for review`, `Gastown-Done: ${id}/done`);
    if (rejectOnce) {
      decide('review', 'rejected', 'the error path has no test');
      work(agentId(), `test the error path of ${PLACEHOLDER.issue}`, `Gastown-Done: ${id}/implement`);
      work(agentId(), `push ${PLACEHOLDER.issue} again`, `Gastown-Done: ${id}/done`);
      decide('review.attempt-2', 'approved');
    } else decide('review', 'approved');
    work(refineryId(), `merge ${PLACEHOLDER.issue}`, `Gastown-Done: ${id}/merge`);
    if (!existsSync(join(repo, '.beads/molecules', id, 'events/molecule.completed.toml')))
      throw new Error(`prototype history: ${id} did not complete (are the hooks running?)`);
    const shas = git(repo, ['rev-list', '--reverse', `${start}..HEAD`])
      .trim()
      .split('\n');
    return shas.map((sha) => {
      const email = git(repo, ['log', '-1', '--format=%ae', sha]).trim();
      const who =
        email === 'gastown@localhost'
          ? 'engine'
          : email === REVIEWER.email
            ? 'reviewer'
            : email === agentEmail('refinery')
              ? 'refinery'
              : 'agent';
      const message = git(repo, ['log', '-1', '--format=%B', sha]).replace(/\n+$/, '\n');
      const changes = git(repo, ['diff-tree', '-r', '--no-commit-id', '--name-status', '--no-renames', sha])
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [status, path] = line.split('\t');
          return [path, status === 'D' ? null : git(repo, ['show', `${sha}:${path}`])];
        });
      return { sha, who, message, changes };
    });
  };
  return {
    lifecycles: {
      straight: { id: PROTO_IDS.straight, commits: lifecycle(PROTO_IDS.straight, false) },
      rejected: { id: PROTO_IDS.rejected, commits: lifecycle(PROTO_IDS.rejected, true) },
    },
  };
}

/** The prototype history, cached by the bytes of the built CLI, the formulas and this file. */
function prototypeHistoryOnce(cacheRoot, log) {
  const dist = join(ROOT, 'dist');
  const distFiles = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory()) walk(join(d, e.name));
      else distFiles.push(readFileSync(join(d, e.name), 'utf8'));
    }
  };
  walk(dist);
  const key = sha256(
    [...distFiles, ...formulaFiles().flat(), readFileSync(import.meta.filename, 'utf8')].join('\0'),
  ).slice(0, 16);
  const file = join(cacheRoot, `history-prototype-${key}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const work = join(cacheRoot, `history-prototype-tmp-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const t0 = performance.now();
  try {
    const recorded = recordPrototypeHistory(work);
    recorded.fingerprint = sha256(JSON.stringify(recorded.lifecycles)).slice(0, 16);
    writeFileSync(`${file}.tmp-${process.pid}`, JSON.stringify(recorded));
    renameSync(`${file}.tmp-${process.pid}`, file);
    log(`recorded the prototype history in ${(performance.now() - t0).toFixed(0)} ms`);
    return recorded;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** git fast-import, driven a command at a time so commit ids can be asked for as it goes. */
class FastImport {
  constructor(repo) {
    this.child = spawn('git', ['fast-import', '--quiet', '--done'], {
      cwd: repo,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.buffer = '';
    this.waiting = [];
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      this.buffer += chunk;
      let nl = this.buffer.indexOf('\n');
      while (nl >= 0 && this.waiting.length > 0) {
        this.waiting.shift()(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 1);
        nl = this.buffer.indexOf('\n');
      }
    });
    this.closed = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}`)),
      );
    });
  }
  write(text) {
    this.child.stdin.write(text);
  }
  data(text) {
    this.write(`data ${Buffer.byteLength(text)}\n${text}\n`);
  }
  /** The commit id of mark `n` (the commit is complete once asked for). */
  mark(n) {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.write(`get-mark :${n}\n`);
    });
  }
  async end() {
    this.write('done\n');
    this.child.stdin.end();
    await this.closed;
  }
}

/**
 * Generates a repository of exactly `commits` commits in `repo` (missing or empty) and checks out
 * its last one. Returns `{ commits, molecules, head, tree }`.
 */
export async function generateHistory(repo, { commits, seed = 1, cacheRoot = CACHE_ROOT, log = () => {} }) {
  const proto = prototypeHistoryOnce(cacheRoot, log);
  const rng = prng(seed);
  // Which lifecycles, in order: about one in six molecules is sent back once by its reviewer.
  const plan = [];
  let budget = commits - 1;
  for (;;) {
    const kind = rng.next() < 1 / 6 ? 'rejected' : 'straight';
    const n = proto.lifecycles[kind].commits.length;
    if (n > budget) break;
    plan.push(kind);
    budget -= n;
  }
  let padding = budget;

  mkdirSync(repo, { recursive: true });
  git(repo, ['init', '-q', '-b', 'main']);
  const fi = new FastImport(repo);
  let mark = 0;
  let clock = START;
  const person = (who, agent) => {
    const [name, email] =
      who === 'engine'
        ? ['gastown', 'gastown@localhost']
        : who === 'reviewer'
          ? [REVIEWER.name, REVIEWER.email]
          : who === 'refinery'
            ? ['refinery', agentEmail('refinery')]
            : [agent, agentEmail(agent)];
    return `${name} <${email}> ${clock} +0000`;
  };
  const commit = (who, agent, message, changes) => {
    mark++;
    clock += 60;
    fi.write(
      `commit refs/heads/main\nmark :${mark}\nauthor ${person(who, agent)}\ncommitter ${person(who, agent)}\n`,
    );
    fi.data(message);
    if (mark > 1) fi.write(`from :${mark - 1}\n`);
    for (const [path, text] of changes) {
      if (text === null) fi.write(`D ${path}\n`);
      else {
        fi.write(`M 100644 inline ${path}\n`);
        fi.data(text);
      }
    }
    fi.write('\n');
    return mark;
  };

  // The first commit: the project as `gastown init` leaves it, with its people.
  const skeleton = join(repo, '.skeleton');
  mkdirSync(skeleton);
  git(skeleton, ['init', '-q']);
  cli(skeleton, ['init', '--hooks', 'none'], { ...process.env, NO_COLOR: '1' });
  const files = [];
  for (const rel of ['.beads/.gitignore', '.beads/formulas/README.md'])
    files.push([rel, readFileSync(join(skeleton, rel), 'utf8')]);
  files.push(['.beads/config.toml', withPeople(readFileSync(join(skeleton, '.beads/config.toml'), 'utf8'))]);
  rmSync(skeleton, { recursive: true, force: true });
  commit('reviewer', undefined, 'set up gastown\n', [...files, ...formulaFiles(), ...projectFiles()]);

  // A frozen formula holds the vars, so its hash changes with them; molecule.toml names it. The
  // hash rule is the engine's own (as in molecules.mjs writeMolecules).
  const engine = await loadEngine();
  const hashOf = (text) => engine.formulaHash(engine.parseWrittenToml(text, 'formula.resolved.toml'));
  const rehash = (lane, changes) => {
    for (const ch of changes) {
      if (ch[1] === null || !ch[0].endsWith('/formula.resolved.toml')) continue;
      const old = /^hash = "([0-9a-f]{64})"$/m.exec(ch[1])?.[1];
      if (old && !lane.hashes.has(old)) lane.hashes.set(old, hashOf(ch[1]));
    }
    for (const ch of changes)
      if (ch[1] !== null) for (const [o, n] of lane.hashes) ch[1] = ch[1].split(o).join(n);
    return changes;
  };

  // Lanes of molecules in flight; each step picks a lane (or a padding commit) at random.
  const lanes = [];
  let next = 0;
  let made = 0;
  while (next < plan.length || lanes.length > 0 || padding > 0) {
    while (lanes.length < LANES && next < plan.length) {
      const i = next++;
      const kind = plan[i];
      lanes.push({
        kind,
        step: 0,
        values: {
          [proto.lifecycles[kind].id]: `h${String(i).padStart(5, '0')}`,
          [PLACEHOLDER.issue]: `ISS-${20000 + i}`,
          [PLACEHOLDER.agent]: agentName(1 + rng.int(AGENTS)),
        },
        shas: new Map(),
        hashes: new Map(),
      });
    }
    const pick = rng.int(lanes.length + (padding > 0 ? 1 : 0));
    if (pick === lanes.length) {
      padding--;
      const agent = agentName(1 + rng.int(AGENTS));
      commit('agent', agent, `chore: tidy ${agent}'s notes\n`, [
        [`notes/${agent}.md`, `tidied at commit ${mark + 1}\n`],
      ]);
      continue;
    }
    const lane = lanes[pick];
    const c = proto.lifecycles[lane.kind].commits[lane.step++];
    const keys = [...Object.keys(lane.values), ...lane.shas.keys()];
    const pattern = new RegExp(keys.join('|'), 'g');
    const subst = (text) => text.replace(pattern, (k) => lane.values[k] ?? lane.shas.get(k));
    const n = commit(
      c.who,
      lane.values[PLACEHOLDER.agent],
      subst(c.message),
      rehash(
        lane,
        c.changes.map(([path, text]) => [subst(path), text === null ? null : subst(text)]),
      ),
    );
    // A later commit of this lifecycle may name this one (a fact recorded from its trailer).
    if (c.who !== 'engine') lane.shas.set(c.sha, await fi.mark(n));
    if (lane.step === proto.lifecycles[lane.kind].commits.length) {
      lanes.splice(pick, 1);
      made++;
    }
  }
  await fi.end();
  git(repo, ['reset', '-q', '--hard', 'main']);
  const count = Number(git(repo, ['rev-list', '--count', 'HEAD']).trim());
  if (count !== commits) throw new Error(`history generator made ${count} commits, not ${commits}`);
  return {
    commits: count,
    molecules: made,
    head: git(repo, ['rev-parse', 'HEAD']).trim(),
    tree: git(repo, ['rev-parse', 'HEAD^{tree}']).trim(),
    prototypes: proto.fingerprint,
  };
}

/** A cached history repository: `{ dir, meta }`, generated when missing or made by another engine. */
export async function historyRepo({ commits, seed = 1, log = () => {} }) {
  const key = `history-v${HISTORY_VERSION}-n${commits}-s${seed}`;
  const home = join(CACHE_ROOT, key);
  const metaFile = join(home, 'meta.json');
  const proto = prototypeHistoryOnce(CACHE_ROOT, log);
  if (existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    if (meta.prototypes === proto.fingerprint) return { dir: join(home, 'repo'), meta, cached: true };
  }
  rmSync(home, { recursive: true, force: true });
  const staging = join(CACHE_ROOT, `${key}.tmp-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const t0 = performance.now();
  const meta = { commits, seed, generator: HISTORY_VERSION };
  Object.assign(meta, await generateHistory(join(staging, 'repo'), { commits, seed, log }));
  meta.ms = Math.round(performance.now() - t0);
  writeFileSync(join(staging, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  renameSync(staging, home);
  return { dir: join(home, 'repo'), meta, cached: false };
}
