// The marked gastown block inside a git hook file, as pure text operations. Installing adds a
// block (or refreshes it) without touching a byte outside it; uninstalling removes it and gives
// back exactly the bytes that were there before. How the block was added is written into its
// first line, so removal needs no other record:
//   created          the file did not exist; uninstall deletes it
//   chained          the block was inserted into an existing shell hook
//   chained-newline  same, and a newline was added after a shebang that had none
//   wrapper          the existing hook is not a shell script: it was renamed to
//                    <hook>.gastown-chained and this new file runs the block, then execs it

export type BlockKind = 'created' | 'chained' | 'chained-newline' | 'wrapper';

export const BLOCK_END = '# <<< gastown <<<';
const BEGIN_RE = /^# >>> gastown \[(created|chained|chained-newline|wrapper)\] >>>.*$/m;
const NOTE = 'managed by `gastown hooks install`; `gastown hooks uninstall` removes it';
export const CHAINED_SUFFIX = '.gastown-chained';

export interface BlockSpec {
  hook: string;
  /** A shell expression for the runner's path (already quoted as needed). */
  runner: string;
  /** Print a one-line warning when the runner is missing (native hooks) or stay quiet (husky, shared). */
  warnIfMissing: boolean;
}

/** Exits 0 when nothing under .beads/ is staged (the runner's pre-commit test too). */
export const STAGED_BEADS_TEST = 'git diff --cached --quiet -- .beads 2>/dev/null';

/**
 * HEAD as the post-commit runner and Node read it: id, tree, author name and email, the message,
 * a line holding only \x01, then the names (src/triggers/hook.ts headFromRunner).
 */
export const HEAD_LOG_COMMAND =
  "git log -1 -m --first-parent --name-only --format='%H%n%T%n%an%n%ae%n%B%n%x01' HEAD --";
/** Characters of that log handed on (an argument or an environment string is limited to 128 KiB). */
export const HEAD_LOG_MAX = 30000;

/** The shell lines of the block (without markers). */
export function blockBody(spec: BlockSpec): string {
  const missing = spec.warnIfMissing
    ? ` else echo "gastown: hook runner $__gastown_runner is missing; run \\\`gastown hooks install\\\`" >&2;`
    : '';
  const lines = [`__gastown_runner=${spec.runner}`];
  if (spec.hook === 'post-rewrite') {
    // git gives post-rewrite the rewritten commits on stdin; keep a copy so the rest of this
    // hook (the user's part) still reads them.
    lines.push(
      `if [ -f "$__gastown_runner" ] && __gastown_in=$(mktemp 2>/dev/null); then cat >"$__gastown_in"; /bin/sh "$__gastown_runner" ${spec.hook} "$@" <"$__gastown_in"; exec <"$__gastown_in"; rm -f "$__gastown_in";${missing} fi`,
    );
  } else if (spec.hook === 'pre-commit') {
    // The runner's own first test, asked here so a commit with nothing staged under .beads/
    // starts no runner shell; GASTOWN_STAGED tells the runner it was asked. STAGED_BEADS_TEST
    // is pinned to src/git/repo.ts stagedChanges by test/triggers/runner-rules.test.ts.
    lines.push(
      `if [ -f "$__gastown_runner" ]; then if ! ${STAGED_BEADS_TEST}; then GASTOWN_STAGED=1 /bin/sh "$__gastown_runner" ${spec.hook} "$@"; if [ $? -eq 1 ]; then exit 1; fi; fi;${missing} fi`,
    );
  } else if (spec.hook === 'post-commit') {
    // The runner's `git log` of HEAD, asked here: only a commit whose log mentions `gastown-` or
    // `.beads/` anywhere (a superset of the runner's test, pinned by runner-rules.test.ts) starts
    // the runner, which takes the log as its argument instead of asking git again.
    lines.push(
      `if [ -f "$__gastown_runner" ]; then if __gastown_log=$(${HEAD_LOG_COMMAND} 2>/dev/null); then case "$__gastown_log" in *[Gg][Aa][Ss][Tt][Oo][Ww][Nn]-* | *.beads/*) if [ \${#__gastown_log} -gt ${HEAD_LOG_MAX} ]; then __gastown_log=; fi; /bin/sh "$__gastown_runner" ${spec.hook} "$__gastown_log" ;; esac; fi;${missing} fi`,
    );
  } else {
    // Only the runner's deliberate refusal (exit 1, from pre-commit) stops git; anything else
    // going wrong here must not.
    lines.push(
      `if [ -f "$__gastown_runner" ]; then /bin/sh "$__gastown_runner" ${spec.hook} "$@"; if [ $? -eq 1 ]; then exit 1; fi;${missing} fi`,
    );
  }
  return lines.join('\n') + '\n';
}

