#!/bin/sh
# gastown hook runner. `gastown hooks install` copies this file to <git-common-dir>/gastown/runner.sh
# with the two paths below filled in, and adds a marked block to each git hook that calls it:
#   sh <runner> <hook-name> [hook arguments...]
# It must never break git: post-* hooks always exit 0; pre-commit exits 1 only when gastown's
# validator refused the staged .beads/ files. Plain POSIX sh; it starts Node only when the event
# can matter to gastown (a .beads/ path changed or a Gastown- trailer is present).
GASTOWN_NODE='@NODE@'
GASTOWN_CLI='@CLI@'

hook=${1-}
[ $# -gt 0 ] && shift

# Only ever this runner's own reading of HEAD (below), never one inherited from elsewhere.
unset GASTOWN_HEAD_LOG
staged=${GASTOWN_STAGED-}
unset GASTOWN_STAGED
# Switched off for this command, or we are already inside gastown.
[ "${GASTOWN_HOOKS-}" = 0 ] && exit 0
[ -n "${GASTOWN_HOOK_ACTIVE-}" ] && exit 0

warn() { printf 'gastown: %s\n' "$*" >&2; }
# The action-trailer key test of src/engine/trailers.ts (ACTION_TRAILER_GREP), or a .beads/ path;
# test/triggers/runner-rules.test.ts pins both copies here to it.
relevant() { grep -qiE '^(gastown-(done|fail|start)[[:blank:]]*:|\.beads/)'; }
nl='
'
# The same test as `relevant` on a string, without starting grep on the common post-commit path;
# only a line starting `gastown-` not settled by the patterns is handed to grep.
relevant_text() {
  case "$nl$1" in
  *"$nl"[.][Bb][Ee][Aa][Dd][Ss]/* | *"$nl"[Gg][Aa][Ss][Tt][Oo][Ww][Nn]-[Dd][Oo][Nn][Ee]:* | \
    *"$nl"[Gg][Aa][Ss][Tt][Oo][Ww][Nn]-[Ff][Aa][Ii][Ll]:* | \
    *"$nl"[Gg][Aa][Ss][Tt][Oo][Ww][Nn]-[Ss][Tt][Aa][Rr][Tt]:*) return 0 ;;
  *"$nl"[Gg][Aa][Ss][Tt][Oo][Ww][Nn]-*) printf '%s\n' "$1" | relevant ;;
  *) return 1 ;;
  esac
}

# Fast path: one git plumbing call decides whether Node is needed at all.
input=
case $hook in
pre-commit)
  # The hook's block asks the same first (GASTOWN_STAGED=1: it found something staged).
  if [ "$staged" != 1 ]; then
    git diff --cached --quiet -- .beads 2>/dev/null && exit 0
  fi ;;
post-commit)
  # What Node needs of HEAD in the same call (id, tree, author, message, then a \001 line and the
  # names), handed over as GASTOWN_HEAD_LOG below: two git calls fewer in Node. The hook's block
  # has read it already and passes it as the argument (HEAD_LOG_COMMAND of src/triggers/sections.ts).
  if [ -n "${1-}" ]; then
    head_log=$1
  else
    head_log=$(git log -1 -m --first-parent --name-only --format='%H%n%T%n%an%n%ae%n%B%n%x01' HEAD -- 2>/dev/null) || exit 0
  fi
  set --
  relevant_text "$head_log" || exit 0 ;;
post-merge)
  # A squash merge ($1 = 1) made no commit; the next commit's hook reconciles.
  [ "${1-0}" = 1 ] && exit 0
  # Node is needed when the merge changed .beads/ or brought commits with action trailers.
  if git diff --quiet ORIG_HEAD HEAD -- .beads 2>/dev/null; then
    git log --no-merges --format=%B ORIG_HEAD..HEAD -- 2>/dev/null | relevant || exit 0
  fi ;;
post-checkout)
  # Only branch checkouts between two real commits (not file checkouts, clones, new worktrees).
  [ "${3-0}" = 1 ] || exit 0
  case ${1-0} in *[!0]*) ;; *) exit 0 ;; esac
  git diff --quiet "$1" "$2" -- .beads 2>/dev/null && exit 0 ;;
post-rewrite)
  # An amend already ran post-commit for the new commit; only a finished rebase matters here.
  [ "${1-}" = rebase ] || exit 0
  input=$(mktemp 2>/dev/null) || exit 0
  cat >"$input"
  cut -d' ' -f2 "$input" | git log --stdin --no-walk -m --first-parent --name-only --format=%B -- 2>/dev/null | relevant || {
    rm -f "$input"
    exit 0
  } ;;
*)
  exit 0 ;;
esac

# Guards: never in the middle of a rebase, merge, cherry-pick or revert (post-rewrite runs as a
# rebase finishes, before git removes its state, and is the one place a rebase is handled). The
# state files are OPERATION_STATES of src/git/states.ts; a test pins this copy to it.
if [ "$hook" != pre-commit ] && [ "$hook" != post-rewrite ]; then
  # Where the repository is, for the guards below and for Node (GASTOWN_REPO_PATHS: top level,
  # git dir, common dir). git runs a hook at the top of the working tree; with no GIT_DIR,
  # GIT_WORK_TREE or GIT_COMMON_DIR given, a `.git` folder there (not a link, not a linked
  # worktree's file) is the git dir and the common dir, and no git process is needed.
  if [ -z "${GIT_DIR-}${GIT_WORK_TREE-}${GIT_COMMON_DIR-}" ] && [ -d .git ] && [ ! -L .git ] && cd -P . 2>/dev/null; then
    gitdir=$PWD/.git
    repo=$PWD$nl$gitdir$nl$gitdir
  else
    repo=$(git rev-parse --show-toplevel --absolute-git-dir --git-common-dir 2>/dev/null) || exit 0
    rest=${repo#*"$nl"}
    gitdir=${rest%%"$nl"*}
  fi
  ops='rebase-merge rebase-apply CHERRY_PICK_HEAD REVERT_HEAD sequencer'
  # post-merge runs once the merge commit is made, while git still keeps MERGE_HEAD.
  [ "$hook" = post-merge ] || ops="$ops MERGE_HEAD"
  for f in $ops; do
    [ -e "$gitdir/$f" ] && exit 0
  done
  GASTOWN_REPO_PATHS=$repo
  export GASTOWN_REPO_PATHS
fi
# Well under the kernel's 128 KiB limit on one environment string (a commit touching thousands
# of files is read again by Node instead).
if [ -n "${head_log-}" ] && [ ${#head_log} -le 30000 ]; then
  GASTOWN_HEAD_LOG=$head_log
  export GASTOWN_HEAD_LOG
fi

# Find Node and the CLI: the absolute paths recorded at install time, else what PATH offers.
# Never npx (seconds per commit).
if [ -x "$GASTOWN_NODE" ] && [ -f "$GASTOWN_CLI" ]; then
  set -- "$GASTOWN_NODE" "$GASTOWN_CLI" hook "$hook" "$@"
elif command -v node >/dev/null 2>&1; then
  if [ -f "$GASTOWN_CLI" ]; then
    set -- node "$GASTOWN_CLI" hook "$hook" "$@"
  elif command -v gastown >/dev/null 2>&1; then
    set -- gastown hook "$hook" "$@"
  else
    warn "$hook skipped: gastown is not installed at $GASTOWN_CLI nor on PATH (run \`gastown doctor\`)"
    [ -n "$input" ] && rm -f "$input"
    exit 0
  fi
else
  warn "$hook skipped: node not found (not at $GASTOWN_NODE, not on PATH); run \`gastown advance\` later"
  [ -n "$input" ] && rm -f "$input"
  exit 0
fi

# Node keeps [engine] hook_timeout itself (src/triggers/hook.ts): past it, it stops its reconcile
# and returns, so no watchdog process is needed here.
GASTOWN_HOOK_ACTIVE=1
export GASTOWN_HOOK_ACTIVE
if [ -n "$input" ]; then "$@" <"$input"; else "$@"; fi
code=$?
[ -n "$input" ] && rm -f "$input"

case $code in
0) exit 0 ;;
65) [ "$hook" = pre-commit ] && exit 1 ;; # the validator refused the commit and said why
*) warn "$hook failed (exit $code); git continues (run \`gastown doctor\`)" ;;
esac
exit 0
