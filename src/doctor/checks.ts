// `gastown doctor`'s checks: each a pure function from gathered facts to findings. Gathering
// (git, the file system) is in gather.ts; printing is in the command.

export type Level = 'ok' | 'info' | 'warn' | 'error';

export interface Finding {
  /** Stable id, e.g. `hooks`, `files`, `lock`. */
  check: string;
  level: Level;
  message: string;
  /** What to do about it. */
  hint?: string;
  /** `doctor --fix` can fix this one. */
  fixable?: boolean;
}

export interface HookFact {
  hook: string;
  installed: boolean;
  runnable: boolean;
}

export interface DoctorFacts {
  git: { text: string; parts: number[] };
  root: string;
  beadsExists: boolean;
  hooks?: {
    mode: 'husky' | 'native' | 'none';
    dir: string;
    hooks: HookFact[];
    runnerPresent: boolean;
    /** The installed runner is the one this gastown would install; absent: not looked at. */
    runnerCurrent?: boolean;
    runnerFile: string;
    node?: string;
    nodeReachable: boolean;
    cli?: string;
    cliPresent: boolean;
  };
  nodeOnPath: boolean;
  /** Every problem found validating `.beads/` files (formulas, checkpoints, TOML). */
  fileProblems: { file: string; location: string; message: string }[];
  filesChecked: number;
  molecules: { id: string; file: string; formula?: string; formulaKnown: boolean; after?: string }[];
  lock?: {
    pid?: number;
    host?: string;
    started?: string;
    alive: boolean;
    sameHost: boolean;
    /** Why the holder is not running (gone, its pid reused, not gastown). */
    why?: string;
    /** A live process that is not gastown (by its command line). */
    foreign?: boolean;
    /** The lock path is not a regular file: what it is (`a directory`, `a symbolic link`). */
    special?: string;
  };
  shallow: boolean;
  /** Checkpoints still pending past their deadline; undefined when not looked at. */
  overdue?: OverdueCheckpoint[];
  /**
   * What folding and auditing each molecule found (fields that contradict the file name, unknown
   * steps, facts no gate backs, conflicts); undefined when not looked at.
   */
  moleculeProblems?: { molecule: string; file: string; message: string }[];
  /** How many molecules were audited. */
  moleculesAudited?: number;
}

export interface OverdueCheckpoint {
  molecule: string;
  /** Checkpoint id (`review`, `review.attempt-2`). */
  checkpoint: string;
  /** Repo-relative request file. */
  file: string;
  /** ISO time the deadline passed. */
  deadline: string;
  /** How long ago, e.g. `1h30m`. */
  overdueBy: string;
  timeout: string;
  /** The gate's `on_timeout`. */
  onTimeout: string;
  /** The timeout is recorded already (`events/<step>.<n>.timed-out.toml`). */
  timedOut: boolean;
}

export const MIN_GIT = [2, 25, 0];
export const RECOMMENDED_GIT = [2, 39, 0];

