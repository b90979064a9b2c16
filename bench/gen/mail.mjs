// Mail for the mail suite: 10,000 messages over 100 addresses, one file per message at
// `.beads/mail/<address>/<ULID>.md` (DESIGN.md's sketch).
//
// NOT WRITTEN YET: the mail format is being designed now. Once `gastown mail` lands, fill in
// `generateMail` the way bench/gen/molecules.mjs does molecules: send a few messages with the
// engine's own writer in a scratch repository (prototypes), then copy them under seeded ids,
// addresses and ULIDs (`seededUlid` below), and commit with one `git add` / `git commit`.
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID for `ms` whose random part comes from `rng` (bench/gen/prng.mjs `prng`): the same seed, the same ids. */
export function seededUlid(ms, rng) {
  let time = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let random = '';
  for (let i = 0; i < 16; i++) random += CROCKFORD[rng.int(32)];
  return time + random;
}

/** The addresses messages go to: `agent-001` … `agent-100` by default. */
export const mailAddresses = (n = 100) =>
  Array.from({ length: n }, (_, i) => `agent-${String(i + 1).padStart(3, '0')}`);

/**
 * Writes `messages` messages over `addresses` addresses into `repo`. Not available until the mail
 * format exists (see the top of this file).
 */
export function generateMail(_repo, { messages = 10000, addresses = 100, seed = 1 } = {}) {
  throw new Error(
    `bench/gen/mail.mjs cannot generate ${messages} messages over ${addresses} addresses (seed ${seed}) yet: the mail format (.beads/mail/<address>/<ULID>.md) has not landed; fill in generateMail`,
  );
}