export function renderBlock(kind: BlockKind, spec: BlockSpec): string {
  return `# >>> gastown [${kind}] >>> ${NOTE}\n${blockBody(spec)}${BLOCK_END}\n`;
}

export interface FoundBlock {
  kind: BlockKind;
  /** Offset of the first byte of the begin marker line. */
  start: number;
  /** Offset just past the end marker line (and its newline when there is one). */
  end: number;
}

export function findBlock(content: string): FoundBlock | undefined {
  const m = BEGIN_RE.exec(content);
  if (!m) return undefined;
  const start = m.index;
  const endAt = content.indexOf(BLOCK_END, start);
  if (endAt < 0) return undefined;
  let end = endAt + BLOCK_END.length;
  if (content[end] === '\n') end++;
  return { kind: m[1] as BlockKind, start, end };
}

/** A file git would run with sh (no shebang, or a POSIX-family shell), so a block can go inside. */
export function isShellScript(content: string): boolean {
  if (!content.startsWith('#!')) return true;
  const first = content.slice(2, content.indexOf('\n') < 0 ? undefined : content.indexOf('\n')).trim();
  const words = first.split(/\s+/);
  let prog = (words[0] ?? '').split('/').pop() ?? '';
  if (prog === 'env') prog = (words.slice(1).find((w) => !w.startsWith('-')) ?? '').split('/').pop() ?? '';
  return ['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'mksh', 'posh'].includes(prog);
}

export type InsertResult =
  | { action: 'create' | 'chain' | 'update' | 'unchanged'; content: string }
  /** Move the existing file to `<hook>.gastown-chained`, then write `content` as the hook. */
  | { action: 'wrap'; content: string };

/** Adds (or refreshes) the block in a hook file's content. `existing` undefined: no such file. */
export function insertBlock(existing: string | undefined, spec: BlockSpec): InsertResult {
  if (existing === undefined)
    return { action: 'create', content: `#!/bin/sh\n${renderBlock('created', spec)}` };
  const found = findBlock(existing);
  if (found) {
    // A wrapper is wholly ours: regenerate it. Elsewhere only the block's own lines change.
    const content =
      found.kind === 'wrapper'
        ? existing.slice(0, found.start) + renderBlock('wrapper', spec) + wrapperTail(spec.hook)
        : existing.slice(0, found.start) + renderBlock(found.kind, spec) + existing.slice(found.end);
    return { action: content === existing ? 'unchanged' : 'update', content };
  }
  if (!isShellScript(existing)) {
    return { action: 'wrap', content: `#!/bin/sh\n${renderBlock('wrapper', spec)}${wrapperTail(spec.hook)}` };
  }
  if (existing.startsWith('#!')) {
    const nl = existing.indexOf('\n');
    if (nl < 0) return { action: 'chain', content: `${existing}\n${renderBlock('chained-newline', spec)}` };
    return {
      action: 'chain',
      content: existing.slice(0, nl + 1) + renderBlock('chained', spec) + existing.slice(nl + 1),
    };
  }
  return { action: 'chain', content: renderBlock('chained', spec) + existing };
}

function wrapperTail(hook: string): string {
  return `exec "$(dirname "$0")/${hook}${CHAINED_SUFFIX}" "$@"\n`;
}

export type RemoveResult =
  | { action: 'none' }
  /** Write `content` back (the bytes from before install). */
  | { action: 'restore'; content: string }
  /** Delete the file (we created it). */
  | { action: 'delete' }
  /** Delete the wrapper and move `<hook>.gastown-chained` back. */
  | { action: 'unwrap' };

export function removeBlock(content: string): RemoveResult {
  const found = findBlock(content);
  if (!found) return { action: 'none' };
  if (found.kind === 'created') return { action: 'delete' };
  if (found.kind === 'wrapper') return { action: 'unwrap' };
  let before = content.slice(0, found.start);
  if (found.kind === 'chained-newline' && before.endsWith('\n')) before = before.slice(0, -1);
  return { action: 'restore', content: before + content.slice(found.end) };
}
