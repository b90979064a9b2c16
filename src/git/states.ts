// The "git is in the middle of something" rule: the state files git keeps in a worktree's git
// directory while a rebase, merge, cherry-pick or revert is under way. During any of them
// gastown neither reconciles from a hook nor commits, and trusts no cached name-only key (files
// may hold conflict markers under unchanged names). hooks/runner.sh repeats this list; a test
// (test/git/states.test.ts) pins the copy to this one.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type Operation = 'rebase' | 'merge' | 'cherry-pick' | 'revert' | 'sequence';

/**
 * State file or folder → the operation it means, first match wins. `REBASE_HEAD` is left out: git
 * writes it only inside a rebase, which `rebase-merge`/`rebase-apply` already mark, and older git
 * could leave it behind after the rebase ended, which would stop hooks for good.
 */
export const OPERATION_STATES: readonly (readonly [file: string, op: Operation])[] = [
  ['rebase-merge', 'rebase'],
  ['rebase-apply', 'rebase'],
  ['MERGE_HEAD', 'merge'],
  ['CHERRY_PICK_HEAD', 'cherry-pick'],
  ['REVERT_HEAD', 'revert'],
  ['sequencer', 'sequence'],
];

/** What git is in the middle of in the worktree whose git directory is `gitDir`. */
export function operationInProgress(gitDir: string): Operation | undefined {
  for (const [file, op] of OPERATION_STATES) if (existsSync(join(gitDir, file))) return op;
  return undefined;
}