function atLeast(have: number[], want: number[]): boolean {
  for (let i = 0; i < want.length; i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

export function checkGit(f: DoctorFacts): Finding[] {
  const v = f.git.parts.join('.');
  if (f.git.parts.length === 0)
    return [{ check: 'git', level: 'error', message: `cannot read the git version (${f.git.text})` }];
  if (!atLeast(f.git.parts, MIN_GIT)) {
    return [
      {
        check: 'git',
        level: 'error',
        message: `git ${v} is too old`,
        hint: `install git ${MIN_GIT.join('.')} or newer`,
      },
    ];
  }
  if (!atLeast(f.git.parts, RECOMMENDED_GIT)) {
    return [
      {
        check: 'git',
        level: 'warn',
        message: `git ${v} works, but gastown is tested with ${RECOMMENDED_GIT.join('.')}+`,
      },
    ];
  }
  return [{ check: 'git', level: 'ok', message: `git ${v}` }];
}

export function checkBeads(f: DoctorFacts): Finding[] {
  return f.beadsExists
    ? [{ check: 'beads', level: 'ok', message: '.beads/ present' }]
    : [{ check: 'beads', level: 'error', message: `no .beads/ in ${f.root}`, hint: 'run `gastown init`' }];
}

export function checkHooks(f: DoctorFacts): Finding[] {
  const h = f.hooks;
  if (!h || h.mode === 'none') {
    return [
      {
        check: 'hooks',
        level: 'warn',
        message:
          'git hooks are not installed: transitions happen only on `gastown advance`, `gastown watch` or CI',
        hint: 'run `gastown hooks install`',
      },
    ];
  }
  const out: Finding[] = [];
  const missing = h.hooks.filter((x) => !x.installed).map((x) => x.hook);
  const notRunnable = h.hooks.filter((x) => x.installed && !x.runnable).map((x) => x.hook);
  if (missing.length > 0) {
    out.push({
      check: 'hooks',
      level: 'error',
      message: `hooks missing in ${h.dir}: ${missing.join(', ')}`,
      hint: 'run `gastown hooks install`',
    });
  }
  if (notRunnable.length > 0) {
    out.push({
      check: 'hooks',
      level: 'error',
      message: `git will not run ${notRunnable.join(', ')} (${h.mode === 'husky' ? 'husky stub missing in .husky/_' : 'not executable'})`,
      hint: h.mode === 'husky' ? 'run `npx husky`' : 'run `gastown hooks install`',
    });
  }
  if (!h.runnerPresent) {
    out.push({
      check: 'hooks',
      level: 'error',
      message: `hook runner missing in this clone (${h.runnerFile})`,
      hint: 'run `gastown hooks install`',
    });
  }
  if (h.runnerPresent && h.runnerCurrent === false) {
    out.push({
      check: 'hooks',
      level: 'warn',
      message: `hook runner ${h.runnerFile} is not the one this gastown installs (an older version?)`,
      hint: 'run `gastown hooks install`',
    });
  }
  if (out.length === 0)
    out.push({ check: 'hooks', level: 'ok', message: `${h.mode} hooks installed in ${h.dir}` });
  return out;
}

export function checkNode(f: DoctorFacts): Finding[] {
  const h = f.hooks;
  if (!h || h.mode === 'none' || !h.runnerPresent) return [];
  if (h.nodeReachable && h.cliPresent)
    return [{ check: 'node', level: 'ok', message: `hooks run ${h.node} ${h.cli}` }];
  if (f.nodeOnPath) {
    return [
      {
        check: 'node',
        level: 'warn',
        message: `hooks recorded ${!h.nodeReachable ? `node ${h.node ?? '?'}` : `the CLI ${h.cli ?? '?'}`}, which is gone; they fall back to PATH`,
        hint: 'run `gastown hooks install` to record the current paths',
      },
    ];
  }
  return [
    {
      check: 'node',
      level: 'error',
      message: 'hooks cannot find node (recorded path gone, none on PATH): they warn and do nothing',
      hint: 'install node, then run `gastown hooks install`',
    },
  ];
}

export function checkFiles(f: DoctorFacts): Finding[] {
  if (!f.beadsExists) return [];
  if (f.fileProblems.length === 0)
    return [{ check: 'files', level: 'ok', message: `${f.filesChecked} .beads/ file(s) valid` }];
  return f.fileProblems.map((p) => ({
    check: 'files',
    level: 'error' as const,
    message: `${p.location}: ${p.message}`,
  }));
}

export function checkReferences(f: DoctorFacts): Finding[] {
  const ids = new Set(f.molecules.map((m) => m.id));
  const out: Finding[] = [];
  for (const m of f.molecules) {
    if (m.formula !== undefined && !m.formulaKnown) {
      out.push({
        check: 'references',
        level: 'warn',
        message: `${m.file}: formula \`${m.formula}\` is not in .beads/formulas/ or the built-ins (the molecule runs from its frozen copy)`,
      });
    }
    if (m.after !== undefined && !ids.has(m.after)) {
      out.push({
        check: 'references',
        level: 'error',
        message: `${m.file}: after: no molecule \`${m.after}\``,
        hint: 'create it or fix `after`',
      });
    }
  }
  if (out.length === 0 && f.molecules.length > 0) {
    out.push({
      check: 'references',
      level: 'ok',
      message: `${f.molecules.length} molecule(s): every reference resolves`,
    });
  }
  return out;
}

export function checkMolecules(f: DoctorFacts): Finding[] {
  if (!f.moleculeProblems) return [];
  // A file the file check rejects already is reported once, there.
  const reported = new Set(f.fileProblems.map((p) => p.file));
  const problems = f.moleculeProblems.filter((p) => !reported.has(p.file));
  if (problems.length === 0) {
    const n = f.moleculesAudited ?? 0;
    return n > 0 ? [{ check: 'molecules', level: 'ok', message: `${n} molecule(s): every fact stands` }] : [];
  }
  return problems.map((p) => ({
    check: 'molecules',
    level: 'error' as const,
    message: `${p.file}: ${p.message}`,
    hint: `\`gastown molecule status ${p.molecule}\` shows the molecule`,
  }));
}

export function checkOverdue(f: DoctorFacts): Finding[] {
  if (!f.overdue) return [];
  if (f.overdue.length === 0)
    return [{ check: 'checkpoints', level: 'ok', message: 'no checkpoint is overdue' }];
  return f.overdue.map((o) => ({
    check: 'checkpoints',
    level: 'warn' as const,
    message: `${o.molecule}: checkpoint ${o.checkpoint} is overdue by ${o.overdueBy} (timeout ${o.timeout}, due ${o.deadline}; ${o.file})`,
    hint: o.timedOut
      ? `its timeout was recorded (on_timeout: ${o.onTimeout}); it still waits for a decision`
      : `decide it, or run \`gastown advance\` to apply on_timeout (${o.onTimeout})`,
  }));
}

export function checkLock(f: DoctorFacts): Finding[] {
  const l = f.lock;
  if (!l) return [];
  const who = `pid ${l.pid ?? '?'} on ${l.host ?? '?'}${l.started ? ` since ${l.started}` : ''}`;
  if (l.special !== undefined) {
    return [
      {
        check: 'lock',
        level: 'error',
        message: `.beads/.cache/lock is ${l.special}, not a lock file: every command that writes stops on it`,
        hint:
          l.special === 'a directory'
            ? 'run `gastown doctor --fix` (it removes an empty directory), or remove it by hand'
            : 'run `gastown doctor --fix`',
        fixable: true,
      },
    ];
  }
  if (l.foreign) {
    return [
      {
        check: 'lock',
        level: 'error',
        message: `.beads/.cache/lock names a process that is not gastown (${l.why}; ${who}): every command that writes waits for it, then gives up`,
        hint: 'run `gastown doctor --fix` if no gastown command is running',
        fixable: true,
      },
    ];
  }
  if (l.pid === undefined) {
    return [
      {
        check: 'lock',
        level: 'error',
        message: '.beads/.cache/lock is unreadable',
        hint: 'run `gastown doctor --fix`',
        fixable: true,
      },
    ];
  }
  if (l.sameHost && !l.alive) {
    return [
      {
        check: 'lock',
        level: 'error',
        message: `.beads/.cache/lock left by a dead process (${who}${l.why ? `: ${l.why}` : ''})`,
        hint: 'run `gastown doctor --fix`',
        fixable: true,
      },
    ];
  }
  if (!l.sameHost)
    return [{ check: 'lock', level: 'warn', message: `.beads/.cache/lock held by another host (${who})` }];
  return [{ check: 'lock', level: 'info', message: `a gastown process is working right now (${who})` }];
}

export function checkShallow(f: DoctorFacts): Finding[] {
  return f.shallow
    ? [
        {
          check: 'shallow',
          level: 'info',
          message:
            'shallow clone: reconcile works, but who approved a checkpoint cannot be told past the edge of its history (fetch more, e.g. fetch-depth: 0 in CI, for approvals to be judged)',
        },
      ]
    : [];
}

export const CHECKS = [
  checkGit,
  checkBeads,
  checkHooks,
  checkNode,
  checkFiles,
  checkReferences,
  checkMolecules,
  checkOverdue,
  checkLock,
  checkShallow,
];

export function runChecks(f: DoctorFacts): Finding[] {
  return CHECKS.flatMap((c) => c(f));
}

export function worstLevel(findings: readonly Finding[]): Level {
  const order: Level[] = ['ok', 'info', 'warn', 'error'];
  return findings.reduce<Level>((w, x) => (order.indexOf(x.level) > order.indexOf(w) ? x.level : w), 'ok');
}
