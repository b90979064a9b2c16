// git for the generators and benches: the real binary, argument arrays, no user or system config.
import { spawnSync } from 'node:child_process';

/** Environment isolated from the user's git config, without colour. */
export const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  NO_COLOR: '1',
};

/** `git` identity variables for `name <email>`, at `date` when given (ISO 8601). */
export function identity(name, email, date) {
  return {
    GIT_AUTHOR_NAME: name,
    GIT_AUTHOR_EMAIL: email,
    GIT_COMMITTER_NAME: name,
    GIT_COMMITTER_EMAIL: email,
    ...(date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}),
  };
}

/** Runs git in `cwd`; throws with its stderr on a non-zero exit; returns stdout. */
export function git(cwd, args, { env = {}, input } = {}) {
  const r = spawnSync('git', args, {
    cwd,
    env: { ...GIT_ENV, ...env },
    encoding: 'utf8',
    input,
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} (in ${cwd}) exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}
