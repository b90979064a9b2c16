// When a checkpoint is overdue: its human gate's timeout counted from the committer time of the
// commit that first added its request file. Until that commit exists the clock has not started
// (engine-made files carry no wall-clock time). The engine's timeouts, `doctor` and
// `checkpoint list` all judge a deadline here.
import { type Deadline, evaluateDeadline } from '../gates/waits.js';
import { firstCommitTime } from './authors.js';

/** When the clock of the request at `repoRelPath` started; undefined while it is not committed. */
export function requestCommittedAt(root: string, repoRelPath: string): Promise<Date | undefined> {
  return firstCommitTime(root, repoRelPath);
}

/** The deadline of a checkpoint under `timeout` whose request was committed at `requestedAt`. */
export function checkpointDeadline(timeout: string, requestedAt: Date | undefined, now: Date): Deadline {
  return evaluateDeadline(timeout, requestedAt, now);
}
